"""The services a platform adapter talks to, built together by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from bot.services.commands import Commands
from bot.services.context import Context
from bot.services.cycle import WeeklyCycle
from bot.services.delivery import DeliveryFailures
from bot.services.digest import Digests
from bot.services.forms import Forms
from bot.services.inbox import Inbox
from bot.services.incident_desk import IncidentDesk
from bot.services.journal import InboundJournal
from bot.services.week_report import WeekReport


@dataclass(frozen=True)
class Bot:
    """Everything a platform adapter talks to."""

    ctx: Context
    engine: Engine
    week_report: WeekReport  # the read side: facts, the compiled report, prompts
    cycle: WeeklyCycle  # the jobs: prompt, remind, publish
    inbox: Inbox
    incidents: IncidentDesk
    commands: Commands
    journal: InboundJournal | None = None  # where adapters make every inbound payload durable before the ack

    @property
    def forms(self) -> Forms:
        """Answer and incident forms from any platform (stateless, so built on use)."""
        return Forms(self.ctx, self.inbox, self.incidents, self.commands)

    @property
    def digests(self) -> Digests:
        """The week's key points: prepare, show, approve, turn off (the cycle's, so publish posts the same)."""
        return self.cycle.digests

    @property
    def failures(self) -> DeliveryFailures:
        """Telling the person and the editors when the platform refuses a call (one per cycle)."""
        return self.cycle.failures
