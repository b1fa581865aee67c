"""Time to load the reference library: what start-up costs.

* first run: an empty user cache; the shipped seed (chem/data/standardized-seed.json) answers
  for the bundled structures when it matches the running RDKit, else everything is
  standardized from scratch (``--no-seed`` forces that: minutes, the tautomer search of
  every structure);
* cached: the same, through the standardization cache ``ews library load`` and ``ews match`` keep;
* service: what ``ews serve`` does at start — the library index built from the database
  (standardized SMILES stored by ``ews library load``).

Run: ``python -m bench.library_load [--no-seed]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlmodel import Session

import chem.library
from chem.library import ReferenceLibrary
from ews.db import engine_for
from ews.migrate import upgrade
from ews.services.library import library_from_db, load_bundled


def timed(action) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-seed", action="store_true", help="ignore the shipped seed: a truly cold start")
    args = parser.parse_args()
    if args.no_seed:
        chem.library._seed_entries.cache_clear()
        chem.library.SEED = "no-such-seed.json"
    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder) / "cache"
        cold, library = timed(lambda: ReferenceLibrary.bundled(cache_dir=cache))
        cached, _ = timed(lambda: ReferenceLibrary.bundled(cache_dir=cache))
        url = f"sqlite:///{folder}/ews.db"
        upgrade(url)
        load_bundled(engine_for(url), cache)
        with Session(engine_for(url)) as session:
            service, _ = timed(lambda: library_from_db(session))
    print(
        f"substances: {len(library.substances)}, family rules: {len(library.families)}, "
        f"generic definitions: {len(library.definitions)}"
    )
    first = "cold (standardize everything):    " if args.no_seed else "first run (shipped seed):         "
    print(f"{first} {cold:6.2f} s")
    print(f"cached standardization:            {cached:6.2f} s")
    print(f"service start (index from the db): {service:6.2f} s   (target < 2 s)")


if __name__ == "__main__":
    main()
