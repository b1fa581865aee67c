"""API keys: generated once, stored hashed, checked on every request."""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, or_, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from ews.db import utcnow
from ews.models import ROLES, ApiKey, Organisation

log = logging.getLogger("ews.auth")
KEY_PREFIX = "ews_"
DEFAULT_ROLES = {"lab": ["lab"], "authority": ["authority"], "regional": ["regional"], "admin": ["admin"]}


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    # Keys are 256-bit random strings: a fast hash is enough, no salt or KDF needed.
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling: the organisation and the roles of the key, or of the signed-in person."""

    organisation_id: str
    organisation_name: str
    kind: str
    country: str | None
    key_id: str | None
    roles: frozenset[str]
    user_id: str | None = None
    user_email: str | None = None
    user_name: str | None = None
    expires_at: datetime | None = None

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    @property
    def sees_everything(self) -> bool:
        return self.has("regional", "admin")


def create_key(
    session: Session, organisation: Organisation, roles: Sequence[str] | None = None, label: str | None = None
):
    """A new key for ``organisation``; returns (row, the key in clear — shown once)."""
    roles = roles or DEFAULT_ROLES[organisation.kind]
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown role(s) {sorted(unknown)}; roles are {', '.join(ROLES)}")
    key = generate_key()
    row = ApiKey(
        organisation_id=organisation.id,
        key_hash=hash_key(key),
        prefix=key[:10],
        roles=sorted(set(roles)),
        label=label,
    )
    session.add(row)
    return row, key


LAST_USED_EVERY = 60.0  # seconds: the last-used time of a key is written at most this often per process


class KeyCache:
    """Principals by key hash, for a few seconds: authentication without a query per request.

    A revoked key stops working within ``ttl`` seconds on every process; an
    expired key stops at once. A key's last-used time is written at most once
    a minute per process, not on every request.
    """

    def __init__(self, ttl: float = 2.0, size: int = 4096) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[str, tuple[float, Principal | None]] = {}
        self._touched: dict[str, float] = {}

    def cached(self, token: str) -> tuple[bool, Principal | None]:
        """(True, the answer) when :meth:`lookup` would answer from memory alone, without the database."""
        cached = self._entries.get(hash_key(token))
        now = time.monotonic()
        if not cached or now - cached[0] >= self.ttl:
            return False, None
        principal = cached[1]
        if principal is None:
            return True, None
        if principal.expires_at is not None and principal.expires_at <= utcnow():
            return True, None
        if (
            principal.key_id is not None
            and now - self._touched.get(principal.key_id, -LAST_USED_EVERY) >= LAST_USED_EVERY
        ):
            return False, None  # its last-used time is due: lookup writes it
        return True, principal

    def lookup(self, engine: Engine, token: str) -> Principal | None:
        digest = hash_key(token)
        now = time.monotonic()
        cached = self._entries.get(digest)
        if cached and now - cached[0] < self.ttl:
            principal = cached[1]
        else:
            principal = _load_principal(engine, digest)
            if len(self._entries) >= self.size:
                self._entries.clear()
            self._entries[digest] = (now, principal)
        if principal is None:
            return None
        if principal.expires_at is not None and principal.expires_at <= utcnow():
            return None
        if (
            principal.key_id is not None
            and now - self._touched.get(principal.key_id, -LAST_USED_EVERY) >= LAST_USED_EVERY
        ):
            self._touched[principal.key_id] = now
            _touch(engine, principal.key_id)
        return principal


def _touch(engine: Engine, key_id: str) -> None:
    """Record that a key was used (a cheap conditional update; a failure only loses the timestamp)."""
    from ews.db import engine_for

    writer = engine_for(engine.url.render_as_string(hide_password=False))
    now = utcnow()
    recent = now - timedelta(seconds=LAST_USED_EVERY)
    try:
        with writer.begin() as connection:
            connection.execute(
                update(ApiKey)
                .where(
                    col(ApiKey.id) == key_id,
                    or_(col(ApiKey.last_used_at).is_(None), col(ApiKey.last_used_at) < recent),
                )
                .values(last_used_at=now)
            )
    except SQLAlchemyError as error:
        log.warning("could not record the last use of key %s: %s", key_id, type(error).__name__)


def _load_principal(engine: Engine, digest: str) -> Principal | None:
    with Session(engine) as session:
        row = session.exec(
            select(ApiKey, Organisation)
            .join(Organisation, col(Organisation.id) == ApiKey.organisation_id)
            .where(ApiKey.key_hash == digest, col(ApiKey.revoked_at).is_(None))
        ).first()
    if row is None:
        return None
    key, organisation = row
    return Principal(
        organisation_id=organisation.id,
        organisation_name=organisation.name,
        kind=organisation.kind,
        country=organisation.country,
        key_id=key.id,
        roles=frozenset(key.roles),
        expires_at=key.expires_at,
    )
