"""Standard files: a page that is a line of an electronic submission (a 315 record) keeps that line.

Revision ID: 0005
Revises: 0008
Create Date: 2026-12-10 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("pages", sa.Column("record_line", sa.Text(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE pages DROP COLUMN record_line")
