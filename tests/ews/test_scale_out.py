"""Two `ews serve` and two `ews worker` processes on one PostgreSQL, clients split across the two APIs.

Every detection is stored once (the same Idempotency-Key sent to both APIs at
once), every alert raised once, every delivery sent once per subscription and
never under two ids; federation pulls are leased (a peer never sees two pulls
at once); a national alert reaches this node within 30 s on default settings;
/metrics sums the requests of both API processes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import text
from starlette.types import ASGIApp, Receive, Scope, Send

from ews.app import create_app
from ews.config import Settings
from ews.db import engine_for
from tests.conftest import make_actor
from tests.ews.test_alerts import NEW_NITAZENE
from tests.ews.test_worker_crash import NITAZENES
from tests.support import WAIT, WebhookReceiver, free_port, running, wait_for


class Overlap:
    """Counts feed requests in flight at a peer: more than one means two pulls ran at once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.now = 0
        self.most = 0
        self.seen = 0
        self.lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        feed = scope["type"] == "http" and scope["path"].startswith("/feeds/")
        if feed:
            with self.lock:
                self.now += 1
                self.seen += 1
                self.most = max(self.most, self.now)
        try:
            await self.app(scope, receive, send)
        finally:
            if feed:
                with self.lock:
                    self.now -= 1


def _start(args: list[str], env: dict, log_path) -> subprocess.Popen:
    log = open(log_path, "wb")  # noqa: SIM115 - open for the process's life
    return subprocess.Popen([sys.executable, "-m", "ews.cli", *args], env=env, stdout=log, stderr=log)


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=WAIT).status_code == 200
    except httpx.HTTPError:
        return False


