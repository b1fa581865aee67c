"""Shared fixtures: real databases (SQLite and PostgreSQL), a node, and keys.

PostgreSQL comes from ``EWS_TEST_DATABASE_URL`` or 127.0.0.1:5432; tests that
need it are skipped when it does not answer, except under ``CI=true``, where
they fail. Each test gets a fresh database cloned from a template that already
holds the migrated schema and the bundled library.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ews.config import Settings
from ews.db import engine_for, normalize_url, session_scope

pytest_plugins = ["tests.browser"]  # the `browser` fixture: headless Chromium on loopback only

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pg_admin_url() -> str:
    return normalize_url(os.environ.get("EWS_TEST_DATABASE_URL") or DEFAULT_PG)


def _pg_available() -> bool:
    try:
        engine = create_engine(pg_admin_url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return False


def _url_for(database: str) -> str:
    return make_url(pg_admin_url()).set(database=database).render_as_string(hide_password=False)


def _admin_execute(statement: str) -> None:
    engine = create_engine(pg_admin_url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(statement))
    engine.dispose()


def _prepare(url: str, cache_dir: Path) -> None:
    from ews.migrate import upgrade
    from ews.services.library import load_bundled

    upgrade(url)
    load_bundled(engine_for(url), cache_dir)
    engine_for(url).dispose()


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("ews-cache")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory, cache_dir) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    _prepare(f"sqlite:///{path}", cache_dir)
    return path


@pytest.fixture(scope="session")
def pg_template(cache_dir):
    if not _pg_available():
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI=true and does not answer at {pg_admin_url()}")
        pytest.skip("PostgreSQL not available")
    name = f"ews_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    _prepare(_url_for(name), cache_dir)
    yield name
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, sqlite_template):
    """A fresh, migrated database with the bundled library: SQLite and PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "ews.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("pg_template")
    name = f"ews_t_{uuid.uuid4().hex[:12]}"
    _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = _url_for(name)
    yield url
    engine_for(url).dispose()
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(request):
    """A fresh PostgreSQL database only (for tests of PostgreSQL-specific behaviour)."""
    template = request.getfixturevalue("pg_template")
    name = f"ews_t_{uuid.uuid4().hex[:12]}"
    _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = _url_for(name)
    yield url
    engine_for(url).dispose()
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def settings(database_url, cache_dir, tmp_path) -> Settings:
    return Settings(
        database_url=database_url,
        cache_dir=cache_dir,
        node_id="test-node",
        base_url="http://testserver",
        allow_loopback_webhooks=True,
        scheduler="off",
    )


@dataclass
class Actor:
    organisation_id: str
    key: str
    country: str | None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def make_actor(url: str, kind: str, country: str | None, name: str | None = None, roles=None) -> Actor:
    from ews.services.admin import create_organisation, issue_key

    with session_scope(engine_for(url)) as session:
        organisation = create_organisation(session, name or f"{kind} {country or ''}".strip(), kind, country)
        _, key = issue_key(session, organisation, roles)
    return Actor(organisation.id, key, country)


@pytest.fixture
def client(settings):
    from ews.app import create_app

    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def actors(settings):
    """Organisations of a small network: two labs in Colombia, one in Mexico, authorities, a regional node."""
    url = settings.database_url
    return {
        "lab_co": make_actor(url, "lab", "CO", "Laboratorio Medellín"),
        "lab_co2": make_actor(url, "lab", "CO", "Laboratorio Bogotá"),
        "lab_mx": make_actor(url, "lab", "MX", "Laboratorio CDMX"),
        "authority_co": make_actor(url, "authority", "CO", "Observatorio de Drogas de Colombia"),
        "authority_mx": make_actor(url, "authority", "MX"),
        "regional": make_actor(url, "regional", None, "CICAD regional node"),
        "admin": make_actor(url, "admin", None, "Node administration"),
    }
