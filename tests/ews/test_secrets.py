"""Secrets at rest (peer tokens, webhook secrets, the signing key) and API key lifetimes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from ews.db import engine_for, session_scope
from ews.keyring import Keyring, SecretKeyError, data_dir, generated_key
from ews.models import ApiKey
from ews.services.admin import rotate_key
from tests.conftest import make_actor

OLD_KEY = "old-secret-key-" + "o" * 32
NEW_KEY = "new-secret-key-" + "n" * 32


def test_a_generated_key_is_private_to_its_owner_and_stable(tmp_path):
    first = generated_key(tmp_path / "var")
    assert generated_key(tmp_path / "var") == first
    mode = stat.S_IMODE(os.stat(tmp_path / "var" / "secret.key").st_mode)
    assert mode == 0o600


@pytest.mark.parametrize("form", ["sqlite:///{path}", "sqlite:///file:{path}?mode=ro&uri=true"])
def test_the_key_lives_beside_the_sqlite_database_whatever_form_its_url_takes(tmp_path, monkeypatch, form):
    # An SQLite URI filename once made a folder literally named "file:" in the working directory.
    monkeypatch.delenv("EWS_DATA_DIR", raising=False)
    path = tmp_path / "node" / "ews.db"
    assert data_dir(form.format(path=path)) == path.parent


def test_values_encrypted_under_a_previous_key_are_read_and_rotated():
    old, rotated = Keyring(OLD_KEY), Keyring(NEW_KEY, [OLD_KEY])
    stored = old.encrypt("ews_peer_token")
    assert stored.startswith("enc:v1:") and "ews_peer_token" not in stored
    assert rotated.decrypt(stored) == "ews_peer_token"
    assert not rotated.is_current(stored)
    again = rotated.rotate(stored)
    assert rotated.is_current(again) and Keyring(NEW_KEY).decrypt(again) == "ews_peer_token"
    with pytest.raises(SecretKeyError, match="EWS_SECRET_KEY_PREVIOUS"):
        Keyring(NEW_KEY).decrypt(stored)
    with pytest.raises(SecretKeyError, match="at least 32 characters"):
        Keyring("short")


def _ews(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ews.cli", *args], capture_output=True, text=True, env=env, timeout=300
    )


def _stored(url: str, table: str, column: str) -> str:
    with engine_for(url).connect() as connection:
        return connection.execute(text(f"SELECT {column} FROM {table}")).scalar_one()


def test_rotate_secrets_rewrites_every_stored_secret_under_the_new_key(database_url, cache_dir, tmp_path):
    env = {**os.environ, "EWS_DATABASE_URL": database_url, "EWS_CACHE_DIR": str(cache_dir)}
    lab = make_actor(database_url, "lab", "CO")
    with engine_for(database_url).begin() as connection:  # rows stored before encryption existed
        connection.execute(
            text(
                "INSERT INTO peer (id, url, token, active, failures, next_pull_at, created_at, id_clash) "
                "VALUES ('p1', 'https://ews.example.org', 'ews_plain_peer_token', true, 0, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, false)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO subscription (id, organisation_id, channel, url, secret, filters, language, digest,"
                " active, created_at) VALUES ('s1', :org, 'webhook', 'https://hooks.example.org', "
                "'whsec_plainsecret', '{}', 'en', 'immediate', true, CURRENT_TIMESTAMP)"
            ),
            {"org": lab.organisation_id},
        )

    upgraded = _ews("db", "upgrade", env={**env, "EWS_SECRET_KEY": OLD_KEY})
    assert upgraded.returncode == 0, upgraded.stderr
    assert "encrypted 2 stored secret(s)" in upgraded.stderr
    token, secret = _stored(database_url, "peer", "token"), _stored(database_url, "subscription", "secret")
    assert "plain" not in token + secret
    assert Keyring(OLD_KEY).decrypt(token) == "ews_plain_peer_token"

    wrong = _ews("admin", "rotate-secrets", env={**env, "EWS_SECRET_KEY": NEW_KEY})
    assert wrong.returncode == 2 and "EWS_SECRET_KEY_PREVIOUS" in wrong.stderr
    assert _stored(database_url, "peer", "token") == token  # nothing changed

    rotated = _ews(
        "admin", "rotate-secrets", env={**env, "EWS_SECRET_KEY": NEW_KEY, "EWS_SECRET_KEY_PREVIOUS": OLD_KEY}
    )
    assert rotated.returncode == 0, rotated.stderr
    assert "re-encrypted 2 secret(s)" in rotated.stderr
    assert Keyring(NEW_KEY).decrypt(_stored(database_url, "peer", "token")) == "ews_plain_peer_token"
    assert Keyring(NEW_KEY).decrypt(_stored(database_url, "subscription", "secret")) == "whsec_plainsecret"
    # once rotated, the old key can go
    assert _ews("admin", "rotate-secrets", env={**env, "EWS_SECRET_KEY": NEW_KEY}).returncode == 0


def test_a_rotated_api_key_and_its_successor_both_work_until_the_grace_ends(client, settings):
    lab = make_actor(settings.database_url, "lab", "CO")
    engine = engine_for(settings.database_url)
    assert client.get("/api/v1/detections", headers=lab.headers).status_code == 200
    with Session(engine) as session:
        (old,) = session.exec(select(ApiKey).where(ApiKey.organisation_id == lab.organisation_id)).all()
        first_use = old.last_used_at
    assert first_use is not None
    client.get("/api/v1/detections", headers=lab.headers)
    with Session(engine) as session:
        assert session.get(ApiKey, old.id).last_used_at == first_use  # not written on every request

    with session_scope(engine) as session:
        new_row, new_key, _ = rotate_key(session, old.id, timedelta(hours=1))
    new_headers = {"Authorization": f"Bearer {new_key}"}
    assert client.get("/api/v1/detections", headers=lab.headers).status_code == 200
    assert client.get("/api/v1/detections", headers=new_headers).status_code == 200

    with session_scope(engine) as session:
        rotate_key(session, old.id, timedelta(0))  # end the old key's grace now
    client.app.state.node.keys._entries.clear()  # as after the cache's two seconds
    assert client.get("/api/v1/detections", headers=lab.headers).status_code == 401
    assert client.get("/api/v1/detections", headers=new_headers).status_code == 200


def test_a_key_created_with_an_expiry_stops_working_then(tmp_path, cache_dir, sqlite_template):
    import shutil

    shutil.copy(sqlite_template, tmp_path / "n.db")
    env = {**os.environ, "EWS_DATABASE_URL": f"sqlite:///{tmp_path}/n.db", "EWS_CACHE_DIR": str(cache_dir)}
    org = _ews("admin", "create-org", "--name", "Lab", "--kind", "lab", "--country", "CO", env=env)
    org_id = org.stdout.split()[-1]
    made = _ews("admin", "create-key", "--org", org_id, "--expires-in-days", "-1", env=env)
    assert made.returncode == 0, made.stderr
    from fastapi.testclient import TestClient

    from ews.app import create_app
    from ews.config import Settings

    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/n.db", cache_dir=cache_dir, scheduler="off"))
    with TestClient(app) as test_client:
        response = test_client.get(
            "/api/v1/detections", headers={"Authorization": f"Bearer {made.stdout.split()[-1]}"}
        )
    assert response.status_code == 401
