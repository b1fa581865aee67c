"""The audit log: who did what, written in the same transaction as the change itself."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from ews.auth import Principal
from ews.db import construct
from ews.models import AuditEntry

Actor = Principal | tuple[str | None, str | None] | str | None
"""A key's principal, an (organisation id, key id) pair, an organisation id, or None for the node itself."""


def audit(
    session: Session, action: str, object_type: str, object_id: str | None, by: Actor = None, **detail: Any
) -> None:
    session.add(audit_entry(action, object_type, object_id, by, **detail))


def audit_entry(
    action: str, object_type: str, object_id: str | None, by: Actor = None, **detail: Any
) -> AuditEntry:
    """The audit row of an action, not yet added (a hot path inserts it with its other rows)."""
    organisation_id: str | None
    key_id: str | None
    if isinstance(by, Principal):
        organisation_id, key_id = by.organisation_id, by.key_id
        if by.user_id:  # a person in the browser: the log names them
            detail = {"user": {"id": by.user_id, "email": by.user_email, "name": by.user_name}, **detail}
    elif isinstance(by, tuple):
        organisation_id, key_id = by
    else:
        organisation_id, key_id = by, None
    return construct(
        AuditEntry,
        organisation_id=organisation_id,
        api_key_id=key_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        detail=detail,
    )
