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

    # request bounds
    max_body_bytes: int = 5_000_000
    max_batch_rows: int = 5_000

    # alert rules
    cluster_threshold: int = 3
    cluster_window_days: int = 14
    alert_update_interval: float = 60.0  # seconds: at most one CAP Update per alert this often (bursts coalesce)

    # scheduler intervals (seconds)
    dispatch_interval: float = 1.0
    federation_interval: float = 60.0
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
