"""Federation identity and signed pages, between real uvicorn servers on loopback.

A peer's identity is fetched and its key pinned at `ews peers add`; a peer
with our own node id is refused, and a pull that meets our id is an error in
`ews peers list` and /metrics; a page altered or played back on the way is
refused and reported.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import Session, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ews.app import build_node, create_app
from ews.config import Settings
from ews.db import engine_for, session_scope
from ews.models import Alert, Peer
from ews.services.federation import Federation, register_peer
from tests.conftest import make_actor
from tests.ews.test_alerts import NEW_NITAZENE
from tests.support import WAIT, running


@pytest.fixture
def peer_node(tmp_path, sqlite_template, cache_dir):
    """A national node "node-co" with one published alert, served by uvicorn on loopback."""
    path = tmp_path / "peer" / "peer.db"
    path.parent.mkdir()
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    settings = Settings(
        database_url=url, cache_dir=cache_dir, node_id="node-co", allow_loopback_webhooks=True, scheduler="off"
    )
    lab = make_actor(url, "lab", "CO")
    regional = make_actor(url, "regional", None, "the regional node's key at node-co")
    with running(create_app(settings)) as base:
        response = httpx.post(
            f"{base}/api/v1/detections",
            headers=lab.headers,
            json={
                "external_ref": "CO-1",
                "sample": {"form": "powder", "seized_on": "2026-11-20", "country": "CO"},
                "components": [{"smiles": NEW_NITAZENE}],
            },
            timeout=WAIT,
        )
        assert response.status_code == 201, response.text
        yield base, regional.key


class Proxy:
    """A real HTTP server between the puller and the peer that may alter or play back feed pages."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.mode = "pass"
        self.recorded: dict[str, httpx.Response] = {}
        self.lock = threading.Lock()
        self.app = Starlette(routes=[Route("/{path:path}", self.forward)])

    async def forward(self, request: Request) -> Response:
        path = request.url.path
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with httpx.AsyncClient(base_url=self.upstream, timeout=WAIT) as client:
            upstream = await client.get(path, params=dict(request.query_params), headers=headers)
        body = upstream.content
        if path.startswith("/feeds/"):
            with self.lock:
                if self.mode == "replay" and path in self.recorded:
                    upstream = self.recorded[path]
                    body = upstream.content
                else:
                    self.recorded.setdefault(path, upstream)
                if self.mode == "tamper":
                    body = body.replace(b'"Extreme"', b'"Minor"')
        keep = {
            k: v for k, v in upstream.headers.items() if k.lower() not in ("content-length", "content-encoding")
        }
        return Response(body, status_code=upstream.status_code, headers=keep)


def regional(database_url: str, cache_dir, **overrides) -> tuple[Settings, Federation]:
    settings = Settings(
        database_url=database_url,
        cache_dir=cache_dir,
        node_id=overrides.pop("node_id", "node-region"),
        allow_loopback_webhooks=True,
        scheduler="off",
        federation_interval=0,
        **overrides,
    )
    node = build_node(settings)
    return settings, Federation(settings, node.engine, node.alerting, node.identifier)


