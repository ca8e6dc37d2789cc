"""The composition root: builds every service from settings, a team and a chat port. Nothing else wires."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from sqlalchemy import Engine

from bot.domain.team import Team
from bot.services.bot import Bot
from bot.services.chat import ChatPort
from bot.services.commands import Commands
from bot.services.context import Clock, Context
from bot.services.cycle import WeeklyCycle
from bot.services.inbox import Inbox
from bot.services.incident_desk import IncidentDesk
from bot.services.spool import AnswerSpool
from bot.text.render import Renderer
from storage.db import make_engine, session_factory, startup_lock, upgrade


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

