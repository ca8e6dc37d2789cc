"""A department: several teams in one instance, each with its own team file, and the department's own
channel and schedule for the roll-up.

The department file (YAML, loaded by `runtime/team_file.py`) names the team files; a plain team file is a
department of one team, so an existing install changes nothing. Which team a command means is decided
here, once (`Department.choose`), for the CLI, the console and the adapters alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.domain.team import Locale, Person, Platform, Team, WeeklyTime, known_zone


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class DepartmentInfo(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=128)]
    locale: Locale = "zh-CN"
    timezone: str = "Asia/Shanghai"
    report_channel: str = "department-report"
    # The chat app the roll-up is posted through (its channel is that app's); None: the environment's.
    platform: Platform | None = None
    # The roll-up covers the ISO week of this time, in the department's zone: after the teams' publishes.
    publish: WeeklyTime = WeeklyTime.model_validate("fri 18:00")
    # Who sees every team and the department's page on the dashboard: person ids or emails, as the team
    # files write them (a director signs in as a person of one of the teams).
    directors: list[Annotated[str, Field(min_length=1)]] = []

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_zone(value)


class DepartmentFile(_Strict):
    """The department file as written: the department, then its team files (paths relative to it)."""

    department: DepartmentInfo
    teams: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]


class TeamChoiceError(ValueError):
    """`--team` named no team of the department, or named none where the department has several."""


@dataclass(frozen=True)
class DepartmentTeam:
    key: str  # the team file's stem: what `--team` takes besides the team's name
    team: Team
    file: Path | None = None  # the team's own file (what its settings page writes back); None when built in memory

    @property
    def name(self) -> str:
        return self.team.team.name


def is_named(key: str, name: str, wanted: str) -> bool:
    """Whether `wanted` (what `--team` was given) names the team with this key and name: either, case aside."""
    folded = wanted.strip().casefold()
    return folded in (key.casefold(), name.casefold())


def team_label(key: str, name: str) -> str:
    """A team as a list of choices shows it: `settlement (清结算组)`, or the key alone when it is the name."""
    return key if key == name else f"{key} ({name})"


@dataclass(frozen=True)
class Department:
    """The teams of one instance. `info` is None for a plain team file (a department of one, no roll-up)."""

    info: DepartmentInfo | None
    teams: tuple[DepartmentTeam, ...]

    @property
    def name(self) -> str:
        return self.info.name if self.info else self.teams[0].name

    @property
    def locale(self) -> str:
        return self.info.locale if self.info else self.teams[0].team.team.locale

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.info.timezone) if self.info else self.teams[0].team.zone

    @property
    def team_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.teams)

    # ----- where each team is served (one process for the whole department) ----------------------

    def platform_of(self, team: DepartmentTeam, default: Platform) -> Platform:
        """The chat app `team` is on: its file's `team.platform`, else `default` (the environment's)."""
        return team.team.team.platform or default

    def rollup_platform(self, default: Platform) -> Platform:
        """The chat app the roll-up is posted through: `department.platform`, else `default`."""
        return (self.info.platform if self.info else None) or default

    @property
    def platforms_named(self) -> bool:
        """Whether every team names its chat app (so one process may serve Slack and Feishu teams together)."""
        return all(t.team.team.platform is not None for t in self.teams)

    def on(self, platform: Platform, default: Platform) -> tuple[DepartmentTeam, ...]:
        """The teams served on `platform` (in the department file's order)."""
        return tuple(t for t in self.teams if self.platform_of(t, default) == platform)

    def choose(self, wanted: str | None) -> Team:
        """The team `wanted` names (its key or its name, case aside); with None, the only team. Raises
        TeamChoiceError naming the teams there are."""
        if wanted is None:
            if len(self.teams) == 1:
                return self.teams[0].team
            raise TeamChoiceError(f"this department has {len(self.teams)} teams; choose one with --team "
                                  f"({self._choices()})")
        for t in self.teams:
            if is_named(t.key, t.name, wanted):
                return t.team
        raise TeamChoiceError(f"no team '{wanted}' in this department ({self._choices()})")

    def _choices(self) -> str:
        return ", ".join(team_label(t.key, t.name) for t in self.teams)

    # ----- who sees which team (the dashboard asks here) ------------------------------------------

    def is_director(self, person: Person) -> bool:
        """Whether `person` (by id or email, case aside for emails) is one of the department's directors."""
        if self.info is None:
            return False
        named = {d.casefold() for d in self.info.directors}
        return person.id.casefold() in named or (person.email is not None and person.email.casefold() in named)

    def as_member(self, team: Team, person: Person) -> Person | None:
        """`person` as `team`'s file knows them: the same id, else the same email; None when not in it."""
        found = team.person_by_id.get(person.id)
        if found is not None:
            return found
        if person.email:
            email = person.email.casefold()
            return next((p for p in team.people if p.email and p.email.casefold() == email), None)
        return None

    def visible_to(self, person: Person) -> tuple[DepartmentTeam, ...]:
        """The teams `person` may see: every team for a director, else the teams they belong to."""
        if self.is_director(person):
            return self.teams
        return tuple(t for t in self.teams if self.as_member(t.team, person) is not None)
