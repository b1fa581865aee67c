"""`make run` and `make test` on machines as they come: the port, the base URL, the browser install."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support import WAIT, free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make")


def fake_bin(tmp_path: Path, uid: int, with_apt: bool) -> Path:
    """A PATH with only `id` (answering ``uid``) and, maybe, an `apt-get` that records its arguments."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    if with_apt:
        (folder / "apt-get").write_text(f'#!/bin/sh\necho "$*" >> {tmp_path}/apt.log\n')
    for script in folder.iterdir():
        script.chmod(0o755)
    return folder


def make_browser(tmp_path: Path, uid: int, with_apt: bool) -> subprocess.CompletedProcess:
    env = {"PATH": str(fake_bin(tmp_path, uid, with_apt)), "HOME": str(tmp_path)}
    return subprocess.run([MAKE, "-s", "system"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=WAIT)


def test_make_test_installs_chromium_from_debian_as_root(tmp_path):
    result = make_browser(tmp_path, uid=0, with_apt=True)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "apt.log").read_text().splitlines() == [
        "update -qq",
        "install -y -qq chromium chromium-driver libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core",
    ]


def test_make_test_without_root_says_in_one_line_what_to_install(tmp_path):
    result = make_browser(tmp_path, uid=1000, with_apt=True)
    assert result.returncode != 0
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("make test needs")]
    assert "apt-get install -y chromium chromium-driver" in line
    assert not (tmp_path / "apt.log").exists()


def test_ci_runs_exactly_make_test():
    script = (ROOT / ".ci" / "run").read_text()
    assert "make test" in script and "apt-get" not in script  # the install lives in the Makefile only
    assert "pg_isready" in script  # CI still starts PostgreSQL


def test_make_run_on_a_busy_port_is_one_line_before_migrations(tmp_path, cache_dir):
    database = tmp_path / "node.db"
    env = {**os.environ, "EWS_DATABASE_URL": f"sqlite:///{database}", "EWS_CACHE_DIR": str(cache_dir)}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            # -o: never reinstall the environment here, the test runs inside it
            [MAKE, "-s", "-o", ".venv/.installed-run", "run", f"PORT={port}", "HOST=127.0.0.1"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode != 0
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("ews serve:")]
    assert f"port {port} on 127.0.0.1 is already in use" in line and f"PORT={port + 1}" in line
    assert not database.exists()  # nothing migrated


def test_the_base_url_follows_the_port_unless_set(database_url, cache_dir):
    env = {k: v for k, v in os.environ.items() if k != "EWS_BASE_URL"}
    env |= {"EWS_DATABASE_URL": database_url, "EWS_CACHE_DIR": str(cache_dir), "EWS_SCHEDULER": "off"}
    for base in (None, "https://ews.example.gov.co"):
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "ews.cli", "serve", "--port", str(port)],
            env=env | ({"EWS_BASE_URL": base} if base else {}),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            url = f"http://127.0.0.1:{port}"

            def feed(url=url, server=server):
                try:
                    response = httpx.get(f"{url}/feeds/alerts.atom", timeout=WAIT)
                except httpx.HTTPError:
                    assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
                    return None
                return response.text if response.status_code == 200 else None

            atom = wait_for(feed, interval=0.2)
            assert f'href="{base or url}/feeds/alerts.atom"' in atom
        finally:
            server.terminate()
            server.wait(timeout=WAIT)


def test_the_test_client_imports_without_a_deprecation_warning():
    # Starlette's TestClient warns when it has to fall back to plain httpx; the test extras bring httpx2
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", "import fastapi.testclient"],
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert result.returncode == 0, result.stderr
