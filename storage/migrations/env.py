"""Alembic environment: the engine comes from `storage.db.alembic_config`, never from a URL in a file."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from storage.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` CLI use: take the URL from the settings
    from bot.runtime.settings import Settings
    from storage.db import normalize_url

    engine = create_engine(normalize_url(Settings().database_url))

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
