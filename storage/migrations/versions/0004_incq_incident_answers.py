"""answers to the weekly prompt's incident question

Revision ID: 0004_incq
Revises: 0003_web
Create Date: 2026-11-27
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004_incq'
down_revision: str | None = '0003_web'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('incident_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('week_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_answers_incident_id_incidents')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_incident_answers_person_id_people')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_incident_answers_team_id_teams')),
    sa.ForeignKeyConstraint(['week_id'], ['weeks.id'], name=op.f('fk_incident_answers_week_id_weeks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_answers')),
    sa.UniqueConstraint('team_id', 'platform', 'source_id', name=op.f('uq_incident_answers_team_id_platform_source_id'))
    )
    with op.batch_alter_table('incident_answers', schema=None) as batch_op:
        batch_op.create_index('ix_incident_answers_team_week', ['team_id', 'week_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('incident_answers', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_answers_team_week')
    op.drop_table('incident_answers')
