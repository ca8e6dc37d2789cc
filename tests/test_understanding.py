"""What the bot understands from an answer and says back: progress only where the owner says progress,
an unknown bank named, old dates asked about and shown with their year, and no scheduled report for
a week in which nobody was prompted."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from bot.domain.incidents import IncidentSyntaxError, parse_command
from bot.domain.replies import parse_entry, route_reply
from bot.domain.weeks import IsoWeek
from bot.text.catalogue import say as catalogue_say
from tests.conftest import SHANGHAI
from tests.fakes import FakeChat, FixedClock
from tests.helpers import example_team, make_bot, say

MIGRATION = "okr:O3/机房迁移"
BANKS = "project:聚合收单/银行"


@pytest.mark.parametrize(("raw", "progress"), [
    ("本周新接入商户12家，交易量环比增长15%", None),
    ("[1] 本周新接入商户12家，交易量环比增长15%", None),
    ("进度 60%", Decimal("60")),
    ("整体进度达到了90%", Decimal("90")),
    ("60%", Decimal("60")),
    ("  85 ％ ", Decimal("85")),
    ("60% done", Decimal("60")),
    ("Phase 1 is 70% complete", Decimal("70")),
    ("上线完成，成功率提升到99%", None),  # 完成 belongs to another clause
    ("覆盖 30% 商户", None),
    ("完成率 95%", Decimal("95")),
])
def test_a_percentage_is_progress_only_with_a_progress_word_or_alone(raw: str, progress: Decimal | None) -> None:
    assert parse_entry(raw).progress == progress


def test_the_confirmation_says_what_was_understood(database_url: str) -> None:
    clock = FixedClock(datetime(2024, 6, 27, 10, 0, tzinfo=SHANGHAI))
    bot = make_bot(database_url, FakeChat(), clock)
    growth = say(bot, "zhoujie", "本周新接入商户12家，交易量环比增长15%")
    assert growth is not None and growth.ok
    assert "（机房迁移 15% 未计为进度，如是进度请写「进度 15%」）" in growth.text
    assert bot.week_report.facts(IsoWeek(2024, 26)).entries[MIGRATION].progress is None
    stated = say(bot, "zhoujie", "整体进度达到了90%\n主要问题：专线未开通")
    assert stated is not None
    assert "（机房迁移 进度 90%，主要问题：专线未开通）" in stated.text
    entry = bot.week_report.facts(IsoWeek(2024, 26)).entries[MIGRATION]
    assert entry.progress == 90 and entry.main_problem == "专线未开通"
    bot.engine.dispose()


def test_an_unknown_bank_short_name_is_kept_under_the_bank_part_and_named(database_url: str) -> None:
    team = example_team()
    mine = team.items_of("wangqiang")
    routing = route_reply("浦发：意向沟通", mine, team_items=team.items)
    assert routing.unknown_banks == ("浦发",)
    assert [(p.item_key, p.text) for p in routing.pieces] == [(BANKS, "浦发：意向沟通")]

    clock = FixedClock(datetime(2024, 6, 27, 10, 0, tzinfo=SHANGHAI))
    bot = make_bot(database_url, FakeChat(), clock, team)
    reply = say(bot, "wangqiang", "浦发：意向沟通")
    assert reply is not None and reply.ok
    assert "未配置的银行：浦发" in reply.text and "banks: 下添加一行「- name: 浦发」" in reply.text
    assert bot.week_report.facts(IsoWeek(2024, 26)).entries[BANKS].text == "浦发：意向沟通"
    bot.engine.dispose()


def test_a_typed_date_more_than_30_days_back_is_asked_about() -> None:
    now = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)
    with pytest.raises(IncidentSyntaxError) as asked:
        parse_command("12/02 10:00 order-api 超时", now=now, severities=["C"])
    assert "会记为 2025-12-02（2025-W49），事件未记录" in catalogue_say("zh-CN", f"incident.syntax.{asked.value.key}", **asked.value.values)
    with pytest.raises(IncidentSyntaxError) as asked_en:
        parse_command("10/02 10:00 order-api timeout", now=now, severities=["C"])
    assert "it would be filed as 2026-10-02 (2026-W40), so nothing was filed" in \
        catalogue_say("en", f"incident.syntax.{asked_en.value.key}", **asked_en.value.values)
    cmd = parse_command("2025-12-02 10:00 order-api 超时", now=now, severities=["C"])  # the year: confirmed
    assert cmd.draft is not None and cmd.draft.started_at.year == 2025
    recent = parse_command("11/20 10:00 order-api 超时", now=now, severities=["C"])
    assert recent.draft is not None and recent.draft.started_at == datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)


def test_an_incident_of_another_year_shows_its_year(database_url: str) -> None:
    clock = FixedClock(datetime(2026, 1, 5, 10, 0, tzinfo=SHANGHAI))
    bot = make_bot(database_url, FakeChat(), clock)
    old = bot.incidents.handle("fake", "lina", "2025-12-30 10:00 order-api 超时 级别：C", clock.now, announce=False)
    assert old.reply.text.startswith("🚨 已记录事件 #1 2025-12-30 10:00 [C] order-api超时")
    new = bot.incidents.handle("fake", "lina", "01/05 09:00 gateway 超时", clock.now, announce=False)
    assert new.reply.text.startswith("🚨 已记录事件 #2 01/05 09:00 gateway超时")
    assert "#1 2025-12-30 10:00 [C] order-api超时" in bot.incidents.list_text(IsoWeek(2026, 1))
    bot.engine.dispose()


def test_the_scheduled_publish_skips_a_week_nobody_was_prompted_and_tells_the_editors(database_url: str) -> None:
    friday = datetime(2024, 6, 28, 17, 0, tzinfo=SHANGHAI)
    chat, clock = FakeChat(), FixedClock(friday)
    bot = make_bot(database_url, chat, clock)
    assert bot.cycle.publish_on_schedule(friday) is None
    assert chat.of_kind("report") == []
    told = chat.of_kind("text")
    assert [t.to for t in told] == ["zhangwei"] and "/zhoubao publish" in told[0].text
    assert not bot.week_report.is_published(IsoWeek(2024, 26))
    # Next week the bot runs from Thursday: the prompt went out, so Friday's report is posted.
    bot.cycle.send_prompts("prompt", datetime(2024, 7, 4, 10, 0, tzinfo=SHANGHAI))
    result = bot.cycle.publish_on_schedule(datetime(2024, 7, 5, 17, 0, tzinfo=SHANGHAI))
    assert result is not None and result.week == "2024-W27" and len(chat.of_kind("report")) == 1
    bot.engine.dispose()


def test_a_week_whose_prompts_all_fell_on_holidays_still_publishes(database_url: str) -> None:
    from tests.schedule.conftest import team_with

    # Dragon Boat Festival 2024 is Monday 6/10: a Monday prompt is skipped by the calendar, so no
    # prompt was due that week and Friday's report still goes out (a report is never dropped).
    friday = datetime(2024, 6, 14, 17, 0, tzinfo=SHANGHAI)
    chat = FakeChat()
    bot = make_bot(database_url, chat, FixedClock(friday), team_with(prompt="mon 10:00", remind=[]))
    result = bot.cycle.publish_on_schedule(friday)
    assert result is not None and result.week == "2024-W24" and len(chat.of_kind("report")) == 1
    bot.engine.dispose()
    # Without the holiday calendar the same Monday prompt was due and did not go out: skipped.
    other = FakeChat()
    plain = make_bot(database_url, other, FixedClock(friday),
                     team_with(prompt="mon 10:00", remind=[], calendar="none"))
    assert plain.cycle.publish_on_schedule(datetime(2024, 6, 21, 17, 0, tzinfo=SHANGHAI)) is None
    assert other.of_kind("report") == []
    plain.engine.dispose()
