"""alerts, subscriptions, deliveries

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 22:55:02.246593
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ews.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "alert",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("dedup_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("severity", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("urgency", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("certainty", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("event", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("headline", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=10000), nullable=False),
        sa.Column("instruction", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("texts", ews.db.JSONType, nullable=False),
        sa.Column("facts", ews.db.JSONType, nullable=False),
        sa.Column("drug_class", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("verdict", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("substance_key", sqlmodel.sql.sqltypes.AutoString(length=27), nullable=False),
        sa.Column("substance_id", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("substance_name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("inchikey", sqlmodel.sql.sqltypes.AutoString(length=27), nullable=True),
        sa.Column("smiles", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("high_harm", sa.Boolean(), nullable=False),
        sa.Column("countries", ews.db.JSONType, nullable=False),
        sa.Column("regions", ews.db.JSONType, nullable=False),
        sa.Column("evidence", ews.db.JSONType, nullable=False),
        sa.Column("reasons", ews.db.JSONType, nullable=False),
        sa.Column("detection_count", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("origin_node", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("origin_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_at", ews.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ews.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", ews.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedup_key"),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_drug_class"), ["drug_class"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_origin_node"), ["origin_node"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_rule"), ["rule"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_severity"), ["severity"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_substance_key"), ["substance_key"], unique=False)

    op.create_table(
        "alert_detection",
        sa.Column("alert_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("component_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("detection_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_at", ews.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert.id"],
        ),
        sa.PrimaryKeyConstraint("alert_id", "component_id"),
    )
    with op.batch_alter_table("alert_detection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_detection_detection_id"), ["detection_id"], unique=False)

    op.create_table(
        "alert_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("msg_type", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("identifier", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("references", ews.db.JSONType, nullable=False),
        sa.Column("sent_at", ews.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_organisation_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("snapshot", ews.db.JSONType, nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("alert_id", "version", name="uq_alert_version"),
        sa.UniqueConstraint("identifier"),
    )
    with op.batch_alter_table("alert_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_version_alert_id"), ["alert_id"], unique=False)

    op.create_table(
        "subscription",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("organisation_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
        sa.Column("secret", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("filters", ews.db.JSONType, nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
        sa.Column("failing_since", ews.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_digest_at", ews.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", ews.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subscription_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "delivery",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("subscription_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("alert_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("alert_version", sa.Integer(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("event_type", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("payload", ews.db.JSONType, nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", ews.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("lease_until", ews.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("created_at", ews.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", ews.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscription.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index("ix_delivery_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_delivery_subscription_id"), ["subscription_id"], unique=False)

    op.create_table(
        "digest_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("alert_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("alert_version", sa.Integer(), nullable=False),
        sa.Column("payload", ews.db.JSONType, nullable=False),
        sa.Column("created_at", ews.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivery_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscription.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("digest_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_digest_item_delivery_id"), ["delivery_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_digest_item_subscription_id"), ["subscription_id"], unique=False)

    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("contact_email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True)
        )


def downgrade() -> None:

    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("contact_email")

    with op.batch_alter_table("digest_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digest_item_subscription_id"))
        batch_op.drop_index(batch_op.f("ix_digest_item_delivery_id"))

    op.drop_table("digest_item")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_subscription_id"))
        batch_op.drop_index("ix_delivery_due")
        batch_op.drop_index(batch_op.f("ix_delivery_alert_id"))

    op.drop_table("delivery")
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscription_organisation_id"))

    op.drop_table("subscription")
    with op.batch_alter_table("alert_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_version_alert_id"))

    op.drop_table("alert_version")
    with op.batch_alter_table("alert_detection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_detection_detection_id"))

    op.drop_table("alert_detection")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_substance_key"))
        batch_op.drop_index(batch_op.f("ix_alert_status"))
        batch_op.drop_index(batch_op.f("ix_alert_severity"))
        batch_op.drop_index(batch_op.f("ix_alert_rule"))
        batch_op.drop_index(batch_op.f("ix_alert_origin_node"))
        batch_op.drop_index(batch_op.f("ix_alert_drug_class"))

    op.drop_table("alert")
