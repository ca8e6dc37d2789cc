"""The composition root: builds every service from settings, a team and a chat port. Nothing else wires."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bot.chat import ChatPort, Inbound, Reply
from bot.commands import Commands
from bot.context import Clock, Context
from bot.cycle import WeeklyCycle
from bot.inbox import Inbox
from bot.incident_desk import IncidentDesk
from bot.render import Renderer
from bot.settings import Settings
from bot.spool import AnswerSpool
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
    spool: AnswerSpool | None = None
    scheduler: Any = None  # bot.scheduler.Scheduler once started (zhoubao run on a platform)

    def health(self) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON body) for /healthz: database, scheduler and spool state."""
        from bot.health import health
        return health(self, self.scheduler, self.spool)

    def receive(self, msg: Inbound) -> Reply | None:
        """Store an answer; while the database is down, keep it in the spool (when there is one)."""
        return self.spool.receive(msg) if self.spool is not None else self.inbox.receive(msg)


def build_bot(team: Team, chat: ChatPort, clock: Clock, *, database_url: str,
              templates: Path | None = None, engine: Engine | None = None, migrate: bool = True,
              allow_other_teams: bool = True, spool_dir: Path | None = None) -> Bot:
    """Open (and migrate) the database, register the team, and wire the services.

    With `spool_dir`, answers that arrive while the database is down are kept there until it returns.
    """
    engine = engine or make_engine(database_url)
    ctx = Context(team=team, db=session_factory(engine), chat=chat, renderer=Renderer(templates), clock=clock)
    with startup_lock(engine):  # several instances starting at once on one PostgreSQL
        if migrate:
            upgrade(engine)
        ctx.bootstrap(allow_other_teams=allow_other_teams)
    cycle = WeeklyCycle(ctx)
    inbox = Inbox(ctx, cycle)
    spool = AnswerSpool(inbox, spool_dir, f"{socket.gethostname()}-{os.getpid()}") if spool_dir else None
    return Bot(ctx=ctx, engine=engine, cycle=cycle, inbox=inbox, incidents=IncidentDesk(ctx, cycle),
               commands=Commands(ctx, cycle), spool=spool)


def load_settings_and_team(settings: Settings | None = None) -> tuple[Settings, Team]:
    settings = settings or Settings()
    return settings, load_team(settings.team_file)
