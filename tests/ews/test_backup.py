"""`ews db backup` / `ews db restore` round-trip a node: detections, alerts, deliveries, peers (both databases)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid

from sqlalchemy import text

from ews.db import engine_for, session_scope
from ews.keyring import data_dir, keyring_for
from ews.services.federation import register_peer
from tests.conftest import _admin_execute, _url_for
from tests.ews.test_alerts import NEW_CATHINONE, NEW_NITAZENE, report, subscribe

TABLES = ("detection", "detection_component", "alert", "alert_version", "delivery", "peer", "subscription")


def _ews(*args: str, url: str, cache_dir) -> subprocess.CompletedProcess:
    env = {**os.environ, "EWS_DATABASE_URL": url, "EWS_CACHE_DIR": str(cache_dir)}
    return subprocess.run(
        [sys.executable, "-m", "ews.cli", *args], capture_output=True, text=True, env=env, timeout=600
    )


def _snapshot(url: str) -> dict[str, list]:
    with engine_for(url).connect() as connection:
        return {
            table: sorted(tuple(map(str, row)) for row in connection.execute(text(f"SELECT * FROM {table}")))
            for table in TABLES
        }


def _empty_target(database_url: str, tmp_path) -> str:
    if database_url.startswith("sqlite"):
        (tmp_path / "restored").mkdir()
        return f"sqlite:///{tmp_path}/restored/ews.db"
    name = f"ews_t_{uuid.uuid4().hex[:12]}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    return _url_for(name)


def test_backup_and_restore_round_trip_a_node(client, actors, settings, tmp_path, cache_dir):
    url = settings.database_url
    subscribe(client, actors["regional"], "http://127.0.0.1:9/hook")
    report(client, actors["lab_co"], NEW_NITAZENE, "BK-1")
    report(client, actors["lab_co"], NEW_CATHINONE, "BK-2")
    with session_scope(engine_for(url)) as session:
        register_peer(session, "https://ews.example.org", "ews_peer_token_for_backup", "node-x", "A" * 43)
    before = _snapshot(url)
    assert before["detection"] and before["alert"] and before["delivery"] and before["peer"]

    backup = tmp_path / "backups" / "node.backup"
    made = _ews("db", "backup", str(backup), url=url, cache_dir=cache_dir)
    assert made.returncode == 0, made.stderr
    assert "EWS_SECRET_KEY" in made.stderr
    again = _ews("db", "backup", str(backup), url=url, cache_dir=cache_dir)
    assert again.returncode == 2 and "exists" in again.stderr  # a backup never overwrites

    # the node goes on after the backup; a restore brings back exactly the backed-up state
    report(client, actors["lab_co"], "CCCCCCOc1ccc(Cc2nc3cc([N+](=O)[O-])ccc3n2CCN2CCCCC2)cc1", "BK-3")
    assert _snapshot(url) != before

    target = _empty_target(url, tmp_path)
    try:
        if url.startswith("sqlite"):  # the node's key travels with its backup, kept apart
            shutil.copy(data_dir(url) / "secret.key", data_dir(target) / "secret.key")
        restored = _ews("db", "restore", str(backup), url=target, cache_dir=cache_dir)
        assert restored.returncode == 0, restored.stderr
        assert _snapshot(target) == before
        with engine_for(target).connect() as connection:
            token = connection.execute(text("SELECT token FROM peer")).scalar_one()
        assert keyring_for(target).decrypt(token) == "ews_peer_token_for_backup"

        # restoring over a live database replaces what is there
        engine_for(url).dispose()
        over = _ews("db", "restore", str(backup), url=url, cache_dir=cache_dir)
        assert over.returncode == 0, over.stderr
        assert _snapshot(url) == before
    finally:
        engine_for(target).dispose()
        if not target.startswith("sqlite"):
            _admin_execute(f'DROP DATABASE IF EXISTS "{target.rsplit("/", 1)[-1]}" WITH (FORCE)')


def test_a_restore_refuses_a_file_that_is_not_a_backup_of_this_kind(settings, tmp_path, cache_dir):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a database")
    result = _ews("db", "restore", str(bogus), url=settings.database_url, cache_dir=cache_dir)
    assert result.returncode == 2 and "is not a" in result.stderr
