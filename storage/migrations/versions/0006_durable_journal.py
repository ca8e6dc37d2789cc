"""inbound journal: every platform payload stored before the ack, processed once in arrival order

Revision ID: 0006_durable
Revises: 0004_incq
Create Date: 2026-11-27
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006_durable'
down_revision: str | None = '0005_realws'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('inbound_journal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('dedupe_key', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_journal')),
    sa.UniqueConstraint('platform', 'dedupe_key', name=op.f('uq_inbound_journal_platform_dedupe_key'))
    )
    with op.batch_alter_table('inbound_journal', schema=None) as batch_op:
        batch_op.create_index('ix_inbound_journal_pending', ['processed_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inbound_journal', schema=None) as batch_op:
        batch_op.drop_index('ix_inbound_journal_pending')
    op.drop_table('inbound_journal')
