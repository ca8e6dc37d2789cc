"""The inbound journal: platform payloads kept from the ack until they are processed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from importlib import import_module
from typing import Any, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session

from storage.models import JournalRow

_ERROR_CHARS = 2000
_TABLE = cast(Table, JournalRow.__table__)  # Core, not the ORM: no objects built only to be thrown away


def _insert_new(dialect: str) -> Any:
    """An INSERT into the journal that skips a (platform, dedupe_key) already there. The dialect's module is
    imported here, by the first insert: the console and one-shot commands never load PostgreSQL's (~50 ms)."""
    dml: Any = import_module("sqlalchemy.dialects.postgresql" if dialect == "postgresql" else "sqlalchemy.dialects.sqlite")
    return dml.insert(_TABLE).on_conflict_do_nothing(index_elements=[_TABLE.c.platform, _TABLE.c.dedupe_key])


class Journal:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add_many(self, items: Sequence[tuple[str, str, str, str, datetime]]) -> list[bool]:
        """Insert (platform, key, kind, payload, received_at) entries in one go; for each, whether it is new
        (False for a key already journaled, by this process or another meanwhile, or repeated earlier in
        `items`).

        One statement, `INSERT … ON CONFLICT DO NOTHING RETURNING` (PostgreSQL and SQLite ≥ 3.35): this is
        the ack path, where a look-up of the keys first was one more round trip per ack (bench/week.py,
        issue 21), and Core, since ORM objects would only be thrown away."""
        out: list[bool] = []
        rows: list[dict[str, object]] = []
        batch: set[tuple[str, str]] = set()
        for platform, key, kind, payload, at in items:
            out.append((platform, key[:255]) not in batch)
            if out[-1]:
                batch.add((platform, key[:255]))
                rows.append({"platform": platform, "dedupe_key": key[:255], "kind": kind[:64], "payload": payload,
                             "received_at": at, "attempts": 0})
        if not rows:
            return out
        statement = _insert_new(self.s.get_bind().dialect.name).returning(_TABLE.c.platform, _TABLE.c.dedupe_key)
        new = {(p, k) for p, k in self.s.execute(statement, rows)}  # executemany: SQLAlchemy pages the VALUES
        return [fresh and (platform, key[:255]) in new for fresh, (platform, key, _, _, _) in zip(out, items, strict=True)]

    def pending(self, limit: int = 100) -> Sequence[JournalRow]:
        """Unprocessed entries, oldest first."""
        return self.s.scalars(select(JournalRow).where(JournalRow.processed_at.is_(None))
                              .order_by(JournalRow.id).limit(limit)).all()

    def count_pending(self) -> int:
        return int(self.s.scalar(select(func.count(JournalRow.id)).where(JournalRow.processed_at.is_(None))) or 0)

    def get(self, entry_id: int) -> JournalRow | None:
        return self.s.get(JournalRow, entry_id)

    def done(self, entry_ids: Sequence[int], at: datetime) -> None:
        """Mark entries processed (once each). One Core UPDATE: this runs after every entry, and loading the
        row into the ORM to set two columns was a fifth of the journal worker's time (bench/week.py, issue 21)."""
        if entry_ids:
            self.s.execute(update(_TABLE).where(_TABLE.c.id.in_(entry_ids), _TABLE.c.processed_at.is_(None))
                           .values(processed_at=at, attempts=func.coalesce(_TABLE.c.attempts, 0) + 1))

    def failed(self, entry_id: int, error: str, at: datetime, *, give_up: bool) -> int:
        """Count a failed attempt (and give the entry up when `give_up`); returns the attempts so far."""
        row = self.s.get(JournalRow, entry_id)
        if row is None:
            return 0
        row.attempts = (row.attempts or 0) + 1
        row.last_error = error[:_ERROR_CHARS]
        if give_up:
            row.processed_at = at
        self.s.flush()
        return row.attempts