def test_two_apis_and_two_workers_on_one_postgresql(pg_url, tmp_path, sqlite_template, cache_dir):
    lab = make_actor(pg_url, "lab", "CO")
    regional = make_actor(pg_url, "regional", None)
    admin = make_actor(pg_url, "admin", None)
    engine_for(pg_url).dispose()

    peer_db = tmp_path / "national" / "ews.db"
    peer_db.parent.mkdir()
    shutil.copy(sqlite_template, peer_db)
    peer_url = f"sqlite:///{peer_db}"
    national_lab = make_actor(peer_url, "lab", "MX")
    our_key_there = make_actor(peer_url, "regional", None).key
    national = Overlap(create_app(Settings(database_url=peer_url, cache_dir=cache_dir, node_id="node-mx")))

    ports = [free_port(), free_port()]
    apis = [f"http://127.0.0.1:{p}" for p in ports]
    env = {
        **os.environ,
        "EWS_DATABASE_URL": pg_url,
        "EWS_BASE_URL": apis[0],
        "EWS_NODE_ID": "node-region",
        "EWS_ALLOW_LOOPBACK_WEBHOOKS": "true",
        "EWS_DISPATCH_INTERVAL": "0.2",
        "EWS_CACHE_DIR": str(cache_dir),
        "EWS_DATA_DIR": str(tmp_path / "data"),  # one secret key and one metrics directory for the node
    }
    processes = []
    with WebhookReceiver() as receiver, running(national) as national_base:
        try:
            for number, port in enumerate(ports):
                processes.append(
                    _start(["serve", "--port", str(port), "--no-scheduler"], env, tmp_path / f"api{number}.log")
                )
            for base in apis:
                wait_for(lambda b=base: _ready(b))
            for number in range(2):
                processes.append(_start(["worker"], env, tmp_path / f"worker{number}.log"))
            for path in ("/a", "/b"):
                response = httpx.post(
                    f"{apis[0]}/api/v1/subscriptions",
                    json={"channel": "webhook", "url": receiver.url(path)},
                    headers=regional.headers,
                    timeout=WAIT,
                )
                assert response.status_code == 201, response.text

            # each detection sent to both APIs at once under one Idempotency-Key; two per substance
            def submit(job: tuple[int, str]) -> list[tuple[int, str]]:
                number, smiles = job
                body = {
                    "sample": {
                        "form": "powder",
                        "seized_on": "2026-11-20",
                        "country": "CO",
                        "region": f"R{number}",
                    },
                    "components": [{"smiles": smiles}],
                }
                headers = {**lab.headers, "Idempotency-Key": f"SCALE-{number}"}
                with ThreadPoolExecutor(2) as both:
                    answers = list(
                        both.map(
                            lambda base: httpx.post(
                                f"{base}/api/v1/detections", json=body, headers=headers, timeout=WAIT
                            ),
                            apis,
                        )
                    )
                return [(a.status_code, a.json()["id"]) for a in answers]

            jobs = list(enumerate(NITAZENES * 2))
            with ThreadPoolExecutor(4) as pool:
                results = list(pool.map(submit, jobs))
            for pair in results:
                assert sorted(code for code, _ in pair) in ([200, 201], [201, 201]), pair
                assert pair[0][1] == pair[1][1]  # the same detection from both APIs

            with engine_for(pg_url).connect() as connection:
                assert connection.execute(text("SELECT count(*) FROM detection")).scalar_one() == len(jobs)
                alerts = connection.execute(text("SELECT rule, substance_key FROM alert")).all()
            assert alerts and max(Counter(alerts).values()) == 1  # every alert raised once
            assert len({key for _, key in alerts}) == len(NITAZENES)

            def delivered() -> bool:
                with engine_for(pg_url).connect() as connection:
                    states = connection.execute(text("SELECT status FROM delivery")).scalars().all()
                return bool(states) and all(s == "delivered" for s in states)

            wait_for(delivered)
            with engine_for(pg_url).connect() as connection:
                expected = set(connection.execute(text("SELECT id FROM delivery")).scalars().all())
            requests = receiver.received()
            assert {r["headers"]["webhook-id"] for r in requests} == expected
            assert len(requests) == len(expected)  # sent once each, by one of the two workers
            per_message = defaultdict(set)
            for request in requests:
                import json

                data = json.loads(request["body"])["data"]
                per_message[(request["path"], data["id"], data.get("version"))].add(
                    request["headers"]["webhook-id"]
                )
            assert all(len(ids) == 1 for ids in per_message.values())

            # federation: the peer is pulled under a lease, and its alert arrives within 30 s (default interval)
            added = httpx.post(
                f"{apis[1]}/api/v1/peers",
                json={"url": national_base, "token": our_key_there},
                headers=admin.headers,
                timeout=WAIT,
            )
            assert added.status_code == 201, added.text
            reported = httpx.post(
                f"{national_base}/api/v1/detections",
                json={
                    "sample": {"form": "powder", "seized_on": "2026-11-20", "country": "MX"},
                    "components": [{"smiles": NEW_NITAZENE}],
                },
                headers=national_lab.headers,
                timeout=WAIT,
            )
            assert reported.status_code == 201, reported.text

            def arrived():
                items = httpx.get(f"{apis[0]}/api/v1/alerts", headers=admin.headers, timeout=WAIT).json()["items"]
                return [i for i in items if i["origin_node"] == "node-mx"]

            wait_for(arrived)
            wait_for(lambda: national.seen >= 6)  # a few pull rounds by the two workers
            assert national.most == 1  # never two pulls of one peer at once

            # /metrics of either API counts the submissions both received
            metrics = httpx.get(f"{apis[0]}/metrics", timeout=WAIT).text
            posted = sum(
                float(line.rsplit(" ", 1)[1])
                for line in metrics.splitlines()
                if line.startswith('ews_http_requests_total{method="POST",route="/api/v1/detections"')
            )
            assert posted == 2 * len(jobs)
            assert "ews_outbox_depth" in metrics and "ews_peer_pull_lag_seconds" in metrics
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=WAIT)
