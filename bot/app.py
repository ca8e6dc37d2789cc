"""The composition root: builds every service from settings, a team and a chat port. Nothing else wires."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from bot.chat import ChatPort
from bot.commands import Commands
from bot.context import Clock, Context
from bot.cycle import WeeklyCycle
from bot.inbox import Inbox
from bot.incident_desk import IncidentDesk
from bot.render import Renderer
from bot.settings import Settings
from bot.team import Team
from bot.team_file import load_team
from storage.db import make_engine, session_factory, startup_lock, upgrade


@dataclass
class Bot:
    """Everything a platform adapter talks to."""

    ctx: Context
    engine: Engine
    cycle: WeeklyCycle
    inbox: Inbox
    incidents: IncidentDesk
    commands: Commands


def build_bot(team: Team, chat: ChatPort, clock: Clock, *, database_url: str,
              templates: Path | None = None, engine: Engine | None = None, migrate: bool = True,
              allow_other_teams: bool = True) -> Bot:
    """Open (and migrate) the database, register the team, and wire the services."""
    engine = engine or make_engine(database_url)
    ctx = Context(team=team, db=session_factory(engine), chat=chat, renderer=Renderer(templates), clock=clock)
    with startup_lock(engine):  # several instances starting at once on one PostgreSQL
        if migrate:
            upgrade(engine)
        ctx.bootstrap(allow_other_teams=allow_other_teams)
    cycle = WeeklyCycle(ctx)
    return Bot(ctx=ctx, engine=engine, cycle=cycle, inbox=Inbox(ctx, cycle), incidents=IncidentDesk(ctx, cycle),
               commands=Commands(ctx, cycle))


def load_settings_and_team(settings: Settings | None = None) -> tuple[Settings, Team]:
    settings = settings or Settings()
    return settings, load_team(settings.team_file)
