"""Time away: `/zhoubao away 7/1-7/5` on any platform; no prompts while away, 休假 in the report."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime

import pytest

from bot.adapters.console.chat import ConsoleChat, VirtualClock
from bot.adapters.console.workspace import ConsoleSession
from bot.domain.report import Status
from bot.runtime.jobs import DueJobs
from bot.services.away import AwayError, parse_away
from bot.services.bot import Bot
from tests.conftest import SHANGHAI
from tests.fakes import FakeChat, FixedClock
from tests.schedule.conftest import team_with

THU = datetime(2024, 6, 27, 10, 0, tzinfo=SHANGHAI)
FRI = datetime(2024, 6, 28, 10, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(("text", "today", "expected"), [
    ("7/1-7/5", date(2024, 6, 20), (date(2024, 7, 1), date(2024, 7, 5))),
    ("7/1", date(2024, 6, 20), (date(2024, 7, 1), date(2024, 7, 1))),
    ("7月1日到7月5日", date(2024, 6, 20), (date(2024, 7, 1), date(2024, 7, 5))),
    ("2025-01-02~2025-01-03", date(2024, 6, 20), (date(2025, 1, 2), date(2025, 1, 3))),
    ("12/30-1/3", date(2024, 12, 1), (date(2024, 12, 30), date(2025, 1, 3))),
    ("1/2-1/5", date(2024, 12, 20), (date(2025, 1, 2), date(2025, 1, 5))),
])
def test_parse_away(text: str, today: date, expected: tuple[date, date]) -> None:
    assert parse_away(text, today) == expected


@pytest.mark.parametrize("text", ["next week", "2/30", "7/5-7/1x", ""])
def test_parse_away_refuses(text: str) -> None:
    with pytest.raises(AwayError):
        parse_away(text, date(2024, 6, 20))


def owner_of_part(bot: Bot) -> str:
    return next(it.owner for it in bot.ctx.team.items if it.key == "project:聚合收单/业务")


def test_away_all_week_means_no_prompts_and_休假(make_bot: Callable[..., Bot], clock: FixedClock) -> None:
    chat = FakeChat()
    bot = make_bot(team_with(), clock, chat)
    who = owner_of_part(bot)
    reply = bot.commands.handle("fake", who, "away 6/24-6/30", datetime(2024, 6, 21, 9, 0, tzinfo=SHANGHAI))
    assert reply.ok and "2024-06-24" in reply.text
    bot.cycle.send_prompts("prompt", THU)
    bot.cycle.remind(1, FRI)
    assert who not in {s.to for s in chat.of_kind("prompt")}
    assert len({s.to for s in chat.of_kind("prompt")}) == len(bot.ctx.team.owners()) - 1
    report = bot.week_report.compile(bot.ctx.week_of(THU), FRI)
    part = next(p for pr in report.projects for p in pr.parts if p.name == "业务")
    assert part.entry.status is Status.AWAY
    published = bot.cycle.publish(at=datetime(2024, 6, 28, 17, 0, tzinfo=SHANGHAI))
    assert "休假" in published.markdown


def test_away_only_on_prompt_day(make_bot: Callable[..., Bot], clock: FixedClock) -> None:
    chat = FakeChat()
    bot = make_bot(team_with(), clock, chat)
    who = owner_of_part(bot)
    bot.commands.handle("fake", who, "away 6/27", datetime(2024, 6, 21, 9, 0, tzinfo=SHANGHAI))
    bot.cycle.send_prompts("prompt", THU)
    assert who not in {s.to for s in chat.of_kind("prompt")}  # not asked while away
    bot.cycle.remind(1, FRI)
    assert who in {s.to for s in chat.of_kind("prompt")}  # back on Friday: reminded
    published = bot.cycle.publish(at=datetime(2024, 6, 28, 17, 0, tzinfo=SHANGHAI))
    assert "休假" not in published.markdown  # away one day is not away for the week


def test_list_and_cancel(make_bot: Callable[..., Bot], clock: FixedClock) -> None:
    bot = make_bot(team_with(), clock)
    who = owner_of_part(bot)
    at = datetime(2024, 6, 21, 9, 0, tzinfo=SHANGHAI)
    assert not bot.commands.handle("fake", who, "away 7/1-7/", at).ok
    bot.commands.handle("fake", who, "away 7/1-7/5", at)
    assert "2024-07-01 – 2024-07-05" in bot.commands.handle("fake", who, "away", at).text
    bot.commands.handle("fake", who, "away cancel", at)
    assert "2024-07-01" not in bot.commands.handle("fake", who, "away", at).text


def test_away_in_the_console(make_bot: Callable[..., Bot]) -> None:
    out = io.StringIO()
    clock = VirtualClock(datetime(2024, 6, 24, 9, 0, tzinfo=SHANGHAI))
    chat = ConsoleChat(out)
    bot = make_bot(team_with(), clock, chat)  # type: ignore[arg-type]
    who = bot.ctx.team.person_by_id[owner_of_part(bot)]
    session = ConsoleSession(bot, chat, clock, out, jobs=DueJobs(bot))
    session.run([f"as {who.name}", "/zhoubao away 6/24-6/30", "clock thu 10:30"])
    assert "已登记休假" in out.getvalue()
    assert who.id not in chat.dms and len(chat.dms) == len(bot.ctx.team.owners()) - 1
