"""Server time of every web page with 10,000 detections and 1,000 alerts in the database.

The database is filled through the models in bulk (no identification: the rows
are what identification would have stored, with the bundled library's real
substances, classes and InChIKeys), then each page route is rendered by a
TestClient several times; the table gives median and p95 per route. Target:
every page under 300 ms of server time.

Run: ``python -m bench.pages [--detections 10000] [--alerts 1000] [--repeat 7] [--database sqlite|postgresql]``.
The same ``populate`` fills the pages for the screenshots and browser tests.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, insert, text

from ews.db import engine_for, session_scope
from ews.models import Alert, AlertDetection, Detection, DetectionComponent, Organisation, new_id

COUNTRIES = ["CO", "MX", "BR", "AR", "CL", "PE", "EC", "US", "CA", "UY", "CR", "PA", "DO", "GT", "BO", "PY"]
SOLD_AS = ["heroin", "cocaine", "ecstasy", "ketamina", "fentanyl", "pills", "crystal", "tusi", "speed", "LSD"]
MAIN = [  # (library id, weight): what the labs of the region report most
    ("cocaine", 30),
    ("heroin", 8),
    ("fentanyl", 10),
    ("mdma", 12),
    ("metamfetamine", 10),
    ("ketamine", 6),
    ("isotonitazene", 3),
    ("metonitazene", 3),
    ("protonitazene", 2),
    ("carfentanil", 1),
    ("mephedrone", 3),
    ("2c-b", 4),
    ("lysergide", 2),
    ("alprazolam", 3),
    ("xylazine", 2),
    ("tramadol", 2),
]
ADULTERANTS = {  # library id: weight, roughly as cutting agents are reported in the region
    "caffeine": 30,
    "levamisole": 25,
    "phenacetin": 12,
    "lidocaine": 10,
    "paracetamol": 8,
    "procaine": 4,
    "diltiazem": 4,
    "hydroxyzine": 3,
    "xylazine": 4,
}
SOLD_FOR = {  # what a seller calls it; opioids of every kind are sold as heroin
    "cocaine": "cocaine",
    "heroin": "heroin",
    "fentanyl": "heroin",
    "isotonitazene": "heroin",
    "metonitazene": "heroin",
    "protonitazene": "heroin",
    "carfentanil": "heroin",
    "mdma": "ecstasy",
    "metamfetamine": "crystal",
    "ketamine": "ketamina",
    "mephedrone": "ecstasy",
    "2c-b": "tusi",
    "lysergide": "LSD",
    "alprazolam": "xanax",
}


def populate(
    engine: Engine, library, detections: int, alerts: int, seed: int = 7, end: date | None = None
) -> None:
    """Fill a migrated database with ``detections`` detections (one to four components each) over the
    24 months before ``end`` and ``alerts`` published alerts linked to some of them."""
    rng = random.Random(seed)
    end = end or datetime.now(UTC).date()
    by_id = library.by_id
    mains = [(by_id[i], w) for i, w in MAIN if i in by_id and by_id[i].standardized]
    weights = [w for _, w in mains]
    analogs = [s for s in library.substances if s.status == "controlled" and s.standardized and s.drug_class][:400]
    cutting = [by_id[i] for i in ADULTERANTS if i in by_id and by_id[i].standardized]
    cutting_weights = [ADULTERANTS[s.id] for s in cutting]
    with session_scope(engine) as db:
        labs = []
        for country in COUNTRIES:
            org = Organisation(name=f"Laboratorio forense {country}", kind="lab", country=country)
            db.add(org)
            labs.append(org)
        db.flush()
        lab_ids = {org.country: org.id for org in labs}
    detection_rows, component_rows = [], []
    first_component: dict[str, dict] = {}
    for n in range(detections):
        country = rng.choice(COUNTRIES)
        seized = end - timedelta(days=rng.randint(0, 730))
        reported = datetime.combine(seized, datetime.min.time(), UTC) + timedelta(hours=rng.randint(12, 24 * 40))
        detection_id = new_id()
        detection_rows.append(
            {
                "id": detection_id,
                "organisation_id": lab_ids[country],
                "external_ref": f"BENCH-{n}",
                "request_hash": "",
                "form": rng.choice(["powder", "tablet", "liquid", "blotter"]),
                "sold_as": None,
                "seized_on": seized,
                "country": country,
                "region": None,
                "techniques": ["GC-MS"],
                "confidence": "confirmed",
                "created_at": reported,
            }
        )
        main = rng.random() < 0.08 and rng.choice(analogs) or rng.choices([m for m, _ in mains], weights)[0]
        chosen = {s.id: s for s in rng.choices(cutting, cutting_weights, k=rng.randint(0, 3)) if s.id != main.id}
        parts = [main, *chosen.values()]
        if rng.random() < 0.7:
            told = SOLD_FOR.get(main.id)
            detection_rows[-1]["sold_as"] = told if told and rng.random() < 0.75 else rng.choice(SOLD_AS)
        for position, substance in enumerate(parts):
            std = substance.standardized
            if position == 0:
                first_component[detection_id] = {"id": new_id()}
            component_rows.append(
                {
                    "id": first_component[detection_id]["id"] if position == 0 else new_id(),
                    "detection_id": detection_id,
                    "detection_created_at": reported,
                    "position": position,
                    "name": substance.name,
                    "input_format": "smiles",
                    "input_text": std.smiles,
                    "std_smiles": std.smiles,
                    "inchikey": std.inchikey,
                    "skeleton_key": std.inchikey[:14],
                    "formula": std.formula,
                    "verdict": substance.status if substance.status in ("controlled", "precursor") else "known",
                    "drug_class": substance.drug_class,
                    "substance_id": substance.id,
                    "substance_name": substance.name,
                    "purity_percent": round(rng.uniform(5, 90), 1) if position == 0 else None,
                    "high_harm": False,
                    "match": {},
                }
            )
            if position == 0:
                first_component[detection_id] = component_rows[-1]
    alert_rows, link_rows = [], []
    linked = rng.sample(range(detections), min(alerts, detections))
    for index in linked:
        detection = detection_rows[index]
        component = first_component[detection["id"]]
        published = detection["created_at"] + timedelta(hours=rng.randint(1, 96))
        alert_id = new_id()
        alert_rows.append(
            {
                "id": alert_id,
                "dedup_key": f"bench:{alert_id}",
                "rule": "new_substance",
                "status": "published",
                "scope": "Public",
                "severity": rng.choice(["Extreme", "Severe", "Moderate", "Minor"]),
                "urgency": "Immediate",
                "certainty": "Observed",
                "event": "New psychoactive substance",
                "headline": f"{component['substance_name']} detected in {detection['country']}",
                "description": "",
                "instruction": "",
                "texts": {},
                "facts": {},
                "drug_class": component["drug_class"],
                "verdict": "analog",
                "substance_key": component["inchikey"],
                "substance_id": component["substance_id"],
                "substance_name": component["substance_name"],
                "inchikey": component["inchikey"],
                "smiles": component["std_smiles"],
                "high_harm": False,
                "countries": [detection["country"]],
                "regions": [],
                "evidence": {},
                "reasons": [],
                "detection_count": 1,
                "version": 1,
                "created_at": detection["created_at"],
                "updated_at": published,
                "published_at": published,
            }
        )
        link_rows.append(
            {
                "alert_id": alert_id,
                "component_id": component["id"],
                "detection_id": detection["id"],
                "country": detection["country"],
                "created_at": detection["created_at"],
            }
        )
    with engine.begin() as connection:
        for table, rows in (
            (Detection, detection_rows),
            (DetectionComponent, component_rows),
            (Alert, alert_rows),
            (AlertDetection, link_rows),
        ):
            for chunk in range(0, len(rows), 2000):
                connection.execute(insert(table.__table__), rows[chunk : chunk + 2000])  # type: ignore[attr-defined]


def _walk(routes, prefix: str = ""):
    """(path, methods) of every route, through included routers (FastAPI may keep them nested)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _walk(inner.routes, prefix + getattr(getattr(route, "include_context", None), "prefix", ""))
        else:
            yield prefix + getattr(route, "path", ""), getattr(route, "methods", None) or set()


