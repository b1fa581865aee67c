"""Security headers, CORS, rate limits, request ids, and clear errors when the database cannot be written."""

from __future__ import annotations

import shutil
import sqlite3
import time

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import event

from ews.app import create_app
from ews.config import Settings
from ews.db import engine_for
from ews.services.ratelimit import WINDOW_SECONDS
from tests.conftest import make_actor
from tests.support import WAIT, running

DETECTION = {
    "sample": {"form": "powder", "seized_on": "2026-11-20", "country": "CO"},
    "components": [{"smiles": "Cn1cnc2c1c(=O)n(C)c(=O)n2C", "name": "caffeine"}],
}


def test_pages_and_api_carry_security_headers_and_a_request_id(client):
    for path in ("/", "/alerts", "/api/v1/node", "/feeds/alerts.json"):
        response = client.get(path)
        assert response.status_code == 200, path
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert len(response.headers["x-request-id"]) == 32
    echoed = client.get("/healthz", headers={"X-Request-ID": "lab-42.retry-1"})
    assert echoed.headers["x-request-id"] == "lab-42.retry-1"
    hostile = client.get("/healthz", headers={"X-Request-ID": 'a"<script>' + "x" * 200})
    assert "<" not in hostile.headers["x-request-id"] and len(hostile.headers["x-request-id"]) == 32


def test_cors_is_closed_by_default_and_opens_only_to_listed_origins(client, settings):
    preflight = {"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"}
    assert "access-control-allow-origin" not in client.options("/api/v1/detections", headers=preflight).headers
    assert "access-control-allow-origin" not in client.get("/feeds/alerts.json", headers=preflight).headers
    opened = settings.model_copy(update={"cors_origins": "https://partner.example"})
    with TestClient(create_app(opened)) as partner:
        allowed = partner.options(
            "/api/v1/detections",
            headers={"Origin": "https://partner.example", "Access-Control-Request-Method": "POST"},
        )
        assert allowed.headers["access-control-allow-origin"] == "https://partner.example"
        assert "access-control-allow-origin" not in partner.get("/feeds/alerts.json", headers=preflight).headers


def test_rate_limits_hold_across_two_servers_on_one_database(settings):
    limited = settings.model_copy(update={"rate_limit_per_key": 5, "rate_limit_per_address": 1000})
    with running(create_app(limited)) as first, running(create_app(limited)) as second:
        # The windows are whole minutes of the clock: six requests that straddle a minute's end
        # are rightly all answered, so such an attempt is made again with a fresh key.
        for _attempt in range(3):
            lab = make_actor(settings.database_url, "lab", "CO")
            started = int(time.time() // WINDOW_SECONDS)
            answers = [
                httpx.get(f"{base}/api/v1/detections", headers=lab.headers, timeout=WAIT).status_code
                for base in (first, second, first, second, first)
            ]
            refused = httpx.get(f"{second}/api/v1/detections", headers=lab.headers, timeout=WAIT)
            if int(time.time() // WINDOW_SECONDS) == started:
                break
        assert answers == [200] * 5
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert "5 requests a minute" in refused.json()["detail"]
        # another key is not held back by this one's limit; health checks are never limited
        other = make_actor(settings.database_url, "lab", "CO")
        assert httpx.get(f"{first}/api/v1/detections", headers=other.headers, timeout=WAIT).status_code == 200
        assert httpx.get(f"{first}/healthz", timeout=WAIT).status_code == 200
        metrics = (
            httpx.get(f"{first}/metrics", timeout=WAIT).text + httpx.get(f"{second}/metrics", timeout=WAIT).text
        )
        assert 'ews_rate_limited_total{limit="key"}' in metrics


def test_per_address_limit(settings):
    limited = settings.model_copy(update={"rate_limit_per_address": 3})
    with running(create_app(limited)) as base:
        codes = [httpx.get(f"{base}/feeds/alerts.json", timeout=WAIT).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def _copy(tmp_path, sqlite_template):
    path = tmp_path / "node" / "ews.db"
    path.parent.mkdir()
    shutil.copy(sqlite_template, path)
    return path


def _integrity(path) -> str:
    with sqlite3.connect(path) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]


def test_a_read_only_database_is_a_clear_503_and_stays_intact(tmp_path, sqlite_template, cache_dir):
    path = _copy(tmp_path, sqlite_template)
    lab = make_actor(f"sqlite:///{path}", "lab", "CO")
    engine_for(f"sqlite:///{path}").dispose()
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    settings = Settings(database_url=read_only, cache_dir=cache_dir, scheduler="off", node_id="ro")
    with TestClient(create_app(settings)) as client:
        response = client.post("/api/v1/detections", json=DETECTION, headers=lab.headers)
        assert client.get("/api/v1/detections", headers=lab.headers).status_code == 200  # reading goes on
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"]
    assert "read-only" in response.json()["detail"]
    assert _integrity(path) == "ok"


def test_a_full_disk_is_a_clear_503_and_what_was_acknowledged_is_kept(tmp_path, sqlite_template, cache_dir):
    path = _copy(tmp_path, sqlite_template)
    url = f"sqlite:///{path}"
    lab = make_actor(url, "lab", "CO")
    with sqlite3.connect(path) as connection:
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
    engine = engine_for(url)
    engine.dispose()

    @event.listens_for(engine, "connect")
    def _small_disk(connection, _record):  # the file may grow by a few pages, then the "disk" is full
        connection.execute(f"PRAGMA max_page_count = {pages + 12}")

    settings = Settings(database_url=url, cache_dir=cache_dir, scheduler="off", node_id="full")
    acknowledged, refused = [], None
    with TestClient(create_app(settings)) as client:
        for number in range(400):
            body = {**DETECTION, "external_ref": f"FULL-{number}", "notes": "x" * 2000}
            response = client.post("/api/v1/detections", json=body, headers=lab.headers)
            if response.status_code == 201:
                acknowledged.append(response.json()["id"])
            else:
                refused = response
                break
    event.remove(engine, "connect", _small_disk)
    engine.dispose()
    assert refused is not None and refused.status_code == 503, refused and refused.text
    assert "disk is full" in refused.json()["detail"] and refused.headers["retry-after"]
    assert acknowledged and _integrity(path) == "ok"
    with sqlite3.connect(path) as connection:
        stored = {row[0] for row in connection.execute("SELECT id FROM detection")}
    assert set(acknowledged) <= stored
