"""message tombstones; a message's text stored once

A deletion delivered before its message keeps the message from being stored (message_tombstones). A
revision or contribution whose text is its message's current text holds NULL instead of a copy.

Revision ID: 0012_hostile3
Revises: 0008_drop_events
Create Date: 2026-12-07
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012_hostile3'
down_revision: str | None = '0011_platform_ids'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('message_tombstones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.String(length=128), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_message_tombstones_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_tombstones')),
    sa.UniqueConstraint('team_id', 'platform', 'source_id',
                        name=op.f('uq_message_tombstones_team_id_platform_source_id'))
    )
    for table in ('answer_revisions', 'contributions'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('text', existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    # NULL meant the message's current text: give it back before the column refuses NULL again.
    for table in ('answer_revisions', 'contributions'):
        op.execute(f"UPDATE {table} SET text = (SELECT m.text FROM answer_messages m "
                   f"WHERE m.id = {table}.message_id) WHERE text IS NULL")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('text', existing_type=sa.Text(), nullable=False)
    op.drop_table('message_tombstones')
