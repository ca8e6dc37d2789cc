"""What a payload changed in the database, for tests that check a payload changed nothing."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from storage.models import Base

# The journal keeps every payload it acknowledged (and marks it processed): that is not a change a person sees.
_NOT_STATE = frozenset({"inbound_journal", "zhoubao_scheduler_jobs"})


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table of the bot's state (everything but the journal and the scheduler's own store)."""
    with engine.connect() as conn:
        return {name: int(conn.scalar(select(func.count()).select_from(table)) or 0)
                for name, table in Base.metadata.tables.items() if name not in _NOT_STATE}
