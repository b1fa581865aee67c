"""Merge the lines of work that each branched from 0003 into one head.

Revision ID: 0012
Revises: 0004, 0006, 0008, 0011
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0012"
down_revision: str | Sequence[str] | None = ("0004", "0006", "0008", "0011")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
