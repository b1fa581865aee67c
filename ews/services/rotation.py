"""Re-encrypt every secret stored at rest under the current ``EWS_SECRET_KEY``.

Run after a key change (with the old key in ``EWS_SECRET_KEY_PREVIOUS``) and by
``ews db upgrade`` (which also encrypts values stored before encryption
existed). Each table is rewritten in one transaction; a value that no
configured key opens stops the run with a message before anything changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlmodel import col, select

from ews.db import session_scope
from ews.keyring import keyring_for
from ews.models import NodeSecret, Peer, Subscription

# (model, table name, encrypted column)
ENCRYPTED: tuple[tuple[type, str, str], ...] = (
    (Peer, "peer", "token"),
    (Peer, "peer", "wake_secret"),
    (Subscription, "subscription", "secret"),
    (NodeSecret, "node_secret", "value"),
)


@dataclass
class RotationReport:
    rewritten: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rewritten.values())


def rotate_secrets(engine: Engine) -> RotationReport:
    keyring = keyring_for(engine)
    report = RotationReport()
    with session_scope(engine) as session:
        for model, table, column in ENCRYPTED:
            count = 0
            rows: list[Any] = list(
                session.exec(select(model).where(col(getattr(model, column)).is_not(None))).all()
            )
            for row in rows:
                stored = getattr(row, column)
                if keyring.is_current(stored):
                    continue
                setattr(row, column, keyring.rotate(stored))
                session.add(row)
                count += 1
            report.rewritten[table] = report.rewritten.get(table, 0) + count
    return report
