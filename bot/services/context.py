"""What every core service shares: the team, the database, the chat port, the renderer and the clock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.team import Person, Team
from bot.domain.weeks import IsoWeek, WeekLabelError, WeekWindow, check_week_in_window, week_window
from bot.services.chat import ChatPort
from bot.services.metrics import NO_METRICS, Metrics
from bot.text.render import Renderer
from storage.db import SessionFactory, transaction
from storage.directory import Directory, PersonSpec

Clock = Callable[[], datetime]


class TeamMismatchError(Exception):
    """The database holds another team's data."""


@dataclass(frozen=True)
class Roster:
    """The team's rows in the database: what `register_team` returns."""

    team_id: int
    person_ids: dict[str, int]  # team-file id -> row id


def register_team(db: SessionFactory, team: Team, at: datetime, *, allow_other_teams: bool = True) -> Roster:
    """Create the team and its people in the database (idempotent); returns their row ids."""
    with transaction(db) as s:
        d = Directory(s)
        others = d.other_team_names(team.team.name)
        if others and not allow_other_teams:
            raise TeamMismatchError(
                f"the database holds another team's data ({', '.join(others)}); "
                "point DATABASE_URL at an empty database")
        row = d.ensure_team(team.team.name, at)
        person_ids = d.sync_people(row.id, [PersonSpec(p.id, p.name, p.slack, p.feishu, p.email) for p in team.people])
        return Roster(row.id, dict(person_ids))


class LiveTeam:
    """The team the running process serves, and its people's row ids: one pair, swapped whole when the team
    file changes (from the dashboard's settings page or on disk), so every service reads the new team on its
    next call without a restart. The people are registered before a swap and never deleted, so the row ids
    read beside either team cover everyone in it."""

    def __init__(self, team: Team, roster: Roster) -> None:
        self._pair = (team, dict(roster.person_ids))
        self._team_id = roster.team_id
        self._lock = threading.Lock()

    @property
    def team(self) -> Team:
        return self._pair[0]

    @property
    def person_ids(self) -> dict[str, int]:
        return self._pair[1]

    @property
    def team_id(self) -> int:
        return self._team_id

    def swap(self, team: Team, roster: Roster) -> Team:
        """Serve `team` from now on (its people already registered as `roster`); returns the team it replaced."""
        if roster.team_id != self._team_id:
            raise ValueError("a reload cannot move the process to another team")
        with self._lock:
            old = self._pair[0]
            self._pair = (team, dict(roster.person_ids))  # one assignment: readers see the old pair or the new
        return old


@dataclass(frozen=True)
class Context:
    """Built once by the composition root; frozen, so no service swaps the database or clock under another.
    The team itself is live (`LiveTeam`): a settings change reaches every service without a restart."""

    live: LiveTeam
    db: SessionFactory
    chat: ChatPort
    renderer: Renderer
    clock: Clock
    metrics: Metrics = field(default=NO_METRICS)

    @property
    def team(self) -> Team:
        """The team as the team file says now."""
        return self.live.team

    @property
    def team_id(self) -> int:
        return self.live.team_id

    @property
    def person_ids(self) -> dict[str, int]:
        """Team-file id -> row id, for everyone the team file has named since the process started."""
        return self.live.person_ids

    @property
    def locale(self) -> str:
        return self.team.team.locale

    def now(self) -> datetime:
        """The clock's time in the team's time zone."""
        return self.clock().astimezone(self.team.zone)

    def week_of(self, at: datetime) -> IsoWeek:
        return IsoWeek.of(at.astimezone(self.team.zone))

    def week_window(self) -> WeekWindow:
        """The weeks people may name: from the team's first stored week minus five years to next week."""
        with transaction(self.db) as s:
            first = Directory(s).first_week_label(self.team_id)
        try:
            stored = IsoWeek.parse(first) if first else None
        except WeekLabelError:
            stored = None  # a label no week has cannot anchor the window
        return week_window(stored, self.now().date())

    def parse_week(self, label: str) -> IsoWeek:
        """The week `label` names, inside the team's window; WeekLabelError (WeekOutsideWindow when the
        week is real but outside the window) otherwise. Every entrance taking a week from people uses it."""
        return self.check_week(IsoWeek.parse(label))

    def check_week(self, week: IsoWeek) -> IsoWeek:
        """`week` when it is inside the team's window; WeekOutsideWindow otherwise."""
        return check_week_in_window(week, self.week_window())

    def person(self, user: str) -> Person | None:
        """The team member behind a platform user id (or, on the console, an id or name)."""
        return self.team.find_person(user)
