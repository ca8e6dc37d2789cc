"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('processed_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_processed_events')),
    sa.UniqueConstraint('platform', 'event_id', name=op.f('uq_processed_events_platform_event_id'))
    )
    op.create_table('teams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('incident_seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teams')),
    sa.UniqueConstraint('name', name=op.f('uq_teams_name'))
    )
    op.create_table('people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=64), nullable=False),
    sa.Column('slack_user_id', sa.String(length=32), nullable=True),
    sa.Column('feishu_open_id', sa.String(length=64), nullable=True),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('dm_channels', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_people_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people')),
    sa.UniqueConstraint('team_id', 'key', name=op.f('uq_people_team_id_key'))
    )
    op.create_table('weeks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=8), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_weeks_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_weeks')),
    sa.UniqueConstraint('team_id', 'label', name=op.f('uq_weeks_team_id_label'))
    )
    op.create_table('answer_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('week_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.String(length=128), nullable=False),
    sa.Column('thread_id', sa.String(length=128), nullable=True),
    sa.Column('target_item', sa.String(length=200), nullable=True),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_answer_messages_person_id_people')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_answer_messages_team_id_teams')),
    sa.ForeignKeyConstraint(['week_id'], ['weeks.id'], name=op.f('fk_answer_messages_week_id_weeks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answer_messages')),
    sa.UniqueConstraint('team_id', 'platform', 'source_id', name=op.f('uq_answer_messages_team_id_platform_source_id'))
    )
    with op.batch_alter_table('answer_messages', schema=None) as batch_op:
        batch_op.create_index('ix_answer_messages_team_week', ['team_id', 'week_id'], unique=False)

    op.create_table('bank_statuses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('week_id', sa.Integer(), nullable=False),
    sa.Column('item_key', sa.String(length=200), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['people.id'], name=op.f('fk_bank_statuses_author_id_people')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_bank_statuses_team_id_teams')),
    sa.ForeignKeyConstraint(['week_id'], ['weeks.id'], name=op.f('fk_bank_statuses_week_id_weeks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_statuses')),
    sa.UniqueConstraint('team_id', 'week_id', 'item_key', name=op.f('uq_bank_statuses_team_id_week_id_item_key'))
    )
    with op.batch_alter_table('bank_statuses', schema=None) as batch_op:
        batch_op.create_index('ix_bank_statuses_team_week', ['team_id', 'week_id'], unique=False)

    op.create_table('entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('week_id', sa.Integer(), nullable=False),
    sa.Column('item_key', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('progress', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('main_problem', sa.Text(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['people.id'], name=op.f('fk_entries_author_id_people')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_entries_team_id_teams')),
    sa.ForeignKeyConstraint(['week_id'], ['weeks.id'], name=op.f('fk_entries_week_id_weeks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entries')),
    sa.UniqueConstraint('team_id', 'week_id', 'item_key', name=op.f('uq_entries_team_id_week_id_item_key'))
    )
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.create_index('ix_entries_team_week', ['team_id', 'week_id'], unique=False)

    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('week_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recovered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('system', sa.String(length=128), nullable=False),
    sa.Column('what', sa.Text(), nullable=False),
    sa.Column('cause', sa.Text(), nullable=False),
    sa.Column('impact', sa.Text(), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=True),
    sa.Column('weight', sa.Numeric(precision=4, scale=2), nullable=False),
    sa.Column('counts_toward_availability', sa.Boolean(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_ref', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['reporter_id'], ['people.id'], name=op.f('fk_incidents_reporter_id_people')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_incidents_team_id_teams')),
    sa.ForeignKeyConstraint(['week_id'], ['weeks.id'], name=op.f('fk_incidents_week_id_weeks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    sa.UniqueConstraint('team_id', 'number', name=op.f('uq_incidents_team_id_number'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index('ix_incidents_team_started', ['team_id', 'started_at'], unique=False)
        batch_op.create_index('ix_incidents_team_week', ['team_id', 'week_id', 'started_at', 'number'], unique=False)

    op.create_table('metric_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('week_id', sa.Integer(), nullable=False),
    sa.Column('item_key', sa.String(length=200), nullable=False),
    sa.Column('value_text', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=6), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['people.id'], name=op.f('fk_metric_values_author_id_people')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_metric_values_team_id_teams')),
    sa.ForeignKeyConstraint(['week_id'], ['weeks.id'], name=op.f('fk_metric_values_week_id_weeks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metric_values')),
    sa.UniqueConstraint('team_id', 'week_id', 'item_key', name=op.f('uq_metric_values_team_id_week_id_item_key'))
    )
    with op.batch_alter_table('metric_values', schema=None) as batch_op:
        batch_op.create_index('ix_metric_values_team_week', ['team_id', 'week_id'], unique=False)

    op.create_table('prompts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('week_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=True),
    sa.Column('message_id', sa.String(length=128), nullable=True),
    sa.Column('item_keys', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_prompts_person_id_people')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_prompts_team_id_teams')),
    sa.ForeignKeyConstraint(['week_id'], ['weeks.id'], name=op.f('fk_prompts_week_id_weeks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prompts')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_prompts_idempotency_key')),
    sa.UniqueConstraint('team_id', 'week_id', 'person_id', 'kind', 'platform', name=op.f('uq_prompts_team_id_week_id_person_id_kind_platform'))
    )
    with op.batch_alter_table('prompts', schema=None) as batch_op:
        batch_op.create_index('ix_prompts_team_week', ['team_id', 'week_id'], unique=False)

    op.create_table('reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('week_id', sa.Integer(), nullable=False),
    sa.Column('compiled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('markdown', sa.Text(), nullable=False),
    sa.Column('slack', sa.Text(), nullable=False),
    sa.Column('feishu', sa.Text(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_reports_team_id_teams')),
    sa.ForeignKeyConstraint(['week_id'], ['weeks.id'], name=op.f('fk_reports_week_id_weeks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports')),
    sa.UniqueConstraint('team_id', 'week_id', name=op.f('uq_reports_team_id_week_id'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index('ix_reports_team_week', ['team_id', 'week_id'], unique=False)

    op.create_table('answer_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('week_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('change', sa.String(length=8), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['answer_messages.id'], name=op.f('fk_answer_revisions_message_id_answer_messages')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_answer_revisions_team_id_teams')),
    sa.ForeignKeyConstraint(['week_id'], ['weeks.id'], name=op.f('fk_answer_revisions_week_id_weeks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answer_revisions'))
    )
    with op.batch_alter_table('answer_revisions', schema=None) as batch_op:
        batch_op.create_index('ix_answer_revisions_team_week', ['team_id', 'week_id'], unique=False)

    op.create_table('contributions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('week_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('item_key', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['answer_messages.id'], name=op.f('fk_contributions_message_id_answer_messages')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_contributions_team_id_teams')),
    sa.ForeignKeyConstraint(['week_id'], ['weeks.id'], name=op.f('fk_contributions_week_id_weeks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contributions'))
    )
    with op.batch_alter_table('contributions', schema=None) as batch_op:
        batch_op.create_index('ix_contributions_team_week', ['team_id', 'week_id'], unique=False)

    op.create_table('report_posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('part', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('message_id', sa.String(length=128), nullable=True),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_posts_report_id_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_posts')),
    sa.UniqueConstraint('report_id', 'platform', 'part', name=op.f('uq_report_posts_report_id_platform_part'))
    )


def downgrade() -> None:
    op.drop_table('report_posts')
    with op.batch_alter_table('contributions', schema=None) as batch_op:
        batch_op.drop_index('ix_contributions_team_week')

    op.drop_table('contributions')
    with op.batch_alter_table('answer_revisions', schema=None) as batch_op:
        batch_op.drop_index('ix_answer_revisions_team_week')

    op.drop_table('answer_revisions')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_team_week')

    op.drop_table('reports')
    with op.batch_alter_table('prompts', schema=None) as batch_op:
        batch_op.drop_index('ix_prompts_team_week')

    op.drop_table('prompts')
    with op.batch_alter_table('metric_values', schema=None) as batch_op:
        batch_op.drop_index('ix_metric_values_team_week')

    op.drop_table('metric_values')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_team_week')
        batch_op.drop_index('ix_incidents_team_started')

    op.drop_table('incidents')
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_index('ix_entries_team_week')

    op.drop_table('entries')
    with op.batch_alter_table('bank_statuses', schema=None) as batch_op:
        batch_op.drop_index('ix_bank_statuses_team_week')

    op.drop_table('bank_statuses')
    with op.batch_alter_table('answer_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_answer_messages_team_week')

    op.drop_table('answer_messages')
    op.drop_table('weeks')
    op.drop_table('people')
    op.drop_table('teams')
    op.drop_table('processed_events')
