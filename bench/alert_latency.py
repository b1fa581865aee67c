"""From a lab's POST to the webhook at the authority: latency, and fan-out under bad endpoints.

`ews serve` (API + scheduler) runs in its own process against a fresh
PostgreSQL database (or SQLite); the webhook receivers run in this process on
loopback.

1. latency: 100 detections, one after another, each of a different unlisted
   nitazene (an Extreme alert, published at once); the time from sending the
   POST to the signed webhook arriving, p50 and p95;
2. fan-out: one Extreme alert to 100 webhook endpoints of which 10 answer
   after 10 s and 10 fail with HTTP 500; the time until the 80 healthy ones
   have it.

Run: ``python -m bench.alert_latency [--database postgresql|sqlite]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from chem.library import ReferenceLibrary
from chem.match import match_text
from ews.db import engine_for, session_scope
from ews.migrate import upgrade
from ews.services.admin import create_organisation, issue_key
from ews.services.library import load_bundled
from tests.support import WebhookReceiver, free_port

ALKOXY = ["C", "CC", "CCC", "CC(C)", "CCCC", "CCCCC", "CCCCCC", "CCCCCCC", "CC(C)C", "C1CC1C"]
AMINES = ["N(CC)CC", "N1CCCC1", "N1CCCCC1", "N(C)C", "N(CCC)CCC", "N1CCOCC1", "N(C)CC", "N1CCCCCC1"]
RING = ["[N+](=O)[O-]", "C(F)(F)F", "Cl", "C#N"]


def new_nitazenes(count: int) -> list[str]:
    """Unlisted 2-benzylbenzimidazoles: each one an analog of a high-harm family."""
    library = ReferenceLibrary.bundled(cache_dir=Path.home() / ".cache" / "ews")
    found = []
    for ring in RING:
        for amine in AMINES:
            for alkoxy in ALKOXY:
                smiles = f"{alkoxy}Oc1ccc(Cc2nc3cc({ring})ccc3n2CC{amine})cc1"
                result = match_text(smiles, library)
                if result.get("verdict") == "analog" and result.get("high_harm"):
                    found.append(smiles)
                if len(found) == count:
                    return found
    return found


def database(kind: str, folder: str) -> tuple[str, callable]:
    if kind == "sqlite":
        return f"sqlite:///{folder}/bench.db", lambda: None
    admin = os.environ.get("EWS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    name = f"ews_bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return admin.rsplit("/", 1)[0] + "/" + name, drop


def prepare(url: str, cache: Path) -> tuple[str, str]:
    upgrade(url)
    engine = engine_for(url)
    load_bundled(engine, cache)
    with session_scope(engine) as session:
        lab = create_organisation(session, "bench lab", "lab", "CO")
        _, lab_key = issue_key(session, lab, None)
        authority = create_organisation(session, "bench authority", "authority", "CO")
        _, authority_key = issue_key(session, authority, None)
    engine.dispose()
    return lab_key, authority_key


def serve(url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "EWS_DATABASE_URL": url,
        "EWS_NODE_ID": "bench",
        "EWS_ALLOW_LOOPBACK_WEBHOOKS": "true",
        "EWS_BASE_URL": f"http://127.0.0.1:{port}",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "ews.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("ews serve did not start")


def detection(smiles: str) -> dict:
    return {
        "external_ref": uuid.uuid4().hex,
        "sample": {"form": "powder", "seized_on": "2026-11-01", "country": "CO", "region": "Antioquia"},
        "components": [{"smiles": smiles}],
    }


def arrivals(receiver: WebhookReceiver, path: str) -> dict[str, float]:
    found = {}
    for request in receiver.received(path):
        data = json.loads(request["body"])["data"]
        found.setdefault(data["substance"]["smiles"], request["at"])
    return found


def latency(base: str, lab: str, authority: str, receiver: WebhookReceiver, molecules: list[str]) -> list[float]:
    httpx.post(
        f"{base}/api/v1/subscriptions",
        json={"channel": "webhook", "url": receiver.url("/latency")},
        headers={"Authorization": f"Bearer {authority}"},
    ).raise_for_status()
    sent: dict[str, float] = {}
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {lab}"}, timeout=30) as client:
        for smiles in molecules:
            started = time.monotonic()
            response = client.post("/api/v1/detections", json=detection(smiles))
            response.raise_for_status()
            sent[response.json()["components"][0]["match"]["standardized"]["smiles"]] = started
            time.sleep(0.05)
    deadline = time.monotonic() + 30
    while len(arrivals(receiver, "/latency")) < len(sent) and time.monotonic() < deadline:
        time.sleep(0.1)
    arrived = arrivals(receiver, "/latency")
    return sorted(arrived[k] - v for k, v in sent.items() if k in arrived)


def fan_out(base: str, lab: str, authority: str, receiver: WebhookReceiver, smiles: str) -> tuple[float, int]:
    healthy = [f"/ok/{i}" for i in range(80)]
    for number in range(10):
        receiver.behaviour[f"/slow/{number}"] = [("sleep", 10)]
        receiver.behaviour[f"/fail/{number}"] = [500]
    paths = healthy + [f"/slow/{i}" for i in range(10)] + [f"/fail/{i}" for i in range(10)]
    for path in paths:
        httpx.post(
            f"{base}/api/v1/subscriptions",
            json={"channel": "webhook", "url": receiver.url(path)},
            headers={"Authorization": f"Bearer {authority}"},
        ).raise_for_status()
    started = time.monotonic()
    httpx.post(
        f"{base}/api/v1/detections", json=detection(smiles), headers={"Authorization": f"Bearer {lab}"}, timeout=30
    ).raise_for_status()
    deadline = started + 60
    while time.monotonic() < deadline:
        got = [p for p in healthy if receiver.received(p)]
        if len(got) == len(healthy):
            last = max(receiver.received(p)[0]["at"] for p in healthy)
            return last - started, len(got)
        time.sleep(0.05)
    return float("nan"), len([p for p in healthy if receiver.received(p)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--alerts", type=int, default=100)
    args = parser.parse_args()
    molecules = new_nitazenes(args.alerts + 1)
    with tempfile.TemporaryDirectory() as folder, WebhookReceiver() as receiver:
        url, drop = database(args.database, folder)
        lab, authority = prepare(url, Path.home() / ".cache" / "ews")
        process, base = serve(url)
        try:
            times = latency(base, lab, authority, receiver, molecules[: args.alerts])
            spread, healthy = fan_out(base, lab, authority, receiver, molecules[args.alerts])
        finally:
            process.terminate()
            process.wait(timeout=30)
            drop()
    p50 = statistics.median(times) * 1000
    p95 = times[max(0, int(len(times) * 0.95) - 1)] * 1000
    print(f"database: {args.database}")
    print(
        f"POST -> webhook over {len(times)} Extreme alerts: p50 {p50:.0f} ms, p95 {p95:.0f} ms (target p95 < 2000 ms)"
    )
    print(
        f"fan-out to 100 endpoints (10 answer after 10 s, 10 fail): the 80 healthy had it after {spread:.2f} s "
        f"({healthy}/80; target < 5 s)"
    )


if __name__ == "__main__":
    main()