def page_routes(app, sample: dict[str, str]) -> list[str]:
    """Every GET page of the app (routes outside /api, /feeds, /static and the machine endpoints),
    with path parameters filled from ``sample``; routes with other parameters are left out."""
    paths = []
    for path, methods in _walk(app.routes):
        if "GET" not in methods or path.startswith(("/api", "/feeds", "/static", "/openapi", "/docs/oauth2")):
            continue
        if path in ("/healthz", "/readyz", "/metrics", "/redoc"):
            continue
        for name, value in sample.items():
            path = path.replace("{" + name + "}", value)
        if "{" not in path:
            paths.append(path)
    return sorted(set(paths))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--detections", type=int, default=10_000)
    parser.add_argument("--alerts", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from ews.app import create_app
    from ews.config import Settings
    from ews.migrate import upgrade
    from ews.services.library import LibraryHolder, load_bundled

    cache = Path(tempfile.gettempdir()) / "ews-bench-cache"
    workdir = Path(tempfile.mkdtemp(prefix="ews-bench-pages-"))
    pg_name = None
    if args.database == "sqlite":
        url = f"sqlite:///{workdir / 'ews.db'}"
    else:
        admin = os.environ.get("EWS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
        pg_name = f"ews_bench_{uuid.uuid4().hex[:8]}"
        with create_engine(admin, isolation_level="AUTOCOMMIT").connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{pg_name}"'))
        url = admin.rsplit("/", 1)[0] + "/" + pg_name
    try:
        upgrade(url)
        load_bundled(engine_for(url), cache)
        library = LibraryHolder(engine_for(url)).get()
        started = time.perf_counter()
        populate(engine_for(url), library, args.detections, args.alerts)
        print(
            f"filled {args.detections} detections and {args.alerts} alerts in {time.perf_counter() - started:.1f} s ({args.database})"
        )
        settings = Settings(database_url=url, cache_dir=cache, node_id="bench", scheduler="off")
        app = create_app(settings)
        with TestClient(app) as client, session_scope(engine_for(url)) as db:
            alert_id = db.exec(text("SELECT id FROM alert WHERE status = 'published' LIMIT 1")).scalar_one()  # type: ignore[call-overload]
            sample = {"alert_id": alert_id, "substance_id": "cocaine"}
            routes = page_routes(app, sample) + [
                "/substances?q=fentanyl",
                "/substances?q=CCN(CC)C(=O)C1CN(C)C2CC3=CNC4=CC=CC(=C34)C2=C1",
                "/dashboard?class=opioid",
                "/alerts?severity=Extreme",
            ]

            def median_of(route: str) -> float:
                client.get(route)
                times = []
                for _ in range(args.repeat):
                    begin = time.perf_counter()
                    client.get(route)
                    times.append((time.perf_counter() - begin) * 1000)
                return statistics.median(times)

            baseline = median_of("/healthz")
            print(f"baseline: GET /healthz {baseline:.1f} ms (the ratio column divides by it)")
            print(f"{'page':60} {'median ms':>10} {'p95 ms':>8} {'ratio':>7} {'status':>7}")
            for route in routes:
                times, status = [], 0
                client.get(route)  # the first request compiles templates and fills caches: not timed
                for _ in range(args.repeat):
                    begin = time.perf_counter()
                    status = client.get(route).status_code
                    times.append((time.perf_counter() - begin) * 1000)
                times.sort()
                p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
                median = statistics.median(times)
                print(f"{route[:60]:60} {median:10.1f} {p95:8.1f} {median / baseline:7.1f} {status:7d}")
            for route in ("/api/v1/dashboard", "/api/v1/indicators"):
                times = []
                for n in range(args.repeat):
                    begin = time.perf_counter()
                    client.get(
                        route, params={"from": f"2019-{n % 12 + 1:02d}"}
                    )  # a new question each time: not cached
                    times.append((time.perf_counter() - begin) * 1000)
                print(
                    f"{route + ' (data behind the charts)':60} {statistics.median(times):10.1f} {max(times):8.1f}"
                )
    finally:
        engine_for(url).dispose()
        if pg_name:
            with create_engine(admin, isolation_level="AUTOCOMMIT").connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
