"""platform ids: the Slack user ids looked up by email are kept per person (people.platform_ids), so a
restart asks Slack again for nobody; DMs are posted to the user id, so no DM channel is kept

Revision ID: 0011_platform_ids
Revises: 0008_drop_events
Create Date: 2026-12-07
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011_platform_ids'
down_revision: str | None = '0010_digests'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('platform_ids', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.drop_column('dm_channels')


def downgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dm_channels', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.drop_column('platform_ids')
