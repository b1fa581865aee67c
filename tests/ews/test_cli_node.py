"""The `ews` commands that run a node: where the database is, what `db upgrade` did, admin listings.

Real subprocesses, as users and scripts run them; both databases.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import IN_CI, _admin_execute, _pg_available, _url_for

ROOT = Path(__file__).resolve().parents[2]


def ews(*args, env, cwd=None, check=None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "ews.cli", *args],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=cwd,
        timeout=300,
    )
    if check is not None:
        assert result.returncode == check, (result.stdout, result.stderr)
    return result


def bare_env(cache_dir) -> dict:
    """The environment without any EWS_ database setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EWS_")}
    return {**env, "EWS_CACHE_DIR": str(cache_dir)}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    """A database with nothing in it yet: a new SQLite file, or an empty PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/node/ews.db"
        return
    if not _pg_available():
        if IN_CI:
            pytest.fail("PostgreSQL is required under CI=true")
        pytest.skip("PostgreSQL not available")
    name = f"ews_e_{uuid.uuid4().hex[:12]}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    yield _url_for(name)
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_db_upgrade_creates_loads_the_library_then_is_current(empty_database_url, cache_dir):
    env = {**bare_env(cache_dir), "EWS_DATABASE_URL": empty_database_url}
    created = ews("db", "upgrade", env=env, check=0)
    first, second = created.stdout.strip().splitlines()
    assert first.startswith("created the database") and "revision" in first
    assert second.startswith("loaded the bundled library: ") and int(second.split()[4]) > 500
    again = ews("db", "upgrade", env=env, check=0)
    assert "already current" in again.stdout and "loaded" not in again.stdout
    # the library is there for the next process: `ews match` and `ews serve` identify against it
    from sqlmodel import Session, func, select

    from ews.db import engine_for
    from ews.models import SubstanceRecord

    engine = engine_for(empty_database_url)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(SubstanceRecord)).one() > 500
    engine.dispose()


def test_db_upgrade_from_an_older_revision_says_from_and_to(empty_database_url, cache_dir):
    from ews.migrate import head_revision, upgrade

    upgrade(empty_database_url, "0002")
    env = {**bare_env(cache_dir), "EWS_DATABASE_URL": empty_database_url}
    out = ews("db", "upgrade", env=env, check=0).stdout
    assert f"from revision 0002 to {head_revision()}" in out
    assert "loaded the bundled library" in out  # 0002 held no library yet


def test_commands_find_the_nearest_node_database_from_a_subfolder(tmp_path, cache_dir):
    node = tmp_path / "node"
    (node / "reports" / "2026").mkdir(parents=True)
    env = bare_env(cache_dir)
    ews("db", "upgrade", env=env, cwd=node, check=0)
    assert (node / "var" / "ews.db").is_file()
    org = ews(
        "admin",
        "create-org",
        "--name",
        "Lab",
        "--kind",
        "lab",
        "--country",
        "CO",
        env=env,
        cwd=node / "reports" / "2026",
        check=0,
    )
    listed = ews("admin", "list-orgs", "--format", "json", env=env, cwd=node / "reports", check=0)
    assert org.stdout.split()[-1] in [o["id"] for o in json.loads(listed.stdout)]
    assert not (node / "reports" / "var").exists()  # nothing created where the command ran


def test_data_dir_names_the_database(tmp_path, cache_dir):
    env = {**bare_env(cache_dir), "EWS_DATA_DIR": str(tmp_path / "data")}
    ews("db", "upgrade", env=env, cwd=tmp_path, check=0)
    assert (tmp_path / "data" / "ews.db").is_file()
    assert ews("admin", "list-orgs", env=env, cwd="/", check=0).stdout.startswith("id")


@pytest.mark.parametrize(
    "command",
    [
        ["admin", "list-orgs"],
        ["admin", "list-keys"],
        ["admin", "create-org", "--name", "x", "--kind", "lab", "--country", "CO"],
        ["library", "load"],
        ["peers", "list"],
        ["serve", "--port", "0"],
        ["worker"],
    ],
)
def test_without_a_database_commands_fail_in_one_line_naming_it(tmp_path, cache_dir, command):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = ews(*command, env=bare_env(cache_dir), cwd=elsewhere)
    assert result.returncode == 2
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert str(elsewhere / "var" / "ews.db") in line
    assert "EWS_DATABASE_URL" in line and "ews db upgrade" in line
    assert not (elsewhere / "var").exists()  # no database was created by asking


def test_an_unreachable_or_unmigrated_database_is_one_line(tmp_path, cache_dir):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**bare_env(cache_dir), "EWS_DATABASE_URL": f"postgresql+psycopg://ews:secret@127.0.0.1:{port}/ews"}
    for command in (["admin", "list-keys"], ["db", "upgrade"]):
        result = ews(*command, env=env)
        assert result.returncode != 0 and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert f"127.0.0.1:{port}" in result.stderr and "secret" not in result.stderr
    empty = tmp_path / "empty.db"
    empty.touch()
    result = ews("admin", "list-orgs", env={**bare_env(cache_dir), "EWS_DATABASE_URL": f"sqlite:///{empty}"})
    assert result.returncode == 2 and "ews db upgrade" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_admin_lists_organisations_and_keys_and_revokes_a_key(database_url, cache_dir):
    env = {**bare_env(cache_dir), "EWS_DATABASE_URL": database_url}
    org = ews(
        "admin",
        "create-org",
        "--name",
        "Laboratorio Medellín",
        "--kind",
        "lab",
        "--country",
        "CO",
        env=env,
        check=0,
    )
    org_id = org.stdout.split()[-1]
    key = ews("admin", "create-key", "--org", org_id, "--role", "lab", "--label", "GC-MS bench", env=env, check=0)
    secret = key.stdout.split()[-1]

    table = ews("admin", "list-orgs", env=env, check=0).stdout.splitlines()
    assert table[0].split() == ["id", "name", "kind", "country", "created"]
    assert any(line.startswith(org_id) and "Laboratorio Medellín" in line and " CO " in line for line in table)

    keys = json.loads(ews("admin", "list-keys", "--format", "json", env=env, check=0).stdout)
    (mine,) = [k for k in keys if k["organisation_id"] == org_id]
    assert mine["org"] == "Laboratorio Medellín" and mine["roles"] == ["lab"] and mine["revoked"] is None
    assert mine["label"] == "GC-MS bench" and mine["created"]
    listing = ews("admin", "list-keys", env=env, check=0).stdout
    assert mine["id"] in listing and secret not in listing and secret not in json.dumps(keys)

    revoked = ews("admin", "revoke-key", mine["id"], env=env, check=0)
    assert "revoked" in revoked.stderr
    active = json.loads(ews("admin", "list-keys", "--format", "json", env=env, check=0).stdout)
    assert mine["id"] not in [k["id"] for k in active]
    everything = json.loads(ews("admin", "list-keys", "--all", "--format", "json", env=env, check=0).stdout)
    assert [k["revoked"] for k in everything if k["id"] == mine["id"]][0] is not None
    from ews.auth import _load_principal, hash_key
    from ews.db import engine_for

    assert _load_principal(engine_for(database_url), hash_key(secret)) is None  # the key opens nothing now
    unknown = ews("admin", "revoke-key", "no-such-key", env=env)
    assert unknown.returncode == 2 and "list-keys" in unknown.stderr


def test_serve_on_a_busy_port_is_one_line_before_anything_runs(tmp_path, cache_dir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = ews("serve", "--port", str(port), env=bare_env(cache_dir), cwd=tmp_path)
        check = ews("serve", "--port", str(port), "--check-port", env=bare_env(cache_dir), cwd=tmp_path)
    assert result.returncode == 1 and check.returncode == 1
    assert result.stderr.strip() == check.stderr.strip()
    assert f"port {port}" in result.stderr and "already in use" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "var").exists()


NEW_NITAZENE = "CCCCCOc1ccc(Cc2nc3cc([N+](=O)[O-])ccc3n2CCN2CCCCC2)cc1"
CATHINONE = "CCCCC(NCC)C(=O)c1ccc(OC)c(F)c1"


def test_match_uses_national_lists_imported_into_the_node_database(database_url, cache_dir, tmp_path):
    env = {**bare_env(cache_dir), "EWS_DATABASE_URL": database_url}
    national = tmp_path / "co.csv"
    national.write_text(f"name,smiles,schedule\nnueva sustancia,{NEW_NITAZENE},I\n")
    ews("library", "import", str(national), "--jurisdiction", "CO", env=env, check=0)
    result = ews("match", "--smiles", NEW_NITAZENE, "--jurisdiction", "CO", "--format", "json", env=env, check=0)
    answer = json.loads(result.stdout)
    assert answer["verdict"] == "controlled" and answer["controls"][0]["jurisdiction"] == "CO"
    assert "using the library of the database" in result.stderr
    # with no database to read, it says it reads only the bundled lists
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    alone = ews(
        "match",
        "--smiles",
        NEW_NITAZENE,
        "--jurisdiction",
        "CO",
        "--format",
        "json",
        env=bare_env(cache_dir),
        cwd=elsewhere,
        check=0,
    )
    assert json.loads(alone.stdout)["verdict"] == "analog"
    assert "reading only the bundled lists" in alone.stderr and "ews library import" in alone.stderr


def test_a_library_file_without_jurisdiction_is_labelled_so(tmp_path, cache_dir):
    listed = tmp_path / "list.csv"
    listed.write_text(f"name,smiles,schedule\nnueva sustancia,{NEW_NITAZENE},I\n")
    env = bare_env(cache_dir)
    answer = json.loads(
        ews(
            "match",
            "--smiles",
            NEW_NITAZENE,
            "--library",
            str(listed),
            "--format",
            "json",
            env=env,
            cwd=tmp_path,
            check=0,
        ).stdout
    )
    assert answer["verdict"] == "controlled" and answer["controls"][0]["jurisdiction"] is None
    table = ews(
        "match",
        "--smiles",
        NEW_NITAZENE,
        "--library",
        str(listed),
        "--format",
        "table",
        env=env,
        cwd=tmp_path,
        check=0,
    ).stdout
    assert "(no jurisdiction) national list I" in table and "UN national list" not in table
    # importing such a list into a node needs a jurisdiction
    node = tmp_path / "node"
    node.mkdir()
    ews("db", "upgrade", env=env, cwd=node, check=0)
    refused = ews("library", "import", str(listed), env=env, cwd=node)
    assert refused.returncode == 2 and "--jurisdiction" in refused.stderr


def test_the_table_marks_evidence_not_in_force(tmp_path, cache_dir):
    env = bare_env(cache_dir)
    un = ews("match", "--smiles", CATHINONE, "--format", "table", env=env, cwd=tmp_path, check=0).stdout
    row = un.splitlines()[1]
    assert "generic:Synthetic cathinones [not in force]" in row  # German law, not the UN's
    assert "[not in force]: evidence that is not law in UN on" in un
    gb = ews(
        "match", "--smiles", CATHINONE, "--jurisdiction", "GB", "--format", "table", env=env, cwd=tmp_path, check=0
    ).stdout
    row = gb.splitlines()[1]
    evidence = [part.strip() for part in row.split("generic:")[1:]]
    # the UK's own generic definition is law in GB: unmarked
    assert any(p.startswith("Synthetic cathinones") and "[not in force]" not in p for p in evidence), row
    assert "(group 1) [not in force]" in row  # the German one is not
