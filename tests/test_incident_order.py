"""A recovery never comes before its start: refused on every path, shown with its resolved date,
and no report shows a negative availability."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.domain.incidents import IncidentSyntaxError, parse_incident
from bot.domain.team import Team
from bot.domain.weeks import IsoWeek
from tests.conftest import SHANGHAI
from tests.fakes import FixedClock
from tests.helpers import example_team, make_bot

NOW = datetime(2024, 6, 27, 10, 0, tzinfo=SHANGHAI)


def _handle(bot, who, text):  # type: ignore[no-untyped-def]
    return bot.incidents.handle("fake", who, text, bot.ctx.now())


def test_a_yearless_recovery_before_the_start_is_refused_not_moved_a_year() -> None:
    with pytest.raises(IncidentSyntaxError) as err:
        parse_incident("06/21 10:04 recov-api 挂了 恢复：06/20 09:00", now=NOW, severities=["B", "C"])
    assert err.value.key == "before_start"
    assert err.value.values == {"value": "2024-06-20 09:00", "start": "2024-06-21 10:04"}


def test_a_yearless_recovery_across_new_year_is_in_the_next_year() -> None:
    draft = parse_incident("12/31 23:00 pay-api 挂了 恢复：01/01 01:00", now=datetime(2025, 1, 2, 9, 0, tzinfo=SHANGHAI),
                           severities=["C"])
    assert draft.started_at == datetime(2024, 12, 31, 23, 0, tzinfo=SHANGHAI)
    assert draft.recovered_at == datetime(2025, 1, 1, 1, 0, tzinfo=SHANGHAI)


def test_the_reply_shows_the_recovery_date_when_it_is_another_day(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    out = _handle(bot, "liuyang", "06/26 23:00 order-api 宕机 恢复：06/27 01:30")
    assert out.reply.ok and "#1 06/26 23:00 → 06/27 01:30" in out.reply.text


def test_edit_and_resolve_refuse_a_recovery_before_the_start(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    _handle(bot, "liuyang", "06/27 09:05 gateway-api 节点CPU打满 恢复：09:30")
    for text in ("edit 1 恢复：06/26 09:00", "resolve 1 06/26 08:00", "edit 1 开始：06/27 09:45"):
        out = _handle(bot, "liuyang", text)
        assert not out.reply.ok and ("早于开始时间" in out.reply.text), text
    assert "#1 06/27 09:05 → 09:30" in _handle(bot, "lina", "list").reply.text  # nothing changed
    assert _handle(bot, "liuyang", "resolve 1 09:40").reply.ok


def test_no_report_shows_a_negative_availability(database_url, chat, clock) -> None:
    raw = example_team().model_dump()
    raw["metrics"][1]["metrics"][0].update(source="availability", period="year", digits=3)
    # read in January 2025, so the recovery is in the past (a recovery in the future is refused)
    later = FixedClock(datetime(2025, 1, 6, 10, 0, tzinfo=SHANGHAI))
    bot = make_bot(database_url, chat, later, team=Team.model_validate(raw))
    # an outage that began in the week and is recorded as lasting long past it
    assert _handle(bot, "liuyang", "2024-06-27 09:00 order-api 宕机 恢复：2024-12-30 09:00").reply.ok
    md = bot.ctx.renderer.markdown(bot.week_report.compile(IsoWeek(2024, 26)))
    line = next(ln for ln in md.splitlines() if "年度可用性" in ln)
    assert "-" not in line.split("：", 1)[1], line
