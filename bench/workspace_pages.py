"""Server time of the workspace pages with 10,000 detections and 1,000 alerts (SQLite, in process).

    python -m bench.workspace_pages [--detections 10000] [--alerts 1000] [--repeat 15]

Rows are inserted directly (the chemistry is measured elsewhere): one real match
result is reused for every component, each alert is linked to ten detections,
half the alerts are drafts about Colombia. Prints the median and the 95th
percentile per page; it asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from ews.app import create_app
from ews.config import Settings
from ews.db import engine_for, session_scope
from ews.migrate import upgrade
from ews.models import Alert, AlertDetection, Detection, DetectionComponent, new_id
from ews.services import accounts
from ews.services.admin import create_organisation
from ews.services.library import load_bundled

NITAZENE = "CCCCCOc1ccc(Cc2nc3cc([N+](=O)[O-])ccc3n2CCN2CCCCC2)cc1"


def seed(url: str, detections: int, alerts: int, cache_dir: Path) -> tuple[str, str, str]:
    engine = engine_for(url)
    load_bundled(engine, cache_dir)
    app = create_app(Settings(database_url=url, scheduler="off", cache_dir=cache_dir))
    match = app.state.node.identifier.identify(NITAZENE, "smiles", name=None, jurisdiction="CO")
    rng = random.Random(7)
    with session_scope(engine) as db:
        lab = create_organisation(db, "Lab", "lab", "CO")
        authority = create_organisation(db, "Observatorio", "authority", "CO")
        accounts.create_user(db, lab, "lab@bench.org", password="bench-password-1")
        accounts.create_user(db, authority, "ana@bench.org", password="bench-password-2")
    ids = []
    with session_scope(engine) as db:
        for i in range(detections):
            detection_id = new_id()
            ids.append(detection_id)
            db.add(
                Detection(
                    id=detection_id,
                    organisation_id=lab.id,
                    external_ref=f"B-{i}",
                    country="CO",
                    region=rng.choice(["Antioquia", "Valle del Cauca", "Bogotá"]),
                    form="powder",
                    seized_on=date(2026, 11, 1) - timedelta(days=rng.randrange(700)),
                    case_ref=f"CASE-{i}",
                )
            )
            db.add(
                DetectionComponent(
                    detection_id=detection_id,
                    inchikey=match["standardized"]["inchikey"],
                    skeleton_key=f"K{i % alerts:013d}",
                    formula=match["standardized"]["formula"],
                    std_smiles=match["standardized"]["smiles"],
                    verdict=rng.choice(["analog", "controlled", "known", "no_match"]),
                    drug_class="opioid",
                    match=match,
                )
            )
    alert_ids = []
    with session_scope(engine) as db:
        for i in range(alerts):
            alert = Alert(
                dedup_key=f"bench:{i}",
                rule="new_substance",
                status="draft" if i % 2 else "published",
                severity=rng.choice(["Extreme", "Severe", "Moderate", "Minor"]),
                urgency="Expected",
                certainty="Observed",
                event="New psychoactive substance",
                headline=f"Bench alert {i}",
                substance_key=f"K{i:013d}",
                smiles=match["standardized"]["smiles"],
                countries=["CO"],
                evidence={"matches": match["matches"][:6], "controls": []},
                detection_count=10,
            )
            db.add(alert)
            db.flush()
            alert_ids.append(alert.id)
            for detection_id in ids[i::alerts][:10]:
                db.add(
                    AlertDetection(
                        alert_id=alert.id, component_id=new_id(), detection_id=detection_id, country="CO"
                    )
                )
    return ids[0], alert_ids[1], alert_ids[0]


def timed(client: TestClient, path: str, repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detections", type=int, default=10_000)
    parser.add_argument("--alerts", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        detection_id, draft_id, published_id = seed(url, args.detections, args.alerts, Path(tmp) / "cache")
        settings = Settings(database_url=url, scheduler="off", cache_dir=Path(tmp) / "cache")
        print(f"{args.detections} detections, {args.alerts} alerts; median and p95 of {args.repeat} requests")
        for email, password, pages in (
            (
                "ana@bench.org",
                "bench-password-2",
                [
                    "/review",
                    f"/alerts/{draft_id}",
                    f"/alerts/{published_id}",
                    "/detections",
                    f"/detections/{detection_id}",
                ],
            ),
            ("lab@bench.org", "bench-password-1", ["/submit", "/upload", "/detections", "/detections.csv"]),
        ):
            with TestClient(create_app(settings)) as client:
                page = client.get("/login").text
                token = page.split('name="csrf_token" value="')[1].split('"')[0]
                client.post("/login", data={"email": email, "password": password, "csrf_token": token})
                for path in pages:
                    median, p95 = timed(client, path, args.repeat)
                    print(
                        f"{email.split('@')[0]:>4} {path.split('/0')[0]:<24} median {median:7.1f} ms   p95 {p95:7.1f} ms"
                    )


if __name__ == "__main__":
    main()
