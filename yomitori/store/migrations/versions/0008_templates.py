"""Template editor: layouts learned per tenant (saved_layouts), every save a new version.

Revision ID: 0008
Revises: 0003
Create Date: 2026-12-20 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_layouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form", sa.String(length=64), nullable=False),
        sa.Column("layout", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("yaml", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=True),
        sa.Column("image_sha256", sa.String(length=64), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["page_id"], ["pages.id"], name=op.f("fk_saved_layouts_page_id_pages")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_saved_layouts_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_layouts")),
        sa.UniqueConstraint("tenant_id", "form", "layout", "version",
                            name=op.f("uq_saved_layouts_tenant_id_form_layout_version")),
    )
    op.create_index(op.f("ix_saved_layouts_tenant_id"), "saved_layouts", ["tenant_id"], unique=False)


def downgrade() -> None:
    op.drop_table("saved_layouts")
