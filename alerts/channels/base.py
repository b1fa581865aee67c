"""The one interface every channel implements; the delivery pipeline never looks inside."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class OutboundMessage:
    """One message to one target. ``id`` is stable across retries (webhook-id, Message-ID)."""

    id: str
    kind: str  # alert | digest | notice
    event_type: str  # alert.published, alert.updated, alert.cancelled, alert.digest, subscription.disabled
    target: str  # URL or e-mail address
    payload: dict  # {"type": ..., "timestamp": ..., "data": ...}
    language: str = "en"
    secret: str | None = None
    attempt: int = 1
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    status: int | None = None
    error: str | None = None
    retry_after: float | None = None  # seconds the receiver asked us to wait (429/503 Retry-After)
    gone: bool = False  # the receiver asked never to be called again (HTTP 410)
    permanent: bool = False  # retrying cannot help (refused target, unusable address)


class Channel(Protocol):
    name: str

    def send(self, message: OutboundMessage) -> Outcome: ...
