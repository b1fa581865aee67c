"""detection_component.detection_created_at and the index linking reads its candidates through

Revision ID: 0014_apispeed2
Revises: 0013_apispeed
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ews.db

revision: str = "0014_apispeed2"
down_revision: str | Sequence[str] | None = "0013_apispeed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAIN_ROLE_SQL = "role = 'active' OR role IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("detection_component", schema=None) as batch_op:
        batch_op.add_column(sa.Column("detection_created_at", ews.db.UTCDateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE detection_component SET detection_created_at = "
        "(SELECT detection.created_at FROM detection WHERE detection.id = detection_component.detection_id)"
    )
    with op.batch_alter_table("detection_component", schema=None) as batch_op:
        batch_op.alter_column(
            "detection_created_at", existing_type=ews.db.UTCDateTime(timezone=True), nullable=False
        )
        batch_op.create_index(
            "ix_component_main_recent",
            ["skeleton_key", "detection_created_at", "detection_id"],
            unique=False,
            postgresql_where=sa.text(MAIN_ROLE_SQL),
            sqlite_where=sa.text(MAIN_ROLE_SQL),
        )


def downgrade() -> None:
    with op.batch_alter_table("detection_component", schema=None) as batch_op:
        batch_op.drop_index("ix_component_main_recent")
        batch_op.drop_column("detection_created_at")
