"""Small builders shared by tests: the example team wired to a database with a fake chat."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

from bot.domain.team import ItemKind, Team
from bot.runtime.composition import build_bot
from bot.runtime.team_file import load_team, parse_team
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
                                     text=f"[{item}] {text}" if item is not None else text, at=bot.ctx.now(),
                                     thread_id=thread))


def entry_text(bot: Bot, key: str) -> str | None:
    facts = bot.week_report.facts(bot.ctx.week_of(bot.ctx.now()))
    entry = facts.entries.get(key)
    return entry.text if entry else None


@contextmanager
def database_cut(engine: Engine) -> Iterator[None]:
    """Inside the block the database cannot be reached, as when its server is down: pooled connections
    are dropped and every new connection fails with the driver's own OperationalError, which SQLAlchemy
    wraps as it wraps a refused connection (`Dialect.connect` is preceded by the `do_connect` event:
    https://docs.sqlalchemy.org/en/20/core/events.html#sqlalchemy.events.DialectEvents.do_connect)."""

    def refuse(dialect: Any, conn_rec: Any, cargs: Any, cparams: Any) -> None:
        raise dialect.loaded_dbapi.OperationalError("connection refused: the test cut the database")

    engine.dispose()
    event.listen(engine, "do_connect", refuse)
    try:
        yield
    finally:
        event.remove(engine, "do_connect", refuse)


def big_team(items: int = 60) -> Team:
    """The example team plus an OKR group of `items` items, all owned by lina."""
    extra = "".join(f"      - {{name: 大项目事项{n:02d}, owner: lina}}\n" for n in range(1, items + 1))
    source = EXAMPLE_TEAM.read_text(encoding="utf-8").replace(
        "\nmetrics:", f"  - id: O4\n    name: 专项\n    items:\n{extra}\nmetrics:", 1)
    return parse_team(source, EXAMPLE_TEAM)


def fill_long_week(bot: Bot, platform: str, words: int = 130) -> int:
    """Every item of every owner answered at length, this week and last week (so prompts quote last
    week's answers); returns the characters of answers stored this week."""
    at = bot.ctx.now()
    total = 0
    for week in (bot.ctx.week_of(at).previous(), bot.ctx.week_of(at)):
        for n, item in enumerate(bot.ctx.team.items):
            text = "99.9%" if item.kind is ItemKind.METRIC else f"第{n}项：" + "进展说明，\"引号\"与换行\n" * words
            bot.inbox.submit_form(platform, item.owner, f"long-{week.label}-{n}", {item.key: text}, at, week)
            total += len(text) if week == bot.ctx.week_of(at) else 0
    return total
