"""job run claims, time away, and the scheduler job store

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.String(length=64), nullable=False),
    sa.Column('fire_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('instance', sa.String(length=128), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_job_runs_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs')),
    sa.UniqueConstraint('team_id', 'job_id', 'fire_time', name=op.f('uq_job_runs_team_id_job_id_fire_time'))
    )
    op.create_table('away',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_away_person_id_people')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_away_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_away'))
    )
    with op.batch_alter_table('away', schema=None) as batch_op:
        batch_op.create_index('ix_away_team_person', ['team_id', 'person_id'], unique=False)


    # APScheduler's job store table, in the shape SQLAlchemyJobStore expects
    op.create_table('zhoubao_scheduler_jobs',
    sa.Column('id', sa.Unicode(length=191), nullable=False),
    sa.Column('next_run_time', sa.Float(precision=25), nullable=True),
    sa.Column('job_state', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_zhoubao_scheduler_jobs'))
    )
    with op.batch_alter_table('zhoubao_scheduler_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_zhoubao_scheduler_jobs_next_run_time'), ['next_run_time'], unique=False)


def downgrade() -> None:
    op.drop_table('zhoubao_scheduler_jobs')
    with op.batch_alter_table('away', schema=None) as batch_op:
        batch_op.drop_index('ix_away_team_person')
    op.drop_table('away')
    op.drop_table('job_runs')