def cli(*args: str, database_url: str, node_id: str, cache_dir) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "EWS_DATABASE_URL": database_url,
        "EWS_NODE_ID": node_id,
        "EWS_ALLOW_LOOPBACK_WEBHOOKS": "true",
        "EWS_CACHE_DIR": str(cache_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "ews.cli", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_node_identity_is_public_and_stable(peer_node):
    base, _ = peer_node
    first = httpx.get(f"{base}/api/v1/node", timeout=WAIT).json()
    second = httpx.get(f"{base}/api/v1/node", timeout=WAIT).json()
    assert first["node_id"] == "node-co"
    assert first["public_key"] == second["public_key"] == first["jwk"]["x"]
    assert first["jwk"]["crv"] == "Ed25519"


def test_peers_add_pins_the_key_and_refuses_our_own_node_id(peer_node, database_url, cache_dir):
    base, token = peer_node
    clash = cli(
        "peers", "add", base, "--token", token, database_url=database_url, node_id="node-co", cache_dir=cache_dir
    )
    assert clash.returncode == 1
    assert "node id 'node-co' is this node's own id" in clash.stderr and "EWS_NODE_ID" in clash.stderr
    with Session(engine_for(database_url)) as session:
        assert session.exec(select(Peer)).all() == []

    bad_token = cli(
        "peers",
        "add",
        base,
        "--token",
        "ews_not_a_key_anywhere",
        database_url=database_url,
        node_id="node-r",
        cache_dir=cache_dir,
    )
    assert bad_token.returncode == 1 and "does not accept the token" in bad_token.stderr

    added = cli(
        "peers", "add", base, "--token", token, database_url=database_url, node_id="node-r", cache_dir=cache_dir
    )
    assert added.returncode == 0, added.stderr
    identity = httpx.get(f"{base}/api/v1/node", timeout=WAIT).json()
    with Session(engine_for(database_url)) as session:
        (peer,) = session.exec(select(Peer)).all()
    assert (peer.node_id, peer.public_key) == ("node-co", identity["public_key"])
    assert peer.token.startswith("enc:v1:") and token not in peer.token  # encrypted at rest


def test_a_pull_that_meets_our_own_node_id_is_an_error_in_peers_list_and_metrics(
    peer_node, database_url, cache_dir
):
    base, token = peer_node
    # the peer was added under another name; then the local node was renamed to the peer's id
    settings, federation = regional(database_url, cache_dir)
    with session_scope(federation.engine) as session:
        register_peer(session, base, token)
    settings, federation = regional(database_url, cache_dir, node_id="node-co")
    federation.run_once()
    with Session(federation.engine) as session:
        (peer,) = session.exec(select(Peer)).all()
        assert session.exec(select(Alert)).all() == []
    assert peer.id_clash and "this node's own id" in (peer.last_error or "")
    listed = cli("peers", "list", database_url=database_url, node_id="node-co", cache_dir=cache_dir)
    assert "ERROR:id-clash" in listed.stdout and "EWS_NODE_ID" in listed.stdout
    with running(create_app(settings)) as own:
        metrics = httpx.get(f"{own}/metrics", timeout=WAIT).text
    assert 'ews_peer_id_clash{peer="' in metrics
    assert [line for line in metrics.splitlines() if line.startswith("ews_peer_id_clash{")][0].endswith(" 1.0")
    assert 'ews_federation_pulls_total{outcome="id_clash"}' in metrics


def test_tampered_and_replayed_pages_are_refused_and_reported(peer_node, database_url, cache_dir):
    base, token = peer_node
    proxy = Proxy(base)
    with running(proxy.app) as via:
        identity = httpx.get(f"{base}/api/v1/node", timeout=WAIT).json()
        settings, federation = regional(database_url, cache_dir)
        with session_scope(federation.engine) as session:
            peer = register_peer(session, via, token, identity["node_id"], identity["public_key"])
            peer_id = peer.id

        proxy.mode = "tamper"
        federation.run_once()
        with Session(federation.engine) as session:
            peer = session.get(Peer, peer_id)
            assert session.exec(select(Alert)).all() == []  # nothing of the altered page was stored
        assert "tampered" in (peer.last_error or "")

        proxy.mode = "pass"
        proxy.recorded.clear()
        with session_scope(federation.engine) as session:
            session.execute(update(Peer).values(next_pull_at=Peer.created_at))
        federation.run_once()
        with Session(federation.engine) as session:
            (alert,) = session.exec(select(Alert)).all()
            assert session.get(Peer, peer_id).last_error is None
        assert alert.origin_node == "node-co" and alert.severity == "Extreme"

        proxy.mode = "replay"  # the earlier page, with its valid signature, answers the next request
        with session_scope(federation.engine) as session:
            session.execute(update(Peer).values(next_pull_at=Peer.created_at))
        federation.run_once()
        with Session(federation.engine) as session:
            peer = session.get(Peer, peer_id)
        assert "replayed" in (peer.last_error or "")

        with running(create_app(settings)) as own:
            metrics = httpx.get(f"{own}/metrics", timeout=WAIT).text
        assert 'ews_federation_refused_pages_total{reason="tampered"}' in metrics
        assert 'ews_federation_refused_pages_total{reason="replayed"}' in metrics


def test_a_page_signed_by_another_key_is_refused(peer_node, database_url, cache_dir):
    base, token = peer_node
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ews.services.identity import public_key_text

    impostor = public_key_text(Ed25519PrivateKey.generate().public_key())
    _, federation = regional(database_url, cache_dir)
    with session_scope(federation.engine) as session:
        register_peer(session, base, token, "node-co", impostor)
    federation.run_once()
    with Session(federation.engine) as session:
        (peer,) = session.exec(select(Peer)).all()
        assert session.exec(select(Alert)).all() == []
    assert "bad_signature" in (peer.last_error or "")


def test_a_signed_wake_up_starts_a_pull_at_once(tmp_path, sqlite_template, database_url, cache_dir):
    """The regional node pulls only every 10 minutes; the national node's wake-up brings its alert in at once."""
    from ews.scheduler import start_scheduler
    from tests.support import free_port, wait_for

    path = tmp_path / "national" / "ews.db"
    path.parent.mkdir()
    shutil.copy(sqlite_template, path)
    national_url = f"sqlite:///{path}"
    lab = make_actor(national_url, "lab", "CO")
    our_key = make_actor(national_url, "regional", None).key
    admin = make_actor(database_url, "admin", None)
    national_settings = Settings(
        database_url=national_url,
        cache_dir=cache_dir,
        node_id="node-co",
        allow_loopback_webhooks=True,
        scheduler="off",
        dispatch_interval=0.2,
    )
    port = free_port()
    regional_settings = Settings(
        database_url=database_url,
        cache_dir=cache_dir,
        node_id="node-region",
        base_url=f"http://127.0.0.1:{port}",
        allow_loopback_webhooks=True,
        scheduler="off",
        federation_interval=600,
    )
    runners = []
    try:
        with (
            running(create_app(national_settings)) as national,
            running(create_app(regional_settings), port) as own,
        ):
            runners += [start_scheduler(national_settings), start_scheduler(regional_settings)]
            added = httpx.post(
                f"{own}/api/v1/peers",
                json={"url": national, "token": our_key},
                headers=admin.headers,
                timeout=WAIT,
            )
            assert added.status_code == 201, added.text
            assert added.json()["push_wakeups"] is True
            peer_id = added.json()["id"]

            def first_pull_done():
                with Session(engine_for(database_url)) as session:
                    return session.get(Peer, peer_id).last_success_at

            wait_for(first_pull_done)  # the next regular pull is 10 minutes away
            forged = httpx.post(
                f"{own}/api/v1/peers/{peer_id}:wake",
                content=b"{}",
                headers={"webhook-id": "x", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA"},
                timeout=WAIT,
            )
            assert forged.status_code == 401
            reported = httpx.post(
                f"{national}/api/v1/detections",
                headers=lab.headers,
                json={
                    "sample": {"form": "powder", "seized_on": "2026-11-20", "country": "CO"},
                    "components": [{"smiles": NEW_NITAZENE}],
                },
                timeout=WAIT,
            )
            assert reported.status_code == 201, reported.text

            def arrived():
                with Session(engine_for(database_url)) as session:
                    return session.exec(select(Alert).where(Alert.origin_node == "node-co")).all()

            wait_for(arrived, timeout=300)  # half the 600 s interval: only the wake-up can have done it
    finally:
        for runner in runners:
            runner.shutdown(wait=True)
