"""People who sign in: accounts with argon2id passwords, server-side sessions, sign-in rate limits.

Machines keep API keys (``ews.auth``); people get a session in a cookie. Both
end up as the same :class:`~ews.auth.Principal`, so every role check and every
view is the same code for a page and for the API.

Passwords are hashed with argon2id (argon2-cffi, RFC 9106 parameters) and never
logged. A session cookie holds a random 256-bit token; the database keeps only
its SHA-256, so a copy of the database signs nobody in. Failed sign-ins are
rows in the database, counted per account and per address over a sliding
window, so the limit holds across every process of the node.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, delete
from sqlmodel import Session, col, select

from ews.audit import audit
from ews.auth import DEFAULT_ROLES, Principal
from ews.db import session_scope, utcnow
from ews.models import ROLES, Organisation, SignInFailure, UserAccount, WebSession

HASHER = PasswordHasher()  # argon2id; time_cost 3, 64 MiB, parallelism 4 (RFC 9106 second recommendation)
SESSION_LIFETIME = timedelta(hours=12)
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # bounds the work a hostile sign-in can ask of the KDF
EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
# Verified when the e-mail is unknown, so that a wrong address costs as long as a wrong password.
_DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A bad account request (the message names what was wrong)."""


@dataclass(frozen=True)
class RateLimited(Exception):
    """Too many failed sign-ins: try again after ``retry_after`` seconds."""

    retry_after: int


@dataclass
class SignedIn:
    token: str  # the cookie value, shown to the browser only
    session: WebSession
    principal: Principal


def normalize_email(email: str) -> str:
    address = email.strip().lower()
    if len(address) > 320 or not EMAIL.match(address):
        raise AccountError(f"{email!r} is not an e-mail address")
    return address


def generate_password() -> str:
    return secrets.token_urlsafe(18)  # 144 random bits, 24 characters


def create_user(
    session: Session,
    organisation: Organisation,
    email: str,
    roles: Sequence[str] | None = None,
    password: str | None = None,
    name: str | None = None,
    actor: tuple[str | None, str | None] = (None, None),
) -> tuple[UserAccount, str]:
    """A new person in ``organisation``; returns the row and the password (generated unless given)."""
    address = normalize_email(email)
    roles = list(roles or DEFAULT_ROLES[organisation.kind])
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise AccountError(f"unknown role(s) {sorted(unknown)}; roles are {', '.join(ROLES)}")
    if password is None:
        password = generate_password()
    elif not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise AccountError(f"the password must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters long")
    if session.exec(select(UserAccount).where(UserAccount.email == address)).first() is not None:
        raise AccountError(f"there is already an account for {address}")
    user = UserAccount(
        organisation_id=organisation.id,
        email=address,
        name=(name or address.split("@")[0]).strip()[:200],
        password_hash=HASHER.hash(password),
        roles=sorted(set(roles)),
    )
    session.add(user)
    session.flush()
    audit(session, "user.create", "user", user.id, actor, email=address, roles=user.roles)
    return user, password


def list_users(session: Session) -> list[tuple[UserAccount, Organisation]]:
    rows = session.exec(
        select(UserAccount, Organisation)
        .join(Organisation, col(Organisation.id) == UserAccount.organisation_id)
        .order_by(col(UserAccount.created_at))
    ).all()
    return [(user, organisation) for user, organisation in rows]


