"""detection_component keeps its detection's country, region and day, for the alert rules' history

Revision ID: 0016_substance_place
Revises: 0015_profile_stamp

The alert rules ask, for each detection of a substance of concern, whether the substance was seen
before, seen in the country, and how often in the region within the window. Counting that joined
every detection of the country in the window to the substance's components; with the place and
day copied onto the component (they never change) it is a range of one index.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_substance_place"
down_revision: str | Sequence[str] | None = "0015_profile_stamp"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = {
    "postgresql": """
        UPDATE detection_component AS c
        SET detection_country = d.country,
            detection_region = d.region,
            seen_on = COALESCE(d.seized_on, (d.created_at AT TIME ZONE 'UTC')::date)
        FROM detection AS d
        WHERE d.id = c.detection_id
    """,
    "sqlite": """
        UPDATE detection_component
        SET (detection_country, detection_region, seen_on) = (
            SELECT d.country, d.region, COALESCE(d.seized_on, date(d.created_at))
            FROM detection AS d WHERE d.id = detection_component.detection_id
        )
    """,
}


# Plain ALTER TABLE, not batch mode: on SQLite a batch that rebuilt the table would drop the triggers
# of 0015_profile_stamp with it.


def upgrade() -> None:
    op.add_column("detection_component", sa.Column("detection_country", sa.String(length=2), nullable=True))
    op.add_column("detection_component", sa.Column("detection_region", sa.String(length=200), nullable=True))
    op.add_column("detection_component", sa.Column("seen_on", sa.Date(), nullable=True))
    op.execute(BACKFILL[op.get_bind().dialect.name])
    op.create_index(
        "ix_component_substance_place",
        "detection_component",
        ["skeleton_key", "detection_country", "detection_region", "seen_on", "detection_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_component_substance_place", table_name="detection_component")
    for column in ("seen_on", "detection_region", "detection_country"):
        op.drop_column("detection_component", column)
