"""Back up and restore a node's database: ``ews db backup PATH`` / ``ews db restore PATH``.

SQLite uses its online backup API: a consistent copy taken while the node
runs (writers wait a moment, readers never), checked with ``integrity_check``.
PostgreSQL uses ``pg_dump --format=custom`` and ``pg_restore --clean``, the
tools of the PostgreSQL installation (found on PATH or under
/usr/lib/postgresql/*/bin).

Secrets in the database are encrypted with the node's ``EWS_SECRET_KEY`` (or
``secret.key`` in its data directory): keep that key with the backup, apart
from it, or peer tokens and webhook secrets cannot be read after a restore.
"""

from __future__ import annotations

import glob
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from ews.db import normalize_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that could not be done; nothing was changed."""


@dataclass(frozen=True)
class Summary:
    path: Path
    kind: str
    bytes: int


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(normalize_url(url))
    if not parsed.drivername.startswith("sqlite"):
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(parsed.database)


def _tool(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        raise BackupError(f"{name} is not installed; install the PostgreSQL client tools (e.g. postgresql-client)")
    return found


def _libpq(url: str) -> tuple[str, dict]:
    """A libpq connection string without the password, and the password in PGPASSWORD."""
    parsed = make_url(normalize_url(url))
    env = {"PGPASSWORD": parsed.password} if parsed.password else {}
    dsn = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return dsn, env


def _run(command: list[str], env: dict) -> None:
    import os

    result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **env}, timeout=3600)
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip()[-1000:]}")


def backup(url: str, path: Path) -> Summary:
    path = Path(path)
    if path.exists():
        raise BackupError(f"{path} exists; choose a new file (a backup never overwrites)")
    path.parent.mkdir(parents=True, exist_ok=True)
    source = _sqlite_path(url)
    if source is not None:
        if not source.exists():
            raise BackupError(f"no database at {source}")
        partial = path.with_name(path.name + ".partial")
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(partial) as dest:
            src.backup(dest)
            status = dest.execute("PRAGMA integrity_check").fetchone()[0]
        if status != "ok":
            partial.unlink(missing_ok=True)
            raise BackupError(f"the copy failed its integrity check: {status}")
        partial.rename(path)
        return Summary(path, "sqlite", path.stat().st_size)
    dsn, env = _libpq(url)
    _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={path}", dsn], env)
    return Summary(path, "postgresql", path.stat().st_size)


def restore(url: str, path: Path) -> Summary:
    """Replace the database's contents with the backup at ``path`` (stop the node's processes first)."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"no backup at {path}")
    head = path.read_bytes()[:16]
    target = _sqlite_path(url)
    if target is not None:
        if head != SQLITE_MAGIC:
            raise BackupError(f"{path} is not a SQLite backup (this node's database is SQLite)")
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as src:
            status = src.execute("PRAGMA integrity_check").fetchone()[0]
            if status != "ok":
                raise BackupError(f"the backup fails its integrity check: {status}; nothing was changed")
            target.parent.mkdir(parents=True, exist_ok=True)
            with sqlite3.connect(target) as dest:
                src.backup(dest)
        return Summary(path, "sqlite", path.stat().st_size)
    if not head.startswith(PGDUMP_MAGIC):
        raise BackupError(f"{path} is not a pg_dump custom-format backup (this node's database is PostgreSQL)")
    dsn, env = _libpq(url)
    _run(
        [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            f"--dbname={dsn}",
            str(path),
        ],
        env,
    )
    return Summary(path, "postgresql", path.stat().st_size)
