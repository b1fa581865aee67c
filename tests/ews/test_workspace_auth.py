"""Signing in, sessions, CSRF, rate limits and who may see which page — on SQLite and PostgreSQL."""

from __future__ import annotations

import os

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from ews.app import create_app
from ews.db import engine_for
from ews.models import AuditEntry, UserAccount, WebSession
from tests.ews.test_alerts import NEW_CATHINONE, report
from tests.ews.test_cli import ews
from tests.ews.workspace_support import client_sign_in, csrf_of, make_user


def _cookie_header(response, name: str) -> str:
    return next(h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}="))


def test_sign_in_gives_a_server_side_session_in_a_hardened_cookie(client, actors, settings):
    password = make_user(settings.database_url, actors["authority_co"].organisation_id, "Ana@ODC.gov.co")
    page = client.get("/login")
    assert page.status_code == 200 and "ews_csrf=" in page.headers["set-cookie"]
    wrong = client.post(
        "/login", data={"email": "ana@odc.gov.co", "password": "nope", "csrf_token": csrf_of(page.text)}
    )
    assert wrong.status_code == 401 and "E-mail or password is wrong." in wrong.text

    signed = client_sign_in(client, "ana@odc.gov.co", password)
    assert signed.status_code == 303 and signed.headers["location"] == "/"
    cookie = _cookie_header(signed, "ews_session").lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    token = client.cookies["ews_session"]
    home = client.get("/")
    assert 'id="whoami"' in home.text and "Observatorio de Drogas de Colombia" in home.text

    with Session(engine_for(settings.database_url)) as db:
        user = db.exec(select(UserAccount)).one()
        stored = db.exec(select(WebSession)).one()
        log = " ".join(str(e.detail) for e in db.exec(select(AuditEntry)).all())
    assert user.password_hash.startswith("$argon2id$") and password not in user.password_hash
    assert stored.id != token and len(stored.id) == 64  # only the token's SHA-256 is stored
    assert password not in log and token not in log

    out = client.post("/logout", data={"csrf_token": csrf_of(home.text)}, follow_redirects=False)
    assert out.status_code == 303
    client.cookies.set("ews_session", token)  # the old cookie no longer signs anybody in
    assert 'id="whoami"' not in client.get("/").text
    with Session(engine_for(settings.database_url)) as db:
        assert db.exec(select(WebSession)).all() == []


def test_the_session_cookie_is_secure_behind_https(settings, actors):
    secure = settings.model_copy(update={"base_url": "https://ews.example.gov.co"})
    password = make_user(settings.database_url, actors["lab_co"].organisation_id, "lab@lab.co")
    with TestClient(create_app(secure), base_url="https://testserver") as client:
        signed = client_sign_in(client, "lab@lab.co", password)
        assert "secure" in _cookie_header(signed, "ews_session").lower()


def test_a_post_without_the_csrf_token_is_refused(client, actors, settings):
    password = make_user(settings.database_url, actors["authority_co"].organisation_id, "ana@odc.gov.co")
    assert client.post("/login", data={"email": "ana@odc.gov.co", "password": password}).status_code == 403
    client_sign_in(client, "ana@odc.gov.co", password)
    report(client, actors["lab_co"], NEW_CATHINONE, "CSRF-1")
    queue = client.get("/review")
    alert_id = queue.text.split('data-alert="')[1].split('"')[0]
    refused = client.post(f"/review/{alert_id}/publish", data={})
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/html")
    assert 'id="csrf-refused"' in refused.text
    assert client.post(f"/review/{alert_id}/publish", data={"csrf_token": "forged"}).status_code == 403
    assert (
        client.get(f"/api/v1/alerts/{alert_id}", headers=actors["authority_co"].headers).json()["status"]
        == "draft"
    )
    done = client.post(
        f"/review/{alert_id}/publish", data={"csrf_token": csrf_of(queue.text)}, follow_redirects=False
    )
    assert done.status_code == 303
    assert (
        client.get(f"/api/v1/alerts/{alert_id}", headers=actors["authority_co"].headers).json()["status"]
        == "published"
    )


def test_failed_sign_ins_are_limited_per_account_across_processes(settings, actors):
    password = make_user(settings.database_url, actors["lab_co"].organisation_id, "lab@lab.co")
    # two application instances stand for two processes: the count lives in the database
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        for attempt in range(5):
            answer = client_sign_in(first if attempt % 2 else second, "lab@lab.co", f"wrong-{attempt}")
            assert answer.status_code == 401
        limited = client_sign_in(first, "lab@lab.co", password)  # even the right password waits now
        assert limited.status_code == 429 and 0 < int(limited.headers["retry-after"]) <= 15 * 60
        assert "Too many failed sign-ins" in limited.text
        assert client_sign_in(second, "LAB@lab.co", password).status_code == 429
        # another account from another address is not held up by them
        other = make_user(settings.database_url, actors["lab_co2"].organisation_id, "b@lab.co")
        assert client_sign_in(second, "b@lab.co", other).status_code == 303


def test_failed_sign_ins_are_limited_per_address(settings, actors):
    with TestClient(create_app(settings)) as client:
        for attempt in range(20):  # 20 different accounts from one address
            assert client_sign_in(client, f"guess{attempt}@example.org", "password123456").status_code == 401
        password = make_user(settings.database_url, actors["lab_co"].organisation_id, "lab@lab.co")
        assert client_sign_in(client, "lab@lab.co", password).status_code == 429


