"""The municipality's master data: residents (宛名), employers (特別徴収義務者), their 特別徴収 roll, and each
document's match against them.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-07 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def _table(name: str, *columns: sa.Column, unique: tuple[str, ...], index: tuple[str, ...] = ()) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        *columns,
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f(f"fk_{name}_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint(*unique, name=op.f(f"uq_{name}_{'_'.join(unique)}")),
    )
    for column in ("tenant_id", *index):
        op.create_index(op.f(f"ix_{name}_{column}"), name, [column], unique=False)


def upgrade() -> None:
    _table("master_residents",
           sa.Column("resident_id", sa.String(length=40), nullable=False),
           sa.Column("name", sa.String(length=200), nullable=False),
           sa.Column("name_kana", sa.String(length=200), nullable=False),
           sa.Column("birth_date", sa.String(length=10), nullable=True),
           sa.Column("address", sa.String(length=500), nullable=False),
           sa.Column("my_number_hmac", sa.String(length=64), nullable=True),
           sa.Column("moved_in", sa.String(length=10), nullable=True),
           sa.Column("moved_out", sa.String(length=10), nullable=True),
           sa.Column("support_measure", sa.Boolean(), nullable=False),
           unique=("tenant_id", "resident_id"), index=("my_number_hmac",))
    _table("master_employers",
           sa.Column("designated_number", sa.String(length=40), nullable=False),
           sa.Column("corporate_number", sa.String(length=13), nullable=True),
           sa.Column("name", sa.String(length=300), nullable=False),
           sa.Column("address", sa.String(length=500), nullable=False),
           sa.Column("phone", sa.String(length=40), nullable=False),
           unique=("tenant_id", "designated_number"), index=("corporate_number",))
    _table("master_roll",
           sa.Column("designated_number", sa.String(length=40), nullable=False),
           sa.Column("resident_id", sa.String(length=40), nullable=False),
           unique=("tenant_id", "designated_number", "resident_id"))
    _table("document_masters",
           sa.Column("document_id", sa.Integer(), nullable=False),
           sa.Column("resident_id", sa.String(length=40), nullable=True),
           sa.Column("employer_designated", sa.String(length=40), nullable=True),
           sa.Column("score", sa.Double(), nullable=False),
           sa.Column("evidence", sa.JSON(), nullable=False),
           sa.Column("misdirected", sa.Boolean(), nullable=False),
           sa.Column("support_measure", sa.Boolean(), nullable=False),
           sa.Column("keying_approved_by", sa.String(length=100), nullable=True),
           sa.Column("keying_approved_at", sa.DateTime(timezone=True), nullable=True),
           sa.ForeignKeyConstraint(["document_id"], ["documents.id"],
                                   name=op.f("fk_document_masters_document_id_documents")),
           unique=("document_id",))


def downgrade() -> None:
    for name in ("document_masters", "master_roll", "master_employers", "master_residents"):
        op.drop_table(name)
