"""Bots: one run at a time per scenario journal (bot_leases).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-21 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bot_leases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bot", sa.String(length=100), nullable=False),
        sa.Column("run_id", sa.String(length=100), nullable=False),
        sa.Column("host", sa.String(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_bot_leases_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_leases")),
        sa.UniqueConstraint("tenant_id", "bot", name=op.f("uq_bot_leases_tenant_id_bot")),
    )
    op.create_index(op.f("ix_bot_leases_tenant_id"), "bot_leases", ["tenant_id"], unique=False)


def downgrade() -> None:
    op.drop_table("bot_leases")
