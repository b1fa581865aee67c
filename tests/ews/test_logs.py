"""The logs of a full run of a real `ews serve`: JSON lines with request ids, and no secret or private field."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys

import httpx

from tests.alerts.test_email import smtp_server
from tests.conftest import make_actor
from tests.ews.test_alerts import NEW_NITAZENE
from tests.support import WAIT, WebhookReceiver, free_port, wait_for

SECRET_KEY = "node-secret-key-" + "k" * 40
SMTP_PASSWORD = "smtp-pass-Zq81xv"
PRIVATE = {"case_ref": "CASE-PRIV-5521", "notes": "NOTES-PRIV-9034", "external_ref": "EXT-PRIV-7710"}
BAD_REF = "EXT-PRIV-7711"


def test_a_full_run_logs_json_with_request_ids_and_never_a_secret(tmp_path, sqlite_template, cache_dir):
    database = tmp_path / "node" / "ews.db"
    database.parent.mkdir()
    shutil.copy(sqlite_template, database)
    url = f"sqlite:///{database}"
    lab = make_actor(url, "lab", "CO")
    admin = make_actor(url, "admin", None)
    regional = make_actor(url, "regional", None)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    with smtp_server() as (smtp_port, mailbox), WebhookReceiver() as receiver, open(log_path, "wb") as log:
        env = {
            **os.environ,
            "EWS_DATABASE_URL": url,
            "EWS_BASE_URL": base,
            "EWS_NODE_ID": "node-logs",
            "EWS_SECRET_KEY": SECRET_KEY,
            "EWS_SMTP_URL": f"smtp://alerts:{SMTP_PASSWORD}@127.0.0.1:{smtp_port}",
            "EWS_ALLOW_LOOPBACK_WEBHOOKS": "true",
            "EWS_DISPATCH_INTERVAL": "0.2",
            "EWS_CACHE_DIR": str(cache_dir),
            "EWS_LOG_LEVEL": "DEBUG",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "ews.cli", "serve", "--port", str(port)], env=env, stdout=log, stderr=log
        )
        try:
            wait_for(lambda: _ready(base, server))
            hook = httpx.post(
                f"{base}/api/v1/subscriptions",
                json={"channel": "webhook", "url": receiver.url()},
                headers=regional.headers,
                timeout=WAIT,
            ).json()
            mail = httpx.post(
                f"{base}/api/v1/subscriptions",
                json={"channel": "email", "address": "analyst@example.org"},
                headers=regional.headers,
                timeout=WAIT,
            )
            assert mail.status_code == 201, mail.text
            detection = {
                **PRIVATE,
                "sample": {"form": "powder", "seized_on": "2026-11-20", "country": "CO"},
                "components": [{"smiles": NEW_NITAZENE, "name": "sample"}],
            }
            created = httpx.post(
                f"{base}/api/v1/detections",
                json=detection,
                headers={**lab.headers, "X-Request-ID": "trace-me-123"},
                timeout=WAIT,
            )
            assert created.status_code == 201, created.text
            assert created.headers["x-request-id"] == "trace-me-123"
            bad = {**detection, "external_ref": BAD_REF, "components": [{"smiles": "C1CC(", "name": "broken"}]}
            assert (
                httpx.post(f"{base}/api/v1/detections", json=bad, headers=lab.headers, timeout=WAIT).status_code
                == 422
            )
            wrong_key = "ews_" + "W" * 43
            assert (
                httpx.get(
                    f"{base}/api/v1/detections", headers={"Authorization": f"Bearer {wrong_key}"}, timeout=WAIT
                ).status_code
                == 401
            )
            peer_token = "ews_peer_token_" + "P" * 30
            refused = httpx.post(
                f"{base}/api/v1/peers",
                json={"url": base, "token": peer_token},
                headers=admin.headers,
                timeout=WAIT,
            )
            assert refused.status_code == 422  # our own node: refused, and logged
            wait_for(lambda: receiver.received("/hook"))
            wait_for(lambda: mailbox.messages)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=WAIT)

    text = log_path.read_text()
    # JSON lines; the only other lines are the first-start banner printed for the operator
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert records, "the server logged nothing"
    traced = [r for r in records if r.get("request_id") == "trace-me-123"]
    assert any(r["logger"] == "ews.access" and r["status"] == 201 for r in traced)
    secrets = [
        lab.key,
        admin.key,
        regional.key,
        wrong_key,
        peer_token,
        hook["secret"],
        hook["secret"].removeprefix("whsec_"),
        SECRET_KEY,
        SMTP_PASSWORD,
        *PRIVATE.values(),
        BAD_REF,
    ]
    for secret in secrets:
        assert secret not in text, f"{secret[:12]}… appears in the log"


def _ready(base: str, server: subprocess.Popen) -> bool:
    assert server.poll() is None, "ews serve exited"
    try:
        return httpx.get(f"{base}/readyz", timeout=WAIT).status_code == 200
    except httpx.HTTPError:
        return False
