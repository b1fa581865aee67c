"""profiles, links and clusters

Revision ID: 0008
Revises: 0003
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ews.db

revision: str = "0008"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "link_cluster",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("substance_key", sqlmodel.sql.sqltypes.AutoString(length=27), nullable=False),
        sa.Column("substance_name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("drug_class", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("high_harm", sa.Boolean(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("countries", ews.db.JSONType, nullable=False),
        sa.Column("first_seen", sa.Date(), nullable=True),
        sa.Column("last_seen", sa.Date(), nullable=True),
        sa.Column("alert_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("created_at", ews.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ews.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("link_cluster", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_link_cluster_substance_key"), ["substance_key"], unique=False)

    op.create_table(
        "cluster_member",
        sa.Column("detection_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("cluster_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["link_cluster.id"],
        ),
        sa.ForeignKeyConstraint(
            ["detection_id"],
            ["detection.id"],
        ),
        sa.PrimaryKeyConstraint("detection_id"),
    )
    with op.batch_alter_table("cluster_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cluster_member_cluster_id"), ["cluster_id"], unique=False)

    op.create_table(
        "detection_link",
        sa.Column("detection_a", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("detection_b", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("parts", ews.db.JSONType, nullable=False),
        sa.Column("shared", ews.db.JSONType, nullable=False),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", ews.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["detection_a"],
            ["detection.id"],
        ),
        sa.ForeignKeyConstraint(
            ["detection_b"],
            ["detection.id"],
        ),
        sa.PrimaryKeyConstraint("detection_a", "detection_b"),
    )
    with op.batch_alter_table("detection_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_detection_link_detection_b"), ["detection_b"], unique=False)

    with op.batch_alter_table("detection", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("appearance", ews.db.JSONType, nullable=False, server_default=sa.text("'{}'"))
        )

    with op.batch_alter_table("detection_component", schema=None) as batch_op:
        batch_op.add_column(sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column("amount_mg", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("enantiomer_ratio", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("detection_component", schema=None) as batch_op:
        batch_op.drop_column("enantiomer_ratio")
        batch_op.drop_column("amount_mg")
        batch_op.drop_column("role")

    with op.batch_alter_table("detection", schema=None) as batch_op:
        batch_op.drop_column("appearance")

    with op.batch_alter_table("detection_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_detection_link_detection_b"))

    op.drop_table("detection_link")
    with op.batch_alter_table("cluster_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cluster_member_cluster_id"))

    op.drop_table("cluster_member")
    with op.batch_alter_table("link_cluster", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_link_cluster_substance_key"))

    op.drop_table("link_cluster")
