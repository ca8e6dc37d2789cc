"""The inbound journal: platform payloads kept from the ack until they are processed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import JournalRow

_ERROR_CHARS = 2000
_TABLE = cast(Table, JournalRow.__table__)  # Core, not the ORM: no objects built only to be thrown away


class Journal:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, platform: str, dedupe_key: str, kind: str, payload: str, received_at: datetime) -> bool:
        """Insert one entry; False when (platform, dedupe_key) is already journaled (a redelivery).

        Runs in a SAVEPOINT so a duplicate leaves the caller's transaction usable."""
        if self.has(platform, dedupe_key):
            return False
        try:
            with self.s.begin_nested():
                self.s.add(JournalRow(platform=platform, dedupe_key=dedupe_key[:255], kind=kind[:64],
                                      payload=payload, received_at=received_at, attempts=0))
        except IntegrityError:  # the same key journaled concurrently
            return False
        return True

    def add_many(self, items: Sequence[tuple[str, str, str, str, datetime]]) -> list[bool]:
        """Insert (platform, key, kind, payload, received_at) entries in one go; for each, whether it is new
        (False for a key already journaled, or repeated earlier in `items`). Raises IntegrityError when
        another process journaled one of the keys meanwhile (the caller adds them one by one then)."""
        keys = {(p, k[:255]) for p, k, _, _, _ in items}
        known: set[tuple[str, str]] = set()
        for platform in {p for p, _ in keys}:
            wanted = [k for p, k in keys if p == platform]
            known |= {(platform, k) for k in self.s.scalars(select(JournalRow.dedupe_key).where(
                JournalRow.platform == platform, JournalRow.dedupe_key.in_(wanted)))}
        out: list[bool] = []
        rows: list[dict[str, object]] = []
        for platform, key, kind, payload, at in items:
            if (platform, key[:255]) in known:
                out.append(False)
                continue
            known.add((platform, key[:255]))
            rows.append({"platform": platform, "dedupe_key": key[:255], "kind": kind[:64], "payload": payload,
                         "received_at": at, "attempts": 0})
            out.append(True)
        if rows:  # one executemany in Core: this is the ack path, and ORM objects would only be thrown away
            self.s.execute(insert(_TABLE), rows)
        return out

    def has(self, platform: str, dedupe_key: str) -> bool:
        return self.s.scalars(select(JournalRow.id).where(
            JournalRow.platform == platform, JournalRow.dedupe_key == dedupe_key[:255])).first() is not None

    def pending(self, limit: int = 100) -> Sequence[JournalRow]:
        """Unprocessed entries, oldest first."""
        return self.s.scalars(select(JournalRow).where(JournalRow.processed_at.is_(None))
                              .order_by(JournalRow.id).limit(limit)).all()

    def count_pending(self) -> int:
        return int(self.s.scalar(select(func.count(JournalRow.id)).where(JournalRow.processed_at.is_(None))) or 0)

    def get(self, entry_id: int) -> JournalRow | None:
        return self.s.get(JournalRow, entry_id)

    def done(self, entry_id: int, at: datetime) -> None:
        """Mark an entry processed (once). One Core UPDATE: this runs after every entry, and loading the row
        into the ORM to set two columns was a fifth of the journal worker's time (bench/week.py, issue 21)."""
        self.s.execute(update(_TABLE).where(_TABLE.c.id == entry_id, _TABLE.c.processed_at.is_(None))
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
