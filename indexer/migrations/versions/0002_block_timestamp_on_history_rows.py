"""block timestamp on history rows

Rows mirrored before this revision get their block's timestamp from ``block_record`` where the
block is still kept, else 0 ("unknown": risk.data refuses such a mirror; re-index it).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 08:05:04.723192
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

HISTORY = ('deposit', 'redemption', 'slot_mark', 'token_transfer', 'value_move', 'write_off')


def upgrade() -> None:
    for name in HISTORY:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column('block_timestamp', sa.BigInteger(), nullable=False, server_default='0'))
        op.execute(f"UPDATE {name} SET block_timestamp = (SELECT timestamp FROM block_record "
                   f"WHERE block_record.number = {name}.block_number) "
                   f"WHERE block_number IN (SELECT number FROM block_record)")
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.alter_column('block_timestamp', server_default=None)


def downgrade() -> None:
    for name in reversed(HISTORY):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_column('block_timestamp')
