"""PostgreSQL stopped and restarted under load: 503 + Retry-After meanwhile, nothing acknowledged lost, no restart.

The test runs its own PostgreSQL (initdb + pg_ctl on a temporary directory, as
the ``postgres`` user when run as root) so that it can stop it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid

import httpx
import pytest
from sqlalchemy import text

from ews.db import engine_for
from tests.conftest import IN_CI, _prepare, make_actor
from tests.ews.test_worker_crash import NITAZENES
from tests.support import WAIT, WebhookReceiver, free_port, wait_for

BIN = next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)), None)


class Cluster:
    def __init__(self, root: str) -> None:
        self.data = os.path.join(root, "data")
        self.port = free_port()
        self.log = os.path.join(root, "postgres.log")
        self.as_user = os.geteuid() == 0
        if self.as_user:
            owner = pwd.getpwnam("postgres")
            os.chown(root, owner.pw_uid, owner.pw_gid)
        self.root = root
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        command = [f"{BIN}/{tool}", *args]
        if self.as_user:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=2 * WAIT)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        # -t: pg_ctl's own wait (60 s by default) is the bound a loaded machine hits first
        self._run("pg_ctl", "-D", self.data, "-o", options, "-l", self.log, "-w", "-t", f"{WAIT:.0f}", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", f"{WAIT:.0f}", "stop")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"


def test_postgresql_restart_under_load(cache_dir, tmp_path):
    if BIN is None or shutil.which("runuser") is None:
        if IN_CI:  # CI's machine has PostgreSQL 15: missing binaries there are a broken machine, not a skip
            pytest.fail("PostgreSQL server binaries (pg_ctl, initdb) and runuser are required under CI=true")
        pytest.skip("PostgreSQL server binaries not installed")
    root = tempfile.mkdtemp(prefix="ews-pg-")
    cluster = Cluster(root)
    cluster.start()
    server = None
    try:
        admin = engine_for(cluster.url("postgres")).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE ews"))
        admin.dispose()
        url = cluster.url("ews")
        _prepare(url, cache_dir)
        lab = make_actor(url, "lab", "CO")
        regional = make_actor(url, "regional", None)
        engine_for(url).dispose()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "EWS_DATABASE_URL": url,
            "EWS_BASE_URL": base,
            "EWS_NODE_ID": "node-outage",
            "EWS_ALLOW_LOOPBACK_WEBHOOKS": "true",
            "EWS_DISPATCH_INTERVAL": "0.2",
            "EWS_CACHE_DIR": str(cache_dir),
            "EWS_DATA_DIR": str(tmp_path),
        }
        with WebhookReceiver() as receiver, open(tmp_path / "serve.log", "wb") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "ews.cli", "serve", "--port", str(port)], env=env, stdout=log, stderr=log
            )
            wait_for(lambda: _ready(base, server))
            hook = httpx.post(
                f"{base}/api/v1/subscriptions",
                json={"channel": "webhook", "url": receiver.url()},
                headers=regional.headers,
                timeout=WAIT,
            )
            assert hook.status_code == 201, hook.text

            acknowledged: dict[str, str] = {}  # external_ref -> detection id
            unavailable: list[httpx.Response] = []
            stop = threading.Event()
            molecules = NITAZENES + [s.replace("CCCCC", "CCCC(C)", 1) for s in NITAZENES]

            def load() -> None:
                number = 0
                with httpx.Client(base_url=base, headers=lab.headers, timeout=WAIT) as client:
                    while not stop.is_set():
                        ref = f"OUT-{number}-{uuid.uuid4().hex[:6]}"
                        body = {
                            "external_ref": ref,
                            "sample": {"form": "powder", "seized_on": "2026-11-20", "country": "CO"},
                            "components": [{"smiles": molecules[number % len(molecules)]}],
                        }
                        number += 1
                        try:
                            response = client.post("/api/v1/detections", json=body)
                        except httpx.HTTPError:
                            continue  # not acknowledged: the client would retry
                        if response.status_code in (200, 201):
                            acknowledged[ref] = response.json()["id"]
                        elif response.status_code == 503:
                            unavailable.append(response)
                        else:
                            raise AssertionError(f"{response.status_code}: {response.text}")

            loader = threading.Thread(target=load, daemon=True)
            loader.start()
            wait_for(lambda: len(acknowledged) >= 3)
            wait_for(lambda: receiver.received())
            cluster.stop()
            wait_for(lambda: len(unavailable) >= 3)
            before_restart = len(acknowledged)
            cluster.start()
            wait_for(lambda: len(acknowledged) >= before_restart + 5)
            stop.set()
            loader.join(timeout=WAIT)
            assert not loader.is_alive(), "the load did not stop"

            for response in unavailable:
                assert response.headers["content-type"] == "application/problem+json"
                assert int(response.headers["retry-after"]) > 0
                assert response.json()["status"] == 503
            with engine_for(url).connect() as connection:
                stored = dict(connection.execute(text("SELECT external_ref, id FROM detection")).all())
            assert {ref: stored.get(ref) for ref in acknowledged} == acknowledged  # every 2xx is stored

            def all_delivered() -> bool:
                with engine_for(url).connect() as connection:
                    states = connection.execute(text("SELECT status FROM delivery")).scalars().all()
                return bool(states) and all(state == "delivered" for state in states)

            wait_for(all_delivered)  # deliveries resumed by themselves
            with engine_for(url).connect() as connection:
                expected = set(connection.execute(text("SELECT id FROM delivery")).scalars().all())
            assert {r["headers"]["webhook-id"] for r in receiver.received()} == expected
            assert server.poll() is None  # the same process throughout
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=WAIT)
        engine_for(cluster.url("ews")).dispose()
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def _ready(base: str, server: subprocess.Popen) -> bool:
    assert server.poll() is None, "ews serve exited"
    try:
        return httpx.get(f"{base}/readyz", timeout=WAIT).status_code == 200
    except httpx.HTTPError:
        return False