def test_pages_check_roles_as_the_api_does(client, actors, settings):
    url = settings.database_url
    report(client, actors["lab_co"], NEW_CATHINONE, "ROLE-1")
    alert_id = client.get("/api/v1/alerts", headers=actors["authority_co"].headers).json()["items"][0]["id"]

    anonymous = client.get("/review", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login?next=%2Freview"
    draft = client.get(f"/alerts/{alert_id}?lang=es")
    assert draft.status_code == 404 and draft.headers["content-type"].startswith("text/html")
    assert "No encontrado" in draft.text and '<html lang="es">' in draft.text

    lab = TestClient(create_app(settings))
    client_sign_in(lab, "lab@lab.co", make_user(url, actors["lab_co"].organisation_id, "lab@lab.co"))
    assert lab.get("/review").status_code == 403 and "Not allowed" in lab.get("/review").text
    assert lab.get(f"/alerts/{alert_id}").status_code == 404  # labs don't see drafts
    assert lab.get("/submit").status_code == 200

    mexico = TestClient(create_app(settings))
    client_sign_in(mexico, "mx@gob.mx", make_user(url, actors["authority_mx"].organisation_id, "mx@gob.mx"))
    assert mexico.get(f"/alerts/{alert_id}").status_code == 404  # not its country's draft
    assert alert_id not in mexico.get("/review").text
    assert mexico.get("/submit").status_code == 403  # an authority does not report detections

    colombia = TestClient(create_app(settings))
    client_sign_in(colombia, "co@odc.co", make_user(url, actors["authority_co"].organisation_id, "co@odc.co"))
    page = colombia.get(f"/alerts/{alert_id}")
    assert page.status_code == 200 and 'data-status="draft"' in page.text and 'id="publish"' in page.text
    # the authority sees its country's detections, without the lab's private fields
    listing = colombia.get("/detections")
    assert "ROLE-1" not in listing.text and "PRIVATE-CASE" not in listing.text and "/detections/" in listing.text
    detection_id = listing.text.split('href="/detections/')[1].split('"')[0]
    detail = colombia.get(f"/detections/{detection_id}")
    assert detail.status_code == 200 and "PRIVATE-CASE" not in detail.text and 'id="private"' not in detail.text
    assert "PRIVATE-CASE" not in colombia.get("/detections.csv").text
    # the API still answers with problem+json
    assert client.get("/api/v1/alerts/nope").headers["content-type"].startswith("application/problem+json")
    with Session(engine_for(url)) as db:
        assert db.exec(select(AuditEntry).where(col(AuditEntry.action) == "user.sign_in")).all()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_create_user_prints_the_password_once_and_list_users(tmp_path, cache_dir, database_url):
    env = {**os.environ, "EWS_CACHE_DIR": str(cache_dir), "EWS_DATABASE_URL": database_url}
    org = ews("admin", "create-org", "--name", "Lab", "--kind", "lab", "--country", "CO", env=env, check=0)
    org_id = org.stdout.strip().splitlines()[-1]
    made = ews("admin", "create-user", "--org", org_id, "--email", "quimica@lab.co", env=env, check=0)
    password = made.stdout.strip().splitlines()[-1]
    assert len(password) >= 20 and password not in made.stderr
    settings_env = {"database_url": database_url, "scheduler": "off", "cache_dir": cache_dir}
    from ews.config import Settings

    with TestClient(create_app(Settings(**settings_env))) as client:
        assert client_sign_in(client, "quimica@lab.co", password).status_code == 303
        assert "quimica" in client.get("/").text

    given = subprocess_input(env, org_id, "chosen-password-123")
    assert given.returncode == 0 and "chosen-password-123" not in given.stdout + given.stderr
    with TestClient(create_app(Settings(**settings_env))) as client:
        assert client_sign_in(client, "second@lab.co", "chosen-password-123").status_code == 303
    assert ews("admin", "create-user", "--org", org_id, "--email", "quimica@lab.co", env=env).returncode == 2
    assert ews("admin", "create-user", "--org", "nope", "--email", "x@lab.co", env=env).returncode == 2
    listed = ews("admin", "list-users", env=env, check=0).stdout
    assert "quimica@lab.co" in listed and "second@lab.co" in listed and "lab" in listed
    assert password not in listed


def subprocess_input(env, org_id: str, password: str):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "ews.cli", "admin", "create-user", "--org", org_id, "--email", "second@lab.co"]
        + ["--role", "lab", "--password-stdin"],
        input=password + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_an_expired_session_signs_nobody_in(client, actors, settings):
    from datetime import timedelta

    from ews.db import session_scope, utcnow

    password = make_user(settings.database_url, actors["lab_co"].organisation_id, "lab@lab.co")
    client_sign_in(client, "lab@lab.co", password)
    assert client.get("/submit").status_code == 200
    with session_scope(engine_for(settings.database_url)) as db:
        for row in db.exec(select(WebSession)).all():
            row.expires_at = utcnow() - timedelta(seconds=1)
            db.add(row)
    gone = client.get("/submit", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"].startswith("/login?next=")


def test_dismissing_needs_a_reason(client, actors, settings):
    password = make_user(settings.database_url, actors["authority_co"].organisation_id, "ana@odc.gov.co")
    client_sign_in(client, "ana@odc.gov.co", password)
    report(client, actors["lab_co"], NEW_CATHINONE, "DISMISS-1")
    queue = client.get("/review?lang=pt")
    alert_id = queue.text.split('data-alert="')[1].split('"')[0]
    refused = client.post(
        f"/review/{alert_id}/dismiss?lang=pt", data={"csrf_token": csrf_of(queue.text), "reason": " "}
    )
    assert (
        refused.status_code == 422 and "<code>reason</code>" in refused.text and '<html lang="pt">' in refused.text
    )
    assert (
        client.get(f"/api/v1/alerts/{alert_id}", headers=actors["authority_co"].headers).json()["status"]
        == "draft"
    )
