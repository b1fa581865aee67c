"""identification: match results shared by the processes of a node

Revision ID: 0013_apispeed
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ews.db

revision: str = "0013_apispeed"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identification",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("library_version", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("created_at", ews.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("identification", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identification_library_version"), ["library_version"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("identification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identification_library_version"))
    op.drop_table("identification")
