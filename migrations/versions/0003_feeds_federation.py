"""feeds and federation

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 23:04:51.836497
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ews.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    feed_clock = op.create_table(
        "feed_clock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(feed_clock, [{"id": 1, "value": 0}])
    op.create_table(
        "feed_entry",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("object_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("origin_node", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("origin_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("payload", ews.db.JSONType, nullable=False),
        sa.Column("created_at", ews.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("feed_entry", schema=None) as batch_op:
        batch_op.create_index("ix_feed_entry_cursor", ["kind", "position", "seq"], unique=False)
        batch_op.create_index(batch_op.f("ix_feed_entry_origin_node"), ["origin_node"], unique=False)

    op.create_table(
        "peer",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("node_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("organisation_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("alerts_cursor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("detections_cursor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_pull_at", ews.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("lease_until", ews.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", ews.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("created_at", ews.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("url"),
    )
    with op.batch_alter_table("detection", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_detection_origin", ["origin_node", "origin_id"])


def downgrade() -> None:

    with op.batch_alter_table("detection", schema=None) as batch_op:
        batch_op.drop_constraint("uq_detection_origin", type_="unique")

    op.drop_table("peer")
    with op.batch_alter_table("feed_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feed_entry_origin_node"))
        batch_op.drop_index("ix_feed_entry_cursor")

    op.drop_table("feed_entry")
    op.drop_table("feed_clock")
