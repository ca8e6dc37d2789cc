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
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode rebuilds a table (copy, drop, rename). With foreign keys enforced, dropping a table that
        # other rows reference fails, so every stored database failed to upgrade past such a step. SQLite's
        # own procedure for changing a table: foreign keys off (a no-op inside a transaction, so first), the
        # change in one transaction, `foreign_key_check` before the commit, foreign keys back on
        # (https://www.sqlite.org/lang_altertable.html#otheralter; Alembic's batch docs say the same:
        # https://alembic.sqlalchemy.org/en/latest/batch.html#dealing-with-referencing-tables).
        # pysqlite begins no transaction before DDL, so BEGIN is said here: a failed step rolls back whole.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.exec_driver_sql("BEGIN")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=sqlite,
        compare_type=True,
    )
    try:
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration left rows whose references are broken: {broken[:5]}")
        connection.commit()
    finally:
        if sqlite:
            connection.rollback()  # nothing to undo after a commit; ends a failed one before the PRAGMA
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
