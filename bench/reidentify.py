"""What re-identification costs after a library change, against the identification it repeats.

A fresh database (SQLite or PostgreSQL) with the bundled library receives
detections of distinct unlisted nitazenes (each an Extreme alert, published at
once), each reported a second time by another lab (the cache case). Then a
national list makes a tenth of them controlled and ``reidentify`` runs, as
``ews library import`` runs it. Printed: the time to submit the detections
(identification, rules, alerts), the time to re-identify them all and update
the alerts, and their ratio.

Run: ``python -m bench.reidentify [--database sqlite|postgresql] [--substances 60]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

from bench.alert_latency import database, new_nitazenes
from ews.app import build_node
from ews.auth import KeyCache
from ews.config import Settings
from ews.db import engine_for, session_scope
from ews.migrate import upgrade
from ews.schemas import DetectionIn
from ews.services.admin import create_organisation, issue_key
from ews.services.detections import submit
from ews.services.library import import_list, load_bundled
from ews.services.reidentify import reidentify


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="sqlite")
    parser.add_argument("--substances", type=int, default=60)
    args = parser.parse_args()
    cache = Path.home() / ".cache" / "ews"
    molecules = new_nitazenes(args.substances)
    with tempfile.TemporaryDirectory() as folder:
        url, drop = database(args.database, folder)
        try:
            upgrade(url)
            engine = engine_for(url)
            load_bundled(engine, cache)
            keys = []
            with session_scope(engine) as session:
                for name in ("bench lab A", "bench lab B"):
                    organisation = create_organisation(session, name, "lab", "CO")
                    keys.append(issue_key(session, organisation, None)[1])
            principals = [KeyCache().lookup(engine, key) for key in keys]
            settings = Settings(database_url=url, cache_dir=cache, node_id="bench", alert_update_interval=3600)
            node = build_node(settings)
            started = time.perf_counter()
            for principal in principals:
                for smiles in molecules:
                    payload = DetectionIn.model_validate(
                        {
                            "external_ref": uuid.uuid4().hex,
                            "sample": {"seized_on": "2026-11-01", "country": "CO", "region": "Antioquia"},
                            "components": [{"smiles": smiles}],
                        }
                    )
                    assert principal is not None
                    submit(engine, node.identifier, principal, payload, None, node.detection_listeners)
            submitted = time.perf_counter() - started
            listed = Path(folder) / "national.csv"
            controlled = molecules[: max(1, len(molecules) // 10)]
            listed.write_text(
                "name,smiles,schedule,controlled_since\n"
                + "".join(f"listed-{i},{s},I,2026-12-01\n" for i, s in enumerate(controlled))
            )
            import_list(engine, listed, "CO", cache)
            started = time.perf_counter()
            report = reidentify(engine, settings)
            redone = time.perf_counter() - started
            engine.dispose()
        finally:
            drop()
    detections = len(molecules) * len(principals)
    print(f"database: {args.database}; detections: {detections} ({len(molecules)} distinct structures)")
    print(f"submit (identify, rules, alerts): {submitted:.2f} s")
    print(f"re-identify after a list of {len(controlled)}: {redone:.2f} s — {report.summary()}")
    print(f"re-identify / submit: {redone / submitted:.2f}")


if __name__ == "__main__":
    main()
