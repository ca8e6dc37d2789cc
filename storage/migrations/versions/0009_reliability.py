"""incidents as reliability (issue 23): cause class and bank, postmortem link, action items and their history

Revision ID: 0009_reliability
Revises: 0008_drop_events
Create Date: 2026-12-07
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009_reliability'
down_revision: str | None = '0012_hostile3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.add_column(sa.Column('action_seq', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cause_class', sa.String(length=32), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('cause_bank', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('postmortem', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('detected_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table('action_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_action_items_incident_id_incidents')),
    sa.ForeignKeyConstraint(['owner_id'], ['people.id'], name=op.f('fk_action_items_owner_id_people')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_action_items_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_items')),
    sa.UniqueConstraint('team_id', 'number', name=op.f('uq_action_items_team_id_number'))
    )
    op.create_index('ix_action_items_team_owner', 'action_items', ['team_id', 'owner_id', 'done_at'], unique=False)
    op.create_table('action_item_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action_item_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('due', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('by', sa.String(length=128), nullable=True),
    sa.ForeignKeyConstraint(['action_item_id'], ['action_items.id'],
                            name=op.f('fk_action_item_changes_action_item_id_action_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_item_changes'))
    )
    op.create_index('ix_action_item_changes_item', 'action_item_changes', ['action_item_id', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_action_item_changes_item', table_name='action_item_changes')
    op.drop_table('action_item_changes')
    op.drop_index('ix_action_items_team_owner', table_name='action_items')
    op.drop_table('action_items')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_column('detected_at')
        batch_op.drop_column('postmortem')
        batch_op.drop_column('cause_bank')
        batch_op.drop_column('cause_class')
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.drop_column('action_seq')
