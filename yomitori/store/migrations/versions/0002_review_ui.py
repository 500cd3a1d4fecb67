"""Review UI: field boxes, the registered page per document, review claims, sent-back pages, login lockout.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Plain ADD COLUMN (no table rebuild): other tables' foreign keys point at documents and users.
_COLUMNS: list[tuple[str, sa.Column]] = [
    ("fields", sa.Column("box", sa.JSON(), nullable=True)),
    ("documents", sa.Column("image_sha256", sa.String(length=64), nullable=True)),
    ("documents", sa.Column("claimed_by", sa.Integer(), nullable=True)),
    ("documents", sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True)),
    ("documents", sa.Column("returned_reason", sa.String(length=20), nullable=True)),
    ("documents", sa.Column("returned_form", sa.String(length=64), nullable=True)),
    ("users", sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")),
    ("users", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True)),
    ("users", sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True)),
]


def upgrade() -> None:
    for table, column in _COLUMNS:
        op.add_column(table, column)
    op.create_index("ix_documents_status_created_at", "documents", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_documents_status_created_at", table_name="documents")
    for table, column in reversed(_COLUMNS):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column.name}")  # SQLite ≥ 3.35 and PostgreSQL alike
