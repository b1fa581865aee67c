"""Federation between three real `ews serve` processes: national A (CO) and B (MX), regional R."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ews.db import engine_for, session_scope
from ews.services.federation import register_peer
from tests.conftest import Actor, make_actor
from tests.ews.test_alerts import NEW_CATHINONE, NEW_NITAZENE
from tests.support import WAIT, free_port, wait_for


@dataclass
class NodeProcess:
    name: str
    url: str
    database_url: str
    port: int
    env: dict
    process: subprocess.Popen | None = None

    def start(self) -> None:
        # the node logs every request: to a file, since a pipe nobody reads would fill and stall it
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - open for the process's life
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ews.cli", "serve", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        wait_for(self._ready, interval=0.2)

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            self.log.seek(0)
            raise AssertionError(f"{self.name} exited: {self.log.read().decode()[-2000:]}")
        try:
            return httpx.get(f"{self.url}/readyz", timeout=WAIT).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=WAIT)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                self.kill()

    def get(self, path: str, actor: Actor, **params) -> dict:
        response = httpx.get(f"{self.url}{path}", headers=actor.headers, params=params, timeout=WAIT)
        response.raise_for_status()
        return response.json()


def node(name: str, tmp_path: Path, template: Path, cache_dir: Path) -> NodeProcess:
    database = tmp_path / f"{name}.db"
    shutil.copy(template, database)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "EWS_DATABASE_URL": f"sqlite:///{database}",
        "EWS_NODE_ID": name,
        "EWS_BASE_URL": url,
        "EWS_ALLOW_LOOPBACK_WEBHOOKS": "true",
        "EWS_FEDERATION_INTERVAL": "1",
        "EWS_DISPATCH_INTERVAL": "0.2",
        "EWS_CACHE_DIR": str(cache_dir),
    }
    return NodeProcess(name, url, f"sqlite:///{database}", port, env)


@pytest.fixture
def network(tmp_path, sqlite_template, cache_dir):
    a = node("node-a", tmp_path, sqlite_template, cache_dir)
    b = node("node-b", tmp_path, sqlite_template, cache_dir)
    r = node("node-r", tmp_path, sqlite_template, cache_dir)
    actors = {
        "lab_a": make_actor(a.database_url, "lab", "CO", "Laboratorio Medellín"),
        "lab_b": make_actor(b.database_url, "lab", "MX", "Laboratorio CDMX"),
        "r_at_a": make_actor(a.database_url, "regional", None, "regional node R"),
        "r_at_b": make_actor(b.database_url, "regional", None, "regional node R"),
        "a_at_r": make_actor(r.database_url, "regional", None, "national node A"),
        "admin_r": make_actor(r.database_url, "admin", None),
        "admin_a": make_actor(a.database_url, "admin", None),
    }
    nodes = {"a": a, "b": b, "r": r}
    try:
        for process in nodes.values():
            process.start()
        yield nodes, actors
    finally:
        for process in nodes.values():
            process.stop()


def post_detection(node: NodeProcess, actor: Actor, smiles: str, ref: str, country: str, region: str) -> dict:
    response = httpx.post(
        f"{node.url}/api/v1/detections",
        json={
            "external_ref": ref,
            "sample": {"form": "powder", "seized_on": "2026-11-20", "country": country, "region": region},
            "components": [{"smiles": smiles, "name": f"sample {ref}"}],
            "case_ref": "PRIVATE-CASE",
            "notes": "PRIVATE-NOTES",
        },
        headers=actor.headers,
        timeout=WAIT,
    )
    assert response.status_code == 201, response.text
    return response.json()


def add_peer(at: NodeProcess, admin: Actor, peer: NodeProcess, token: str) -> None:
    response = httpx.post(
        f"{at.url}/api/v1/peers", json={"url": peer.url, "token": token}, headers=admin.headers, timeout=WAIT
    )
    assert response.status_code == 201, response.text


def pull_rounds(at: NodeProcess, admin: Actor, rounds: int) -> None:
    """Wait until ``at`` has pulled every one of its peers successfully ``rounds`` more times."""
    seen: dict[str, set[str]] = {}

    def done() -> bool:
        for peer in at.get("/api/v1/peers", admin)["items"]:
            seen.setdefault(peer["id"], set()).add(peer["last_success_at"])
        return all(len(stamps - {None}) > rounds for stamps in seen.values())

    wait_for(done, interval=0.1, what=f"{rounds} more pull rounds of every peer")


def test_a_detection_at_a_warns_the_region_and_b_makes_it_regional(network):
    nodes, actors = network
    a, b, r = nodes["a"], nodes["b"], nodes["r"]
    add_peer(r, actors["admin_r"], a, actors["r_at_a"].key)
    add_peer(r, actors["admin_r"], b, actors["r_at_b"].key)
    add_peer(a, actors["admin_a"], r, actors["a_at_r"].key)  # A also listens to R: nothing of A's may come back

    detection = post_detection(a, actors["lab_a"], NEW_NITAZENE, "A-1", "CO", "Antioquia")
    (alert_at_a,) = a.get("/api/v1/alerts", actors["admin_a"])["items"]
    assert alert_at_a["severity"] == "Extreme" and alert_at_a["status"] == "published"

    def relayed():
        items = r.get("/api/v1/alerts", actors["admin_r"])["items"]
        return [i for i in items if i["origin_node"] == "node-a"]

    (copy,) = wait_for(relayed, what="A's alert to reach R")
    assert copy["substance"]["inchikey"] == alert_at_a["substance"]["inchikey"]
    imported = wait_for(lambda: r.get("/api/v1/detections", actors["admin_r"])["items"])
    assert imported[0]["origin"] == {"node": "node-a", "id": detection["id"]}
    assert "PRIVATE" not in str(imported)

    post_detection(b, actors["lab_b"], NEW_NITAZENE, "B-1", "MX", "Sinaloa")

    def regional():
        items = r.get("/api/v1/alerts", actors["admin_r"])["items"]
        return [i for i in items if i["rule"] == "regional_spread"]

    (spread,) = wait_for(regional)
    assert spread["countries"] == ["CO", "MX"] and spread["origin_node"] is None
    assert spread["severity"] == "Extreme" and spread["status"] == "published"

    # A hears of B's detection through R, and never gets its own records back
    def a_has_b():
        return [i for i in a.get("/api/v1/alerts", actors["admin_a"])["items"] if i["origin_node"] == "node-b"]

    wait_for(a_has_b)
    a_alerts = a.get("/api/v1/alerts", actors["admin_a"])["items"]
    assert not [i for i in a_alerts if i["origin_node"] == "node-a"]
    a_detections = a.get("/api/v1/detections", actors["admin_a"], limit=100)["items"]
    assert len([d for d in a_detections if d.get("origin", {}).get("node") == "node-a"]) == 0

    # R is killed mid-life; meanwhile A keeps reporting; R restarts and loses or duplicates nothing
    r.kill()
    post_detection(a, actors["lab_a"], NEW_CATHINONE, "A-2", "CO", "Antioquia")
    r.start()

    def caught_up():
        items = r.get("/api/v1/detections", actors["admin_r"], limit=100)["items"]
        return items if len(items) >= 3 else None

    wait_for(caught_up, what="R to catch up after its restart")
    pull_rounds(r, actors["admin_r"], 2)  # two more pulls of each peer: nothing may be imported twice
    detections = r.get("/api/v1/detections", actors["admin_r"], limit=100)["items"]
    origins = [(d["origin"]["node"], d["origin"]["id"]) for d in detections]
    assert len(origins) == len(set(origins)) == 3
    alerts_at_r = r.get("/api/v1/alerts", actors["admin_r"], limit=100)["items"]
    keys = [(i["origin_node"], i["rule"], i["substance"]["inchikey"]) for i in alerts_at_r]
    assert len(keys) == len(set(keys))
    assert len([i for i in alerts_at_r if i["rule"] == "regional_spread" and i["origin_node"] is None]) == 1


def test_a_peer_that_is_down_does_not_hold_up_the_others(network, tmp_path):
    nodes, actors = network
    a, r = nodes["a"], nodes["r"]
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens here
    response = httpx.post(
        f"{r.url}/api/v1/peers",
        json={"url": dead, "token": "ews_unused_token"},
        headers=actors["admin_r"].headers,
        timeout=WAIT,
    )
    assert response.status_code == 422 and "cannot reach" in response.text  # no identity, no key to pin
    with session_scope(engine_for(r.database_url)) as session:  # a peer that went down after it was added
        register_peer(session, dead, "ews_unused_token", "node-dead", "A" * 43)
    add_peer(r, actors["admin_r"], a, actors["r_at_a"].key)
    post_detection(a, actors["lab_a"], NEW_NITAZENE, "A-9", "CO", "Antioquia")
    wait_for(lambda: r.get("/api/v1/detections", actors["admin_r"])["items"])

    def backing_off():
        peers = r.get("/api/v1/peers", actors["admin_r"])["items"]
        down = next(p for p in peers if p["url"] == dead)
        return down if down["failures"] >= 2 else None

    down = wait_for(backing_off)
    assert "ConnectError" in down["last_error"]