def principal_of(user: UserAccount, organisation: Organisation) -> Principal:
    return Principal(
        organisation_id=organisation.id,
        organisation_name=organisation.name,
        kind=organisation.kind,
        country=organisation.country,
        key_id=None,
        roles=frozenset(user.roles),
        user_id=user.id,
        user_email=user.email,
        user_name=user.name,
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- rate limits ------------------------------------------------------------------------------


def _subjects(email: str, address: str | None) -> list[tuple[str, int]]:
    subjects = [(f"account:{email.strip().lower()[:320]}", MAX_FAILURES_PER_ACCOUNT)]
    if address:
        subjects.append((f"address:{address[:200]}", MAX_FAILURES_PER_ADDRESS))
    return subjects


def retry_after(session: Session, email: str, address: str | None) -> int | None:
    """Seconds until a sign-in may be tried again, or None when it may be tried now."""
    now = utcnow()
    waits = []
    for subject, limit in _subjects(email, address):
        times = session.exec(
            select(SignInFailure.at)
            .where(SignInFailure.subject == subject, col(SignInFailure.at) > now - FAILURE_WINDOW)
            .order_by(col(SignInFailure.at).desc())
            .limit(limit)
        ).all()
        if len(times) >= limit:
            # the oldest of the last `limit` failures must leave the window first
            waits.append(int((times[-1] + FAILURE_WINDOW - now).total_seconds()) + 1)
    return max(waits) if waits else None


def _record_failure(session: Session, email: str, address: str | None) -> None:
    now = utcnow()
    session.execute(delete(SignInFailure).where(col(SignInFailure.at) < now - FAILURE_WINDOW))
    for subject, _ in _subjects(email, address):
        session.add(SignInFailure(subject=subject, at=now))


# --- signing in and out -----------------------------------------------------------------------


def _verify(user: UserAccount | None, password: str) -> bool:
    try:
        return HASHER.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def sign_in(engine: Engine, email: str, password: str, address: str | None) -> SignedIn | None:
    """A new session for the person, None when e-mail or password is wrong; RateLimited when over a limit."""
    with session_scope(engine) as session:
        wait = retry_after(session, email, address)
    if wait is not None:
        raise RateLimited(wait)
    try:
        wanted = normalize_email(email)
    except AccountError:
        wanted = None
    with session_scope(engine) as session:
        row = None
        if wanted and len(password) <= MAX_PASSWORD_LENGTH:
            row = session.exec(
                select(UserAccount, Organisation)
                .join(Organisation, col(Organisation.id) == UserAccount.organisation_id)
                .where(UserAccount.email == wanted, col(UserAccount.disabled_at).is_(None))
            ).first()
        user, organisation = row if row else (None, None)
        if user is None or organisation is None or not _verify(user, password[:MAX_PASSWORD_LENGTH]):
            if row is None:
                _verify(None, password[:MAX_PASSWORD_LENGTH])
            _record_failure(session, email, address)
            audit(session, "user.sign_in_failed", "user", user.id if user else None, None, address=address)
            return None
        if HASHER.check_needs_rehash(user.password_hash):
            user.password_hash = HASHER.hash(password)
        now = utcnow()
        user.last_sign_in_at = now
        session.add(user)
        session.execute(
            delete(SignInFailure).where(col(SignInFailure.subject) == _subjects(wanted or "", None)[0][0])
        )
        session.execute(delete(WebSession).where(col(WebSession.expires_at) < now))  # sessions that ended
        token = secrets.token_urlsafe(32)
        web_session = WebSession(
            id=_digest(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
            last_seen_at=now,
        )
        session.add(web_session)
        principal = principal_of(user, organisation)
        audit(session, "user.sign_in", "user", user.id, principal, address=address)
        return SignedIn(token, web_session, principal)


def session_principal(session: Session, token: str) -> tuple[Principal, WebSession] | None:
    """Who holds this session token, while the session lasts and the account is enabled."""
    if not token or len(token) > 200:
        return None
    row = session.exec(
        select(WebSession, UserAccount, Organisation)
        .join(UserAccount, col(UserAccount.id) == WebSession.user_id)
        .join(Organisation, col(Organisation.id) == UserAccount.organisation_id)
        .where(
            WebSession.id == _digest(token),
            col(WebSession.expires_at) > utcnow(),
            col(UserAccount.disabled_at).is_(None),
        )
    ).first()
    if row is None:
        return None
    web_session, user, organisation = row
    return principal_of(user, organisation), web_session


def sign_out(engine: Engine, token: str) -> None:
    with session_scope(engine) as session:
        found = session_principal(session, token)
        session.execute(delete(WebSession).where(col(WebSession.id) == _digest(token)))
        if found:
            audit(session, "user.sign_out", "user", found[0].user_id, found[0])
