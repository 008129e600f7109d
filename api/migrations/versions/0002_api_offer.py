"""the offer book

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

``api_offer``: offers lenders signed and posted (api/routes/offers.py); one per desk, lender and nonce. A
table already made by ``metadata.create_all`` is adopted, as 0001 does.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "api_offer" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "api_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("desk", sa.String(length=42), nullable=False),
        sa.Column("lender", sa.String(length=42), nullable=False),
        sa.Column("holder", sa.String(length=42), nullable=False),
        sa.Column("token_id", sa.BigInteger(), nullable=False),
        sa.Column("slot", sa.String(length=78), nullable=False),
        sa.Column("value", sa.String(length=78), nullable=False),
        sa.Column("kind", sa.Integer(), nullable=False),
        sa.Column("rate_bps", sa.BigInteger(), nullable=False),
        sa.Column("penalty_bps", sa.BigInteger(), nullable=False),
        sa.Column("fixed_price", sa.String(length=78), nullable=False),
        sa.Column("fee", sa.String(length=78), nullable=False),
        sa.Column("recourse", sa.Boolean(), nullable=False),
        sa.Column("expiry", sa.BigInteger(), nullable=False),
        sa.Column("nonce", sa.String(length=78), nullable=False),
        sa.Column("signature", sa.String(length=300), nullable=False),
        sa.Column("posted_at", sa.Float(), nullable=False),
        sa.Column("posted_block", sa.BigInteger(), nullable=False),
        sa.Column("withdrawn_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("desk", "lender", "nonce", name="uq_api_offer_nonce"),
    )
    with op.batch_alter_table("api_offer") as batch_op:
        batch_op.create_index("ix_api_offer_lender", ["lender"], unique=False)
        batch_op.create_index("ix_api_offer_token_id", ["token_id"], unique=False)


def downgrade() -> None:
    op.drop_table("api_offer")
