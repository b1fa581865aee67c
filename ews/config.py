"""Settings: one pydantic-settings class, read from ``EWS_*`` environment variables."""

from __future__ import annotations

import socket
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EWS_", extra="ignore")

    database_url: str = "sqlite:///./var/ews.db"
    base_url: str = "http://127.0.0.1:8000"
    node_id: str = Field(default_factory=socket.gethostname)
    smtp_url: str | None = None
    mail_from: str = "ews@localhost"
    allow_loopback_webhooks: bool = False
    scheduler: str = "on"
    cache_dir: Path = Path.home() / ".cache" / "ews"

    # secrets at rest (see ews/keyring.py): unset means generated into the data directory
    data_dir: Path | None = None
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

    # scheduler intervals (seconds)
    dispatch_interval: float = 1.0
    federation_interval: float = 10.0
    lease_seconds: float = 60.0

    @property
    def scheduler_enabled(self) -> bool:
        return self.scheduler.strip().lower() not in ("off", "false", "0", "no")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
