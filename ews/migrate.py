"""Apply Alembic migrations from the repository's migrations/ folder, and say where a database stands."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from ews.db import make_engine, normalize_url

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def head_revision() -> str:
    """The revision this code needs (several heads, joined by '+', while branches await a merge)."""
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    return "+".join(sorted(heads))


def current_revision(url: str) -> str | None:
    """The database's revision, or None when it has no ews schema yet (or does not exist)."""
    engine = make_engine(url, writer=False)
    try:
        with engine.connect() as connection:
            heads = MigrationContext.configure(connection).get_current_heads()
    finally:
        engine.dispose()
    return "+".join(sorted(heads)) if heads else None


def display_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(normalize_url(url)).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as given
        return url


@dataclass
class UpgradeReport:
    before: str | None
    after: str

    def describe(self, url: str) -> str:
        where = display_url(url)
        if self.before is None:
            return f"created the database {where} (revision {self.after})"
        if self.before == self.after:
            return f"the database {where} is already current (revision {self.after})"
        return f"upgraded the database {where} from revision {self.before} to {self.after}"


def upgrade_with_report(url: str) -> UpgradeReport:
    """Upgrade to the newest revision and say what changed."""
    before = current_revision(url)
    upgrade(url)
    return UpgradeReport(before, current_revision(url) or head_revision())
