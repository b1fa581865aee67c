"""Webhooks signed per the Standard Webhooks specification.

Headers ``webhook-id`` (the delivery id: the same on every retry),
``webhook-timestamp`` and ``webhook-signature`` (``v1,<base64 HMAC-SHA256>``
of ``{id}.{timestamp}.{body}``, made by the maintained ``standardwebhooks``
library). The target is checked again at send time and the connection pinned
to the checked address; redirects are not followed; 15 s timeout.
"""

from __future__ import annotations

import ipaddress
import json
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import httpx
from standardwebhooks import Webhook

from alerts.channels.base import OutboundMessage, Outcome
from alerts.retry import parse_retry_after
from alerts.urlguard import UnsafeTarget, check_url

MAX_PAYLOAD_BYTES = 20_000
USER_AGENT = "ews-webhooks/0.1 (+https://github.com/ews)"


def encode(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def sign(secret: str, message_id: str, timestamp: datetime, body: str) -> str:
    return Webhook(secret).sign(message_id, timestamp, body)


def _pinned(url: str, address: str) -> str:
    parts = urlsplit(url)
    host = (
        f"[{address}]"
        if isinstance(ipaddress.ip_address(address.split("%")[0]), ipaddress.IPv6Address)
        else address
    )
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


class WebhookChannel:
    name = "webhook"

    def __init__(self, allow_loopback: bool = False, timeout: float = 15.0, client: httpx.Client | None = None):
        self.allow_loopback = allow_loopback
        self.timeout = timeout
        self.client = client or httpx.Client(
            timeout=httpx.Timeout(timeout),
            # no pool cap: the dispatcher bounds concurrency, and a capped pool would make healthy endpoints
            # queue for connections held by endpoints that are slow to answer
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=32),
            follow_redirects=False,
            trust_env=False,
            headers={"user-agent": USER_AGENT},
        )

    def send(self, message: OutboundMessage) -> Outcome:
        if not message.secret:
            return Outcome(False, error="subscription has no signing secret", permanent=True)
        try:
            target = check_url(message.target, self.allow_loopback)
        except UnsafeTarget as refused:
            return Outcome(False, error=str(refused), permanent=True)
        body = encode(message.payload)
        if len(body.encode()) > MAX_PAYLOAD_BYTES:
            return Outcome(
                False, error=f"payload of {len(body.encode())} bytes exceeds {MAX_PAYLOAD_BYTES}", permanent=True
            )
        now = datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "webhook-id": message.id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": sign(message.secret, message.id, now, body),
            "host": target.host if target.port in (80, 443) else f"{target.host}:{target.port}",
        }
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        try:
            response = self.client.post(
                _pinned(message.target, target.addresses[0]),
                content=body.encode(),
                headers=headers,
                extensions=extensions,
            )
        except httpx.TimeoutException:
            return Outcome(False, error=f"no answer within {self.timeout:.0f} s")
        except httpx.HTTPError as error:
            return Outcome(False, error=f"{type(error).__name__}: {error}"[:500])
        if 200 <= response.status_code < 300:
            return Outcome(True, status=response.status_code)
        if response.status_code == 410:
            return Outcome(False, status=410, error="the endpoint answered 410 Gone", gone=True)
        retry_after = None
        if response.status_code in (429, 503):
            retry_after = parse_retry_after(response.headers.get("retry-after"), time.time())
        return Outcome(
            False,
            status=response.status_code,
            error=f"HTTP {response.status_code}"
            + (" (redirects are not followed)" if response.is_redirect else ""),
            retry_after=retry_after,
        )

    def close(self) -> None:
        self.client.close()
