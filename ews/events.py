"""Wake the dispatcher when the outbox gets work: in this process, and in others via PostgreSQL NOTIFY."""

from __future__ import annotations

import threading

from sqlalchemy import event, text
from sqlmodel import Session

OUTBOX_CHANNEL = "ews_outbox"
outbox_wakeup = threading.Event()
"""Set after a commit that added deliveries; the dispatcher of this process waits on it."""


def outbox_changed(session: Session) -> None:
    """Call inside a transaction that adds deliveries: the wake-up happens when it commits."""
    session.info["outbox_changed"] = True
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {OUTBOX_CHANNEL}"))  # delivered at commit, dropped on rollback


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    if session.info.pop("outbox_changed", False):
        outbox_wakeup.set()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop("outbox_changed", None)
