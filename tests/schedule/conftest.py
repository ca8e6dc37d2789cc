"""Helpers for the scheduling tests: a team with a chosen schedule, and bots sharing one database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.domain.team import Team
from bot.runtime.composition import build_bot
from bot.runtime.scheduler import Scheduler, SchedulerOptions
from bot.runtime.team_file import load_team
from bot.services.bot import Bot
from tests.conftest import EXAMPLE_TEAM
from tests.fakes import FakeChat, FixedClock


def team_with(**schedule: Any) -> Team:
    """The example team with its schedule changed, e.g. team_with(publish="thu 18:00", calendar="none")."""
    team = load_team(EXAMPLE_TEAM)
    data = team.model_dump()
    data["schedule"] = {**data["schedule"], **schedule}
    return Team.model_validate(data)


@pytest.fixture
def make_bot(database_url: str) -> Iterator[Callable[..., Bot]]:
    """Build a bot (a new 'process') on the test's database; each gets its own chat unless given one."""
    bots: list[Bot] = []

    def make(team: Team, clock: FixedClock, chat: FakeChat | None = None) -> Bot:
        bot = build_bot(team, chat or FakeChat(), clock, database_url=database_url)
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        bot.engine.dispose()


@pytest.fixture
def make_scheduler() -> Iterator[Callable[..., Scheduler]]:
    """A started scheduler that never fires by wall-clock time: the test's clock drives it via catch_up."""
    started: list[Scheduler] = []

    def make(bot: Bot, **options: Any) -> Scheduler:
        sched = Scheduler(bot, SchedulerOptions(**options))
        sched.start(paused=True, housekeeping=False)
        started.append(sched)
        return sched

    yield make
    for sched in started:
        sched.shutdown(wait=False)


@pytest.fixture
def pg_database(postgres_url: str) -> str:
    """The PostgreSQL scratch database, migrated and emptied, for tests that start real processes."""
    from tests.conftest import empty_postgres

    return empty_postgres(postgres_url)
