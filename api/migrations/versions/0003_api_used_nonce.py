"""used sign-in nonces

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

``api_used_nonce``: a row per spent EIP-4361 nonce (api/auth.py ``NonceStore``), so a nonce is single-use
across every worker process; rows are deleted once the nonce would have expired anyway.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_used_nonce",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("nonce"),
    )
    with op.batch_alter_table("api_used_nonce") as batch_op:
        batch_op.create_index("ix_api_used_nonce_expires_at", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_table("api_used_nonce")
