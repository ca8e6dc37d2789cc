"""The database side of the composition root, and what one-shot commands need of a team.

`open_store` opens (and migrates) the database and registers the team; `team_context` builds the one
`Context` every service of a team shares. `open_reports` is the read side on top of them, for commands that
read or file a team's weeks without running it (`zhoubao report`, `export`, `import`):
the week's report on a context, without the jobs, the inbox, the journal or a platform, so such a command
loads none of them (issue 18, "a light start"). composition.py builds the whole bot on the same two.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.team import Team
from bot.services.chat import ChatPort
from bot.services.context import Clock, Context, LiveTeam, Roster, register_team
from bot.services.metrics import NO_METRICS, Metrics
from bot.services.week_report import WeekReport
from bot.text.render import Renderer
from storage.db import make_engine, session_factory, startup_lock, upgrade


@dataclass(frozen=True)
class Store:
    """The database, migrated, with the team's rows in it."""

    engine: Engine
    db: sessionmaker[Session]
    roster: Roster


def open_store(team: Team, clock: Clock, *, database_url: str, engine: Engine | None = None, migrate: bool = True,
               allow_other_teams: bool = True) -> Store:
    """Open (and migrate) the database and register the team and its people."""
    engine = engine or make_engine(database_url)
    db = session_factory(engine)
    with startup_lock(engine):  # several instances starting at once on one PostgreSQL
        if migrate:
            upgrade(engine)
        roster = register_team(db, team, clock().astimezone(team.zone), allow_other_teams=allow_other_teams)
    return Store(engine, db, roster)


def team_context(team: Team, store: Store, chat: ChatPort, clock: Clock, *, templates: Path | None = None,
                 metrics: Metrics = NO_METRICS, live: LiveTeam | None = None) -> Context:
    """The context a team's services share. `live`: the running team when the chat port already reads it."""
    return Context(live=live or LiveTeam(team, store.roster), db=store.db, chat=chat, renderer=Renderer(templates),
                   clock=clock, metrics=metrics)


@dataclass(frozen=True)
class Reports:
    """A team's context and the read side of its weeks (facts, compile, render)."""

    ctx: Context
    week_report: WeekReport


def open_reports(team: Team, chat: ChatPort, clock: Clock, *, database_url: str, allow_other_teams: bool = True,
                 templates: Path | None = None) -> Reports:
    """Open (and migrate) the database, register the team, and build its context and week reports around
    `chat` (a one-shot command's ConsoleChat: nothing it builds sends anything)."""
    store = open_store(team, clock, database_url=database_url, allow_other_teams=allow_other_teams)
    ctx = team_context(team, store, chat, clock, templates=templates)
    return Reports(ctx, WeekReport(ctx))
