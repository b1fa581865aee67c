"""The `ews` command line as users and scripts run it: real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from rdkit import Chem

from tests.support import WAIT, free_port, wait_for

ISOTONITAZENE = "CCN(CC)CCn1c(Cc2ccc(OC(C)C)cc2)nc2cc([N+](=O)[O-])ccc21"
CAFFEINE = "Cn1cnc2c1c(=O)n(C)c(=O)n2C"


def ews(*args, env=None, check=None):
    result = subprocess.run(
        [sys.executable, "-m", "ews.cli", *args],
        capture_output=True,
        text=True,
        env=env or os.environ.copy(),
        timeout=300,
    )
    if check is not None:
        assert result.returncode == check, result.stderr
    return result


@pytest.fixture
def env(tmp_path, cache_dir):
    return {**os.environ, "EWS_CACHE_DIR": str(cache_dir), "EWS_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db"}


def lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_match_json_one_object_per_input_in_order_and_exit_1_on_unreadable(tmp_path, env):
    table = tmp_path / "samples.csv"
    table.write_text(f"name,smiles\nsample-1,{ISOTONITAZENE}.Cl\nsample-2,C1CC(\nsample-3,{CAFFEINE}\n")
    result = ews("match", "--file", str(table), "--format", "json", env=env, check=1)
    first, second, third = lines(result.stdout)
    assert (first["name"], first["verdict"], first["class"]) == ("sample-1", "controlled", "opioid")
    assert first["standardized"]["removed_fragments"] == ["Cl"]
    assert second["name"] == "sample-2" and "error" in second and "verdict" not in second
    assert third["verdict"] == "known"


def test_match_smiles_sdf_and_smi_inputs(tmp_path, env):
    assert (
        lines(
            ews(
                "match", "--smiles", CAFFEINE, "--smiles", ISOTONITAZENE, "--format", "json", env=env, check=0
            ).stdout
        )[1]["verdict"]
        == "controlled"
    )
    sdf = tmp_path / "seized.sdf"
    writer = Chem.SDWriter(str(sdf))
    for name, smiles in (("isotonitazene", ISOTONITAZENE), ("caffeine", CAFFEINE)):
        mol = Chem.MolFromSmiles(smiles)
        mol.SetProp("_Name", name)
        writer.write(mol)
    writer.close()
    results = lines(ews("match", "--file", str(sdf), "--format", "json", env=env, check=0).stdout)
    assert [(r["name"], r["verdict"]) for r in results] == [("isotonitazene", "controlled"), ("caffeine", "known")]
    smi = tmp_path / "list.smi"
    smi.write_text(f"# lab export\n{CAFFEINE} caffeine\n{ISOTONITAZENE} iso\n")
    results = lines(ews("match", "--file", str(smi), "--format", "json", env=env, check=0).stdout)
    assert [r["name"] for r in results] == ["caffeine", "iso"]


def test_match_as_of_jurisdiction_library_and_bare(tmp_path, env):
    before = lines(
        ews("match", "--smiles", ISOTONITAZENE, "--as-of", "2021-04-13", "--format", "json", env=env).stdout
    )
    assert before[0]["verdict"] == "analog" and before[0]["as_of"] == "2021-04-13"
    national = tmp_path / "national.csv"
    national.write_text(
        "name,smiles,schedule,controlled_since,jurisdiction,notes\n"
        "etonitazene,CCOc1ccc(Cc2nc3cc([N+](=O)[O-])ccc3n2CCN(CC)CC)cc1,I,1990-01-01,CO,ignored column\n"
    )
    own = lines(
        ews(
            "match",
            "--smiles",
            ISOTONITAZENE,
            "--smiles",
            CAFFEINE,
            "--library",
            str(national),
            "--jurisdiction",
            "CO",
            "--format",
            "json",
            env=env,
            check=0,
        ).stdout
    )
    assert [r["verdict"] for r in own] == ["analog", "known"]
    assert own[0]["class"] == "opioid"
    etonitazene = "CCOc1ccc(Cc2nc3cc([N+](=O)[O-])ccc3n2CCN(CC)CC)cc1"
    default = lines(
        ews("match", "--smiles", etonitazene, "--library", str(national), "--format", "json", env=env).stdout
    )
    assert default[0]["jurisdiction"] == "CO" and default[0]["verdict"] == "controlled"  # the list's own
    bare = lines(
        ews(
            "match",
            "--smiles",
            CAFFEINE,
            "--library",
            str(national),
            "--bare",
            "--format",
            "json",
            env=env,
            check=0,
        ).stdout
    )
    assert bare[0]["verdict"] == "no_match"


def test_match_table_format(env):
    result = ews("match", "--smiles", ISOTONITAZENE, "--format", "table", env=env, check=0)
    header, row = result.stdout.splitlines()[:2]
    assert header.split()[:3] == ["name", "verdict", "class"]
    assert "controlled" in row and "opioid" in row


@pytest.mark.parametrize(
    "args",
    [
        ["match"],
        ["match", "--smiles", "C", "--as-of", "27/11/2026"],
        ["match", "--smiles", "C", "--jurisdiction", "Colombia"],
        ["match", "--file", "/nonexistent/file.csv"],
        ["match", "--smiles", "C", "--bare"],
        ["match", "--smiles", "C", "--format", "xml"],
        ["frobnicate"],
    ],
)
def test_usage_errors_exit_2(args, env):
    result = ews(*args, env=env)
    assert result.returncode == 2, (args, result.stdout, result.stderr)
    assert result.stderr.strip()


def test_csv_without_structure_column_is_a_usage_error(tmp_path, env):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,structure_text\nx,C\n")
    result = ews("match", "--file", str(bad), env=env)
    assert result.returncode == 2 and "name,smiles" in result.stderr


def test_admin_commands_print_ids_and_keys_on_the_last_line(env, tmp_path):
    ews("db", "upgrade", env=env, check=0)
    ews("library", "load", env=env, check=0)
    org = ews(
        "admin", "create-org", "--name", "Lab Medellín", "--kind", "lab", "--country", "CO", env=env, check=0
    )
    org_id = org.stdout.strip().splitlines()[-1]
    key = ews("admin", "create-key", "--org", org_id, env=env, check=0).stdout.strip().splitlines()[-1]
    assert key.startswith("ews_") and len(key) > 30
    assert ews("admin", "create-key", "--org", "nope", env=env).returncode == 2
    assert ews("admin", "create-org", "--name", "x", "--kind", "lab", "--country", "XX", env=env).returncode == 2
    national = tmp_path / "co.csv"
    national.write_text(
        "name,smiles,schedule\nnueva sustancia,CCCCCOc1ccc(Cc2nc3cc([N+](=O)[O-])ccc3n2CCN2CCCCC2)cc1,I\n"
    )
    ews("library", "import", str(national), "--jurisdiction", "CO", env=env, check=0)

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "ews.cli", "serve", "--port", str(port), "--no-scheduler"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: _ready(port, server), interval=0.2, what="ews serve to answer /readyz")
        headers = {"Authorization": f"Bearer {key}"}
        body = {
            "sample": {"country": "CO"},
            "components": [{"smiles": "CCCCCOc1ccc(Cc2nc3cc([N+](=O)[O-])ccc3n2CCN2CCCCC2)cc1"}],
        }
        response = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/detections", json=body, headers=headers, timeout=WAIT
        )
        assert response.status_code == 201
        component = response.json()["components"][0]
        assert component["verdict"] == "controlled"  # by the imported Colombian list
        assert component["match"]["controls"][0]["jurisdiction"] == "CO"
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=WAIT)
    first_start_key = out.strip().splitlines()[0]
    assert first_start_key.startswith("ews_")  # the admin key printed once on the first start


def _ready(port: int, server: subprocess.Popen) -> bool:
    assert server.poll() is None, f"ews serve exited: {server.stderr.read()[-2000:]}"
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=WAIT).status_code == 200
    except httpx.HTTPError:
        return False


def test_peers_add_and_list(env, tmp_path, sqlite_template, cache_dir):
    import shutil

    from ews.app import create_app
    from ews.config import Settings
    from tests.conftest import make_actor
    from tests.support import running

    ews("db", "upgrade", env=env, check=0)
    env = {**env, "EWS_ALLOW_LOOPBACK_WEBHOOKS": "true", "EWS_NODE_ID": "node-here"}
    shutil.copy(sqlite_template, tmp_path / "peer.db")
    peer_url = f"sqlite:///{tmp_path}/peer.db"
    token = make_actor(peer_url, "regional", None).key
    with running(create_app(Settings(database_url=peer_url, cache_dir=cache_dir, node_id="node-there"))) as base:
        peer_id = ews("peers", "add", base + "/", "--token", token, env=env, check=0).stdout.split()[-1]
    listed = ews("peers", "list", env=env, check=0).stdout
    assert peer_id in listed and base in listed and "node-there" in listed
    refused = ews(
        "peers",
        "add",
        "http://127.0.0.1:9/",
        "--token",
        "x" * 10,
        env={**env, "EWS_ALLOW_LOOPBACK_WEBHOOKS": "false"},
    )
    assert refused.returncode == 2 and "https" in refused.stderr


def test_match_jobs_2_gives_the_output_of_jobs_1_in_input_order(tmp_path, env):
    """A file large enough for worker processes: same results, same order, errors in place."""
    from bench.validation import rows

    structures = [r["smiles"] for r in rows("nps_positives.csv") + rows("negatives.csv")][:260]
    table = tmp_path / "many.csv"
    body = [f"s{i:04d},{smiles}" for i, smiles in enumerate(structures)]
    body.insert(100, "broken,C1CC(")
    table.write_text("name,smiles\n" + "\n".join(body) + "\n")
    one = ews("match", "--file", str(table), "--format", "json", "--jobs", "1", env=env, check=1)
    two = ews("match", "--file", str(table), "--format", "json", "--jobs", "2", env=env, check=1)
    assert one.stdout == two.stdout
    names = [r["name"] for r in lines(two.stdout)]
    assert names == [line.split(",")[0] for line in body]
    refused = ews("match", "--file", str(table), "--jobs", "0", env=env, check=2)
    assert "argument --jobs: '0' is not a number of processes" in refused.stderr


def test_match_without_a_node_database_starts_without_the_settings_or_sqlalchemy(tmp_path, cache_dir):
    """The start-up of `ews match` is mostly imports: with no node database it needs neither."""
    env = {k: v for k, v in os.environ.items() if k.upper() not in ("EWS_DATABASE_URL", "EWS_DATA_DIR")}
    env["EWS_CACHE_DIR"] = str(cache_dir)
    # run from a folder of its own (no node database above it), importing this checkout's ews
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    script = (
        "import sys, ews.cli; code = ews.cli.main(['match', '--smiles', 'CCO', '--format', 'json']); "
        "print(sorted(m for m in ('pydantic', 'pydantic_settings', 'sqlalchemy', 'sqlmodel') if m in sys.modules)); "
        "sys.exit(code)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300
    )
    assert result.returncode == 0, result.stderr
    *matched, loaded = result.stdout.splitlines()
    assert lines("\n".join(matched))[0]["verdict"] == "known" and loaded == "[]", result.stderr
    assert "no node database here or above (no var/ews.db here or in a parent folder)" in result.stderr
    # a node database in a parent folder is still found and read (the settings are loaded then)
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "ews.db").write_bytes(b"")
    found = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300
    )
    assert "pydantic" in found.stdout.splitlines()[-1]
