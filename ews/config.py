"""Settings: one pydantic-settings class, read from ``EWS_*`` environment variables.

Where the database is, when ``EWS_DATABASE_URL`` is not set (docs/running.md):

1. ``EWS_DATA_DIR``, if set: the SQLite database ``$EWS_DATA_DIR/ews.db``;
2. else the nearest ``var/ews.db`` in the current directory or one of its
   parents (as git finds ``.git``), so commands run anywhere inside a node's
   folder use that node's database;
3. else ``./var/ews.db`` in the current directory, which ``ews db upgrade``
   creates and every other command refuses, saying so in one line.

The data directory (``Settings.data_dir``) is the folder of that SQLite file,
or ``EWS_DATA_DIR``; node-local files such as a generated secret key live there.
"""

from __future__ import annotations

import os
import socket
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ews.nodepath import DATA_DIR_NAME, DATABASE_FILE, NOT_FOUND, find_node_database


def locate_database(data_dir: str | os.PathLike | None) -> tuple[str, str]:
    """The default database URL and how it was chosen, when ``EWS_DATABASE_URL`` is not set."""
    if data_dir:
        path = Path(data_dir).expanduser().resolve() / DATABASE_FILE
        return f"sqlite:///{path}", "EWS_DATA_DIR"
    found = find_node_database()
    if found is not None:
        return f"sqlite:///{found}", f"found {DATA_DIR_NAME}/{DATABASE_FILE} above the current directory"
    path = Path.cwd().resolve() / DATA_DIR_NAME / DATABASE_FILE
    return f"sqlite:///{path}", NOT_FOUND


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EWS_", extra="ignore")

    database_url: str = ""
    # how database_url was chosen: "EWS_DATABASE_URL", "EWS_DATA_DIR", "found …", "no var/ews.db …"
    database_origin: str = "EWS_DATABASE_URL"
    data_dir: Path | None = None
    base_url: str = "http://127.0.0.1:8000"
    node_id: str = Field(default_factory=socket.gethostname)
    smtp_url: str | None = None
    mail_from: str = "ews@localhost"
    allow_loopback_webhooks: bool = False
    scheduler: str = "on"
    cache_dir: Path = Path.home() / ".cache" / "ews"

    # secrets at rest (see ews/keyring.py): unset means generated into the data directory
    secret_key: str | None = Field(default=None, repr=False)
    secret_key_previous: str | None = Field(default=None, repr=False)

    # abuse bounds: requests per minute (0: no limit), counted across processes in the database
    rate_limit_per_key: int = 60_000
    rate_limit_per_address: int = 6_000
    # browsers of other sites may call the API only from these origins (comma-separated); none by default
    cors_origins: str = ""
    # logs: "json" (one object per line) or "text"
    log_format: str = "json"
    log_level: str = "INFO"

    # request bounds
    max_body_bytes: int = 5_000_000
    max_batch_rows: int = 5_000

    # alert rules
    cluster_threshold: int = 3
    cluster_window_days: int = 14
    alert_update_interval: float = 60.0  # seconds: at most one CAP Update per alert this often (bursts coalesce)

    # scheduler intervals (seconds)
    dispatch_interval: float = 1.0
    federation_interval: float = 10.0
    lease_seconds: float = 60.0

    @model_validator(mode="before")
    @classmethod
    def _default_database(cls, values: Any) -> Any:
        if isinstance(values, dict) and not values.get("database_url"):
            url, origin = locate_database(values.get("data_dir"))
            values = {**values, "database_url": url, "database_origin": origin}
        return values

    @model_validator(mode="after")
    def _data_dir(self) -> Settings:
        if self.data_dir is None and self.is_sqlite:
            path = self.sqlite_path
            if path is not None:
                self.data_dir = path.parent
        return self

    @property
    def scheduler_enabled(self) -> bool:
        return self.scheduler.strip().lower() not in ("off", "false", "0", "no")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite database file (None for PostgreSQL or an in-memory database)."""
        if not self.is_sqlite:
            return None
        path = self.database_url.split("///", 1)[-1].split("?", 1)[0]
        return None if not path or path == ":memory:" else Path(path)


@lru_cache
def get_settings() -> Settings:
    return Settings()
