"""Organisations and API keys, shared by the API and the command line."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ews.audit import audit
from ews.auth import create_key
from ews.db import session_scope, utcnow
from ews.models import ApiKey, NodeState, Organisation

BOOTSTRAP_KEY = "bootstrap_admin"


def create_organisation(
    session: Session,
    name: str,
    kind: str,
    country: str | None,
    actor: tuple[str | None, str | None] = (None, None),
    contact_email: str | None = None,
) -> Organisation:
    organisation = Organisation(name=name, kind=kind, country=country, contact_email=contact_email)
    session.add(organisation)
    session.flush()
    audit(
        session,
        "organisation.create",
        "organisation",
        organisation.id,
        actor,
        name=name,
        kind=kind,
        country=country,
    )
    return organisation


def issue_key(
    session: Session,
    organisation: Organisation,
    roles: Sequence[str] | None,
    label: str | None = None,
    actor: tuple[str | None, str | None] = (None, None),
) -> tuple[ApiKey, str]:
    row, key = create_key(session, organisation, roles, label)
    session.flush()
    audit(session, "api_key.create", "api_key", row.id, actor, organisation_id=organisation.id, roles=row.roles)
    return row, key


def revoke_key(
    session: Session, key_id: str, actor: tuple[str | None, str | None] = (None, None)
) -> ApiKey | None:
    row = session.get(ApiKey, key_id)
    if row is None:
        return None
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        audit(session, "api_key.revoke", "api_key", row.id, actor)
    return row


def rotate_key(
    session: Session, key_id: str, grace: timedelta, actor: tuple[str | None, str | None] = (None, None)
) -> tuple[ApiKey, str, ApiKey]:
    """A successor for key ``key_id`` (same organisation, roles and label); the old key expires after ``grace``.

    Both keys work during the grace period, so clients switch without downtime.
    Returns (new row, new key in clear — shown once, old row).
    """
    old = session.get(ApiKey, key_id)
    if old is None or old.revoked_at is not None:
        raise ValueError(f"no active key {key_id!r}")
    organisation = session.get(Organisation, old.organisation_id)
    assert organisation is not None  # a foreign key
    row, key = issue_key(session, organisation, old.roles, old.label, actor)
    ends = utcnow() + grace
    if old.expires_at is None or old.expires_at > ends:
        old.expires_at = ends
    row.expires_at = None
    session.add(old)
    audit(session, "api_key.rotate", "api_key", old.id, actor, successor=row.id, old_expires_at=ends.isoformat())
    return row, key, old


def bootstrap_admin(engine: Engine) -> str | None:
    """On a node's first start: an admin organisation and its key, returned once, else None.

    Several processes may start at once; the primary key of the bootstrap
    marker makes exactly one of them create the admin.
    """
    try:
        with session_scope(engine) as session:
            if session.get(NodeState, BOOTSTRAP_KEY) is not None:
                return None
            session.add(NodeState(key=BOOTSTRAP_KEY, value="pending"))
            session.flush()
            organisation = create_organisation(session, "Node administration", "admin", None)
            _, key = issue_key(session, organisation, ["admin"], label="first-start key")
            marker = session.get(NodeState, BOOTSTRAP_KEY)
            marker.value = organisation.id  # type: ignore[union-attr]
            return key
    except IntegrityError:
        return None


def organisations(session: Session) -> list[Organisation]:
    return list(session.exec(select(Organisation).order_by(col(Organisation.created_at))).all())
