"""China's calendar: holidays skip prompts and reminders, move the publish; 调休 make-up days count."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from bot.domain.calendar import ChinaCalendar, NoHolidays, publish_day
from bot.runtime.jobs import fires_between, run_job
from bot.services.bot import Bot
from tests.conftest import SHANGHAI
from tests.fakes import FakeChat, FixedClock
from tests.schedule.conftest import team_with


def play(bot: Bot, chat: FakeChat, clock: FixedClock, start: datetime, end: datetime) -> list[tuple[date, str, str]]:
    """Move the clock from start to end, running every job it passes, like the console does.
    Returns (day, kind, week) for every message users received."""
    seen: list[tuple[date, str, str]] = []
    clock.now = start
    for at, spec in fires_between(bot.ctx.team, start, end):
        clock.now = at
        before = len(chat.sent)
        run_job(bot, spec, at)
        for sent in chat.sent[before:]:
            week = sent.prompt.week if sent.prompt else bot.ctx.week_of(at).label
            seen.append((at.date(), sent.kind, week))
    return seen


def test_national_day_week_skips_prompts_and_publishes_on_the_last_workday(
        make_bot: Callable[..., Bot], clock: FixedClock) -> None:
    chat = FakeChat()
    bot = make_bot(team_with(), clock, chat)
    owners = len(bot.ctx.team.owners())
    seen = play(bot, chat, clock, datetime(2024, 9, 23, 0, 0, tzinfo=SHANGHAI),
                datetime(2024, 10, 13, 23, 59, tzinfo=SHANGHAI))
    holiday = [d for d, _, _ in seen if date(2024, 10, 1) <= d <= date(2024, 10, 7)]
    assert holiday == []  # nothing at all during the Golden Week
    prompts = [(d, w) for d, k, w in seen if k == "prompt"]
    # W39 and W41 are ordinary: prompted Thursday (and reminded Friday); W40's Thursday is a holiday.
    assert {w for _, w in prompts} == {"2024-W39", "2024-W41"}
    assert sum(1 for d, w in prompts if d == date(2024, 9, 26)) == owners
    reports = [(d, w) for d, k, w in seen if k == "report"]
    # W40's Friday (10-04) is a holiday: its report goes out on Monday 09-30, the week's only workday.
    assert reports == [(date(2024, 9, 27), "2024-W39"), (date(2024, 9, 30), "2024-W40"),
                       (date(2024, 10, 11), "2024-W41")]


def test_make_up_workdays_count(make_bot: Callable[..., Bot], clock: FixedClock) -> None:
    """Spring Festival 2024: Mon–Sat 02-12..02-17 off, Sunday 02-18 a make-up workday (调休).
    A reminder set for Sundays fires on the make-up Sunday; the holiday Friday's report goes out on it."""
    chat = FakeChat()
    bot = make_bot(team_with(remind=["sat 10:00", "sun 10:00"]), clock, chat)
    seen = play(bot, chat, clock, datetime(2024, 2, 12, 0, 0, tzinfo=SHANGHAI),
                datetime(2024, 2, 18, 23, 59, tzinfo=SHANGHAI))
    days = {(d, k) for d, k, _ in seen}
    assert not any(date(2024, 2, 12) <= d <= date(2024, 2, 17) for d, _ in days)
    assert (date(2024, 2, 18), "report") in days  # published on the make-up Sunday, for W07
    assert [w for d, k, w in seen if k == "report"] == ["2024-W07"]
    assert (date(2024, 2, 18), "prompt") in days  # the Sunday reminder (owners had answered nothing)


def test_dragon_boat_monday_and_calendar_none(make_bot: Callable[..., Bot], clock: FixedClock) -> None:
    """2024-06-10 (Mon) is 端午: a Monday prompt is skipped under cn, sent under calendar: none."""
    for calendar, expected in (("cn", 0), ("none", 1)):
        chat = FakeChat()
        bot = make_bot(team_with(prompt="mon 10:00", calendar=calendar), clock, chat)
        seen = play(bot, chat, clock, datetime(2024, 6, 10, 0, 0, tzinfo=SHANGHAI),
                    datetime(2024, 6, 10, 23, 0, tzinfo=SHANGHAI))
        assert len({d for d, k, _ in seen if k == "prompt"}) == expected, calendar


def test_publish_day_rules() -> None:
    cn = ChinaCalendar()
    assert publish_day(cn, date(2024, 6, 28)) == date(2024, 6, 28)  # an ordinary Friday
    assert publish_day(cn, date(2024, 10, 4)) == date(2024, 9, 30)  # back to the last workday
    assert publish_day(cn, date(2024, 2, 16)) == date(2024, 2, 18)  # forward to the make-up Sunday
    assert publish_day(cn, date(2024, 6, 8)) == date(2024, 6, 8)  # an ordinary Saturday is not a holiday
    assert publish_day(NoHolidays(), date(2024, 10, 4)) == date(2024, 10, 4)


def test_doctor_next_run_honours_the_calendar() -> None:
    team = team_with()
    from bot.runtime.jobs import job_specs

    publish = next(s for s in job_specs(team) if s.kind == "publish")
    nxt = publish.trigger(team).get_next_fire_time(None, datetime(2024, 9, 28, 12, 0, tzinfo=SHANGHAI))
    assert nxt == datetime(2024, 9, 30, 17, 0, tzinfo=SHANGHAI)
