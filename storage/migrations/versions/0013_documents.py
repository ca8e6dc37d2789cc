"""documents a report is published into (Feishu docx, Slack canvas, 多维表格) and the rows it wrote

A re-publish finds the document (published_documents) and each row (document_records) it wrote before, so
it edits them in place instead of creating second ones.

Revision ID: 0013_documents
Revises: 0009_reliability
Create Date: 2026-12-07
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013_documents'
down_revision: str | None = '0009_reliability'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('published_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=160), nullable=False),
    sa.Column('document_id', sa.String(length=128), nullable=False),
    sa.Column('url', sa.String(length=512), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_published_documents_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_published_documents')),
    sa.UniqueConstraint('team_id', 'subject', 'target', name=op.f('uq_published_documents_team_id_subject_target'))
    )
    op.create_table('document_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=160), nullable=False),
    sa.Column('row_key', sa.String(length=255), nullable=False),
    sa.Column('record_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_document_records_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_records')),
    sa.UniqueConstraint('team_id', 'subject', 'target', 'row_key',
                        name=op.f('uq_document_records_team_id_subject_target_row_key'))
    )


def downgrade() -> None:
    op.drop_table('document_records')
    op.drop_table('published_documents')
