"""incidents filed by anyone in the workspace: who filed it (platform user) and their name

Revision ID: 0005_realws
Revises: 0003_web
Create Date: 2026-11-27
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005_realws'
down_revision: str | None = '0004_incq'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reporter_user', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('reporter_name', sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_column('reporter_name')
        batch_op.drop_column('reporter_user')
