"""service core: organisations, keys, substances, detections, audit

Revision ID: 0001
Revises:
Create Date: 2026-11-27 22:44:04.891234
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ews.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", ews.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("organisation_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("api_key_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("object_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("object_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("detail", ews.db.JSONType, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "node_state",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("updated_at", ews.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "organisation",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("created_at", ews.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "substance",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("synonyms", ews.db.JSONType, nullable=False),
        sa.Column("smiles", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("std_smiles", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("inchikey", sqlmodel.sql.sqltypes.AutoString(length=27), nullable=True),
        sa.Column("skeleton_key", sqlmodel.sql.sqltypes.AutoString(length=14), nullable=True),
        sa.Column("formula", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("drug_class", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("constituents", ews.db.JSONType, nullable=False),
        sa.Column("excepted_from", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("citation", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("updated_at", ews.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("substance", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_substance_inchikey"), ["inchikey"], unique=False)
        batch_op.create_index(batch_op.f("ix_substance_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_substance_skeleton_key"), ["skeleton_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_substance_status"), ["status"], unique=False)

    op.create_table(
        "api_key",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("organisation_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("key_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("prefix", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("roles", ews.db.JSONType, nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_at", ews.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", ews.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_key_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "detection",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("organisation_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("external_ref", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("request_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("form", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("sold_as", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("seized_on", sa.Date(), nullable=True),
        sa.Column("analyzed_on", sa.Date(), nullable=True),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("quantity_value", sa.Float(), nullable=True),
        sa.Column("quantity_unit", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("purity_percent", sa.Float(), nullable=True),
        sa.Column("techniques", ews.db.JSONType, nullable=False),
        sa.Column("confidence", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("case_ref", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(length=10000), nullable=True),
        sa.Column("origin_node", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("origin_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_at", ews.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organisation_id", "external_ref", name="uq_detection_external_ref"),
        sa.UniqueConstraint("organisation_id", "idempotency_key", name="uq_detection_idempotency"),
    )
    with op.batch_alter_table("detection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_detection_country"), ["country"], unique=False)
        batch_op.create_index("ix_detection_created", ["created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_detection_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_detection_seized_on"), ["seized_on"], unique=False)

    op.create_table(
        "substance_control",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("substance_id", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("jurisdiction", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column("instrument", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("schedule", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("controlled_since", sa.Date(), nullable=True),
        sa.Column("clauses", ews.db.JSONType, nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("citation", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("controlled_until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["substance_id"],
            ["substance.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("substance_control", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_substance_control_substance_id"), ["substance_id"], unique=False)

    op.create_table(
        "detection_component",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("detection_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("input_format", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("input_text", sqlmodel.sql.sqltypes.AutoString(length=200000), nullable=False),
        sa.Column("std_smiles", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("inchikey", sqlmodel.sql.sqltypes.AutoString(length=27), nullable=False),
        sa.Column("skeleton_key", sqlmodel.sql.sqltypes.AutoString(length=14), nullable=False),
        sa.Column("formula", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("verdict", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("drug_class", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("substance_id", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("substance_name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("purity_percent", sa.Float(), nullable=True),
        sa.Column("high_harm", sa.Boolean(), nullable=False),
        sa.Column("match", ews.db.JSONType, nullable=False),
        sa.ForeignKeyConstraint(
            ["detection_id"],
            ["detection.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("detection_component", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_detection_component_detection_id"), ["detection_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_detection_component_drug_class"), ["drug_class"], unique=False)
        batch_op.create_index(batch_op.f("ix_detection_component_inchikey"), ["inchikey"], unique=False)
        batch_op.create_index(batch_op.f("ix_detection_component_skeleton_key"), ["skeleton_key"], unique=False)
        batch_op.create_index("ix_component_skeleton_detection", ["skeleton_key", "detection_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_detection_component_substance_id"), ["substance_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_detection_component_verdict"), ["verdict"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("detection_component", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_detection_component_verdict"))
        batch_op.drop_index(batch_op.f("ix_detection_component_substance_id"))
        batch_op.drop_index(batch_op.f("ix_detection_component_skeleton_key"))
        batch_op.drop_index("ix_component_skeleton_detection")
        batch_op.drop_index(batch_op.f("ix_detection_component_inchikey"))
        batch_op.drop_index(batch_op.f("ix_detection_component_drug_class"))
        batch_op.drop_index(batch_op.f("ix_detection_component_detection_id"))

    op.drop_table("detection_component")
    with op.batch_alter_table("substance_control", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_substance_control_substance_id"))

    op.drop_table("substance_control")
    with op.batch_alter_table("detection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_detection_seized_on"))
        batch_op.drop_index(batch_op.f("ix_detection_organisation_id"))
        batch_op.drop_index("ix_detection_created")
        batch_op.drop_index(batch_op.f("ix_detection_country"))

    op.drop_table("detection")
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_key_organisation_id"))

    op.drop_table("api_key")
    with op.batch_alter_table("substance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_substance_status"))
        batch_op.drop_index(batch_op.f("ix_substance_skeleton_key"))
        batch_op.drop_index(batch_op.f("ix_substance_name"))
        batch_op.drop_index(batch_op.f("ix_substance_inchikey"))

    op.drop_table("substance")
    op.drop_table("organisation")
    op.drop_table("node_state")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_organisation_id"))

    op.drop_table("audit_log")
