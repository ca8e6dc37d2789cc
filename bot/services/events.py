"""Small platform bookkeeping the adapters share: handled event ids and people's DM channels."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.services.context import Context, Roster
from storage.db import DatabaseUnavailable, transaction
from storage.directory import Directory
from storage.events import ProcessedEvents

_KEEP = timedelta(days=2)


class EventLog:
    """Remembers which platform events were handled, across restarts and processes."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def seen(self, platform: str, event_id: str) -> bool:
        """True for an event already handled. With the database down: False, so the message reaches the
        spool; the inbox ignores a message id it already stored, so a replay stores nothing twice."""
        try:
            with transaction(self.ctx.db) as s:
                return ProcessedEvents(s).seen(platform, event_id)
        except DatabaseUnavailable:
            return False

    def done(self, platform: str, event_id: str) -> None:
        """Record an event as handled: only after its work succeeded, so a failure is redelivered, not lost."""
        try:
            with transaction(self.ctx.db) as s:
                ProcessedEvents(s).record(platform, event_id, self.ctx.now())
        except (IntegrityError, DatabaseUnavailable):  # recorded concurrently, or the database is away
            pass

    def prune(self) -> int:
        with transaction(self.ctx.db) as s:
            return ProcessedEvents(s).prune(self.ctx.now() - _KEEP)


class DmChannels:
    """Each person's direct-message channel per platform, so it is opened once, not every week.

    Built from the database and the team's rows alone, before the chat port exists (the gateway needs it)."""

    def __init__(self, db: sessionmaker[Session], roster: Roster) -> None:
        self.db = db
        self.roster = roster

    def get(self, person_id: str, platform: str) -> str | None:
        with transaction(self.db) as s:
            row = Directory(s).person(self.roster.team_id, person_id)
            return row.dm_channels.get(platform) if row is not None else None

    def set(self, person_id: str, platform: str, channel: str) -> None:
        row_id = self.roster.person_ids.get(person_id)
        if row_id is None:
            return
        with transaction(self.db) as s:
            Directory(s).set_dm_channel(row_id, platform, channel)
