"""What the database already holds for a team, read without registering it: for the commands that must
not write (`doctor`) or must decide before writing (`demo`), and for `report`'s publish time."""

from __future__ import annotations

from datetime import datetime

from bot.domain.weeks import IsoWeek
from storage.db import SessionFactory, transaction
from storage.directory import Directory
from storage.reports import Reports


class StoredTeam:
    def __init__(self, db: SessionFactory, team_name: str) -> None:
        self.db = db
        self.team_name = team_name

    def other_teams(self) -> list[str]:
        """The names of the other teams whose data the database holds."""
        with transaction(self.db) as s:
            return Directory(s).other_team_names(self.team_name)

    def published_at(self, week: IsoWeek) -> datetime | None:
        """When the week's report was published (None: not published, or the team is not stored)."""
        with transaction(self.db) as s:
            team = Directory(s).team(self.team_name)
            row = Reports(s).by_label(team.id, week.label) if team else None
            return row.published_at if row else None

    def prompted(self, week: IsoWeek) -> bool:
        """Whether any prompt or reminder of `week` reached an owner."""
        with transaction(self.db) as s:
            d = Directory(s)
            team = d.team(self.team_name)
            row = d.week(team.id, week.label) if team else None
            return bool(team and row and d.any_prompt_sent(team.id, row.id))
