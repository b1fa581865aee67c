"""Time to load the reference library: what start-up costs.

* cold: the bundled files standardized from scratch (first run, or after an RDKit upgrade);
* cached: the same, through the standardization cache ``ews library load`` and ``ews match`` keep;
* service: what ``ews serve`` does at start — the library index built from the database
  (standardized SMILES stored by ``ews library load``).

Run: ``python -m bench.library_load``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from sqlmodel import Session

from chem.library import ReferenceLibrary
from ews.db import engine_for
from ews.migrate import upgrade
from ews.services.library import library_from_db, load_bundled


def timed(action) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def main() -> None:
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
    print(f"cold (standardize everything):     {cold:6.2f} s")
    print(f"cached standardization:            {cached:6.2f} s")
    print(f"service start (index from the db): {service:6.2f} s   (target < 2 s)")


if __name__ == "__main__":
    main()
