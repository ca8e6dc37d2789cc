"""Small builders shared by tests: the example team wired to a database with a fake chat."""

from __future__ import annotations

import itertools

from bot.domain.team import Team
from bot.runtime.composition import build_bot
from bot.runtime.team_file import load_team
from bot.services.bot import Bot
from bot.services.chat import Inbound, Reply
from tests.conftest import EXAMPLE_TEAM
from tests.fakes import FakeChat, FixedClock

_ids = itertools.count(1)


def example_team() -> Team:
    return load_team(EXAMPLE_TEAM)


def make_bot(database_url: str, chat: FakeChat, clock: FixedClock, team: Team | None = None) -> Bot:
    return build_bot(team or example_team(), chat, clock, database_url=database_url)


def say(bot: Bot, who: str, text: str, *, item: int | None = None, thread: str | None = None,
        source: str | None = None) -> Reply | None:
    """`who` sends `text` to the bot now; returns the bot's reply."""
    return bot.inbox.receive(Inbound(platform="fake", user=who, source_id=source or f"src{next(_ids)}",
                                     text=text, at=bot.ctx.now(), thread_id=thread, item_number=item))


def entry_text(bot: Bot, key: str) -> str | None:
    facts = bot.cycle.facts(bot.ctx.week_of(bot.ctx.now()))
    entry = facts.entries.get(key)
    return entry.text if entry else None
