"""the audit log

Revision ID: 0001
Revises:
Create Date: 2026-11-24

Databases that already hold ``api_audit`` (created by ``metadata.create_all`` before this chain existed)
keep it and its rows: the table is adopted, not re-created.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "api_audit" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "api_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=2048), nullable=False),
        sa.Column("route", sa.String(length=256), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("caller", sa.String(length=64), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("api_audit") as batch_op:
        batch_op.create_index("ix_api_audit_at", ["at"], unique=False)
        batch_op.create_index("ix_api_audit_caller", ["caller"], unique=False)


def downgrade() -> None:
    op.drop_table("api_audit")
