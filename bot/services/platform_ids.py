"""The ids a platform gave for people's emails, kept in the database so a restart looks nobody up again."""

from __future__ import annotations

from bot.services.context import Roster
from storage.db import SessionFactory, transaction
from storage.directory import Directory


class PlatformIds:
    """Each person's looked-up id per platform (Slack's `users.lookupByEmail` answer), read once per process
    and written when it changes.

    Built from the database and the team's rows alone, before the chat port exists (the gateway needs it)."""

    def __init__(self, db: SessionFactory, roster: Roster) -> None:
        self.db = db
        self.roster = roster

    def load(self, platform: str) -> dict[str, str]:
        """Person id -> the stored id on `platform`, for everyone who has one."""
        with transaction(self.db) as s:
            return Directory(s).platform_ids(self.roster.team_id, platform)

    def set(self, person_id: str, platform: str, value: str | None) -> None:
        """Keep the id the platform gave for the person; None forgets it (the platform said it is gone)."""
        row_id = self.roster.person_ids.get(person_id)
        if row_id is None:
            return
        with transaction(self.db) as s:
            Directory(s).set_platform_id(row_id, platform, value)
