"""The services a platform adapter talks to, built together by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from bot.services.chat import Inbound, Reply
from bot.services.commands import Commands
from bot.services.context import Context
from bot.services.cycle import WeeklyCycle
from bot.services.inbox import Inbox
from bot.services.incident_desk import IncidentDesk
from bot.services.spool import AnswerSpool


@dataclass(frozen=True)
class Bot:
    """Everything a platform adapter talks to."""

    ctx: Context
    engine: Engine
    cycle: WeeklyCycle
    inbox: Inbox
    incidents: IncidentDesk
    commands: Commands
    spool: AnswerSpool | None = None

    def receive(self, msg: Inbound) -> Reply | None:
        """Store an answer; while the database is down, keep it in the spool (when there is one)."""
        return self.spool.receive(msg) if self.spool is not None else self.inbox.receive(msg)
