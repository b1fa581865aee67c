"""alert lifecycle: coalesced CAP Updates wait for their due time

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 20:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ews.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("update_due_at", ews.db.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_alert_update_due_at"), ["update_due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_update_due_at"))
        batch_op.drop_column("update_due_at")
