"""Bots: the receipt journal in keying_receipts (key, state, digest), the HMAC secret, scenario versions, bot runs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Plain ADD COLUMN, as in 0002; old receipts keep key NULL (NULLs never collide in the unique index).
_RECEIPT_COLUMNS: list[sa.Column] = [
    sa.Column("key", sa.String(length=64), nullable=True),
    sa.Column("state", sa.String(length=20), nullable=True),
    sa.Column("values_digest", sa.String(length=64), nullable=True),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("artifacts", sa.JSON(), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
]


def upgrade() -> None:
    for column in _RECEIPT_COLUMNS:
        op.add_column("keying_receipts", column)
    op.create_index("uq_keying_receipts_tenant_id_bot_key", "keying_receipts", ["tenant_id", "bot", "key"],
                    unique=True)
    op.create_table(
        "keying_secrets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_keying_secrets_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_keying_secrets")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_keying_secrets_tenant_id")),
    )
    op.create_index(op.f("ix_keying_secrets_tenant_id"), "keying_secrets", ["tenant_id"], unique=False)
    op.create_table(
        "bot_scenarios",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("form", sa.String(length=64), nullable=False),
        sa.Column("target_system", sa.String(length=200), nullable=False),
        sa.Column("yaml", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_bot_scenarios_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_scenarios")),
        sa.UniqueConstraint("tenant_id", "name", "version", name=op.f("uq_bot_scenarios_tenant_id_name_version")),
    )
    op.create_index(op.f("ix_bot_scenarios_tenant_id"), "bot_scenarios", ["tenant_id"], unique=False)
    op.create_table(
        "bot_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bot", sa.String(length=100), nullable=False),
        sa.Column("scenario_ref", sa.String(length=300), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("parallel", sa.Integer(), nullable=False),
        sa.Column("started_by", sa.String(length=100), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("seconds", sa.Double(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_bot_runs_batch_id_batches")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_bot_runs_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_runs")),
    )
    op.create_index(op.f("ix_bot_runs_batch_id"), "bot_runs", ["batch_id"], unique=False)
    op.create_index(op.f("ix_bot_runs_tenant_id"), "bot_runs", ["tenant_id"], unique=False)


def downgrade() -> None:
    for table in ("bot_runs", "bot_scenarios", "keying_secrets"):
        op.drop_table(table)
    op.drop_index("uq_keying_receipts_tenant_id_bot_key", table_name="keying_receipts")
    for column in reversed(_RECEIPT_COLUMNS):
        op.execute(f"ALTER TABLE keying_receipts DROP COLUMN {column.name}")
