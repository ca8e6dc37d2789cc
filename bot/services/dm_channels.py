"""People's direct-message channels per platform, kept so each is opened once."""

from __future__ import annotations

from bot.services.context import Roster
from storage.db import SessionFactory, transaction
from storage.directory import Directory


class DmChannels:
    """Each person's direct-message channel per platform, so it is opened once, not every week.

    Built from the database and the team's rows alone, before the chat port exists (the gateway needs it)."""

    def __init__(self, db: SessionFactory, roster: Roster) -> None:
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
