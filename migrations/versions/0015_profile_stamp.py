"""detection_component.profile_stamp, kept by triggers, and in linking's candidates index

Revision ID: 0015_profile_stamp
Revises: 0014_apispeed2

Linking compares a new detection with up to 500 recent ones sharing its drug. Their profiles are
made once per process and kept; the candidates query reads only ids and stamps off the index, and
the rows of a profile are read again only when its stamp changed. The triggers give every row of a
detection a new stamp when a column a profile is made of changes (re-identification rewrites
verdicts), or the detection's appearance does.

A later SQLite migration that has batch mode rebuild detection_component or detection drops these
triggers with the table: it must create them again (``create_triggers``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_profile_stamp"
down_revision: str | Sequence[str] | None = "0014_apispeed2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAIN_ROLE_SQL = "role = 'active' OR role IS NULL"
PROFILE_COLUMNS = ("skeleton_key", "role", "verdict", "purity_percent", "amount_mg", "enantiomer_ratio")

POSTGRESQL = [
    """
    CREATE FUNCTION ews_restamp_components() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE detection_component SET profile_stamp = replace(gen_random_uuid()::text, '-', '')
        WHERE detection_id = to_jsonb(NEW) ->> TG_ARGV[0];  -- the column naming the detection
        RETURN NULL;
    END
    $$
    """,
    f"""
    CREATE TRIGGER ews_component_profile_changed
    AFTER UPDATE OF {", ".join(PROFILE_COLUMNS)} ON detection_component
    FOR EACH ROW WHEN ({" OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in PROFILE_COLUMNS)})
    EXECUTE FUNCTION ews_restamp_components('detection_id')
    """,
    """
    CREATE TRIGGER ews_detection_appearance_changed
    AFTER UPDATE OF appearance ON detection
    FOR EACH ROW WHEN (OLD.appearance IS DISTINCT FROM NEW.appearance)
    EXECUTE FUNCTION ews_restamp_components('id')
    """,
]

SQLITE_STAMP = "lower(hex(randomblob(16)))"
SQLITE = [
    f"""
    CREATE TRIGGER ews_component_profile_changed
    AFTER UPDATE OF {", ".join(PROFILE_COLUMNS)} ON detection_component
    FOR EACH ROW WHEN {" OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in PROFILE_COLUMNS)}
    BEGIN
        UPDATE detection_component SET profile_stamp = {SQLITE_STAMP} WHERE detection_id = NEW.detection_id;
    END
    """,
    f"""
    CREATE TRIGGER ews_detection_appearance_changed
    AFTER UPDATE OF appearance ON detection
    FOR EACH ROW WHEN OLD.appearance IS NOT NEW.appearance
    BEGIN
        UPDATE detection_component SET profile_stamp = {SQLITE_STAMP} WHERE detection_id = NEW.id;
    END
    """,
]


def create_triggers() -> None:
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def upgrade() -> None:
    with op.batch_alter_table("detection_component", schema=None) as batch_op:
        batch_op.add_column(sa.Column("profile_stamp", sa.String(length=32), nullable=True))
        _main_recent_index(batch_op, include=["profile_stamp"])
    create_triggers()


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS ews_component_profile_changed" + _on("detection_component"))
    op.execute("DROP TRIGGER IF EXISTS ews_detection_appearance_changed" + _on("detection"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ews_restamp_components()")
    with op.batch_alter_table("detection_component", schema=None) as batch_op:
        _main_recent_index(batch_op, include=[])
        batch_op.drop_column("profile_stamp")


def _main_recent_index(batch_op, include: list[str]) -> None:
    """Linking's candidates index made again, with these columns included (PostgreSQL)."""
    batch_op.drop_index("ix_component_main_recent")
    batch_op.create_index(
        "ix_component_main_recent",
        ["skeleton_key", "detection_created_at", "detection_id"],
        unique=False,
        postgresql_where=sa.text(MAIN_ROLE_SQL),
        postgresql_include=include,
        sqlite_where=sa.text(MAIN_ROLE_SQL),
    )


def _on(table: str) -> str:
    return f" ON {table}" if op.get_bind().dialect.name == "postgresql" else ""
