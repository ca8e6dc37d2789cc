"""`/incident` for reliability (issue 23): attribution, postmortems and action items through the core;
bad input gets a clear sentence and stores nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.domain.weeks import IsoWeek
from bot.runtime.team_file import parse_team
from storage.db import session_factory
from storage.models import ActionItemChangeRow
from tests.conftest import EXAMPLE_TEAM
from tests.helpers import make_bot, say
from tests.stored_rows import row_counts


def _handle(bot, who, text):  # type: ignore[no-untyped-def]
    return bot.incidents.handle("fake", who, text, bot.ctx.now())


def test_attribution_is_stored_shown_and_editable(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    out = _handle(bot, "wangqiang", "06/26 14:30 代扣通道异常 恢复：15:10 归因：招商银行")
    assert out.reply.ok and "归因：银行 招行" in out.reply.text
    edited = _handle(bot, "wangqiang", "edit 1 归因：自身")
    assert edited.reply.ok and "归因：自身" in edited.reply.text and "招行" not in edited.reply.text
    # the report's incident line is the seed's, whatever the attribution
    md = bot.ctx.renderer.markdown(bot.week_report.compile(IsoWeek(2024, 26)))
    assert "06/26 14:30 代扣通道异常，15:10 恢复" in md and "归因" not in md


def test_an_unknown_attribution_stores_nothing(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    before = row_counts(bot.engine)
    out = _handle(bot, "wangqiang", "06/26 14:30 代扣通道异常 归因：隔壁组")
    assert not out.reply.ok and out.reply.text.startswith("没有归因“隔壁组”；可用的归因：自身, 银行, 第三方, 基础设施")
    assert row_counts(bot.engine) == before and chat.of_kind("post") == []


def test_postponed_from_a_reply_keeps_its_history_and_is_not_overdue(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)  # Thursday 06/27 10:00
    _handle(bot, "liuyang", "06/26 14:30 gateway-api 节点CPU打满 级别：C")
    assert _handle(bot, "zhangwei", "action 1 补齐分页 负责人：刘洋 截止：6/27").reply.ok
    # liuyang has two items and the incident question, so A1 is [4] whether or not a prompt was sent
    refused = say(bot, "liuyang", "延期 6/20 晚了", item=4)
    assert refused is not None and not refused.ok and refused.text.startswith("截止日期 2024-06-20 已经过去")
    reply = say(bot, "liuyang", "延期 7/15 等待银行排期", item=4)
    assert reply is not None and reply.ok and reply.text == "✅ 行动项 A1 延期到 07/15：等待银行排期"
    clock.advance(days=1)  # Friday: A1 would have been overdue
    md = bot.ctx.renderer.markdown(bot.week_report.compile(IsoWeek(2024, 26)))
    assert "- A1 补齐分页（#1，刘洋，截止 07/15）" in md
    with session_factory(bot.engine)() as s:
        rows = s.scalars(select(ActionItemChangeRow).order_by(ActionItemChangeRow.id)).all()
        assert [(r.kind, r.due, r.note, r.by) for r in rows] == [
            ("opened", date(2024, 6, 27), "", "fake:zhangwei"),
            ("postponed", date(2024, 7, 15), "等待银行排期", "fake:liuyang")]


def test_a_reply_that_is_neither_done_nor_postponed_changes_nothing(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    _handle(bot, "liuyang", "06/26 14:30 gateway-api 节点CPU打满 级别：C")
    _handle(bot, "zhangwei", "action 1 补齐分页 负责人：刘洋 截止：6/28")
    reply = say(bot, "liuyang", "快好了", item=4)
    assert reply is not None and not reply.ok
    assert reply.text == "看不懂“快好了”。\n完成请回复「[n] 完成」；延期请回复「[n] 延期 7/15 原因」。"
    clock.advance(days=1, hours=1)  # Friday 11:00, due Friday: not overdue yet
    md = bot.ctx.renderer.markdown(bot.week_report.compile(IsoWeek(2024, 26)))
    assert "- A1 补齐分页（#1，刘洋，截止 06/28）" in md


POSTMORTEM_RULE = "  postmortem: {severity: C}\n"


def test_postmortems_are_asked_for_by_severity_and_recorded_as_links(database_url, chat, clock) -> None:
    source = EXAMPLE_TEAM.read_text(encoding="utf-8").replace("  reporters: anyone", POSTMORTEM_RULE + "  reporters: anyone")
    bot = make_bot(database_url, chat, clock, parse_team(source))
    _handle(bot, "liuyang", "06/26 14:30 gateway-api 节点CPU打满 级别：C")
    _handle(bot, "wangqiang", "06/26 16:00 招行通道抖动 级别：D")
    md = bot.ctx.renderer.markdown(bot.week_report.compile(IsoWeek(2024, 26)))
    assert "\n\n待复盘：\n\n- #1 06/26 14:30 gateway-api节点CPU打满\n" in md and "#2" not in md
    out = _handle(bot, "liuyang", "复盘 1 [复盘记录](https://wiki.example.com/pm-1)")
    assert out.reply.ok and out.reply.text == "✅ 已记录 #1 的复盘：[复盘记录](https://wiki.example.com/pm-1)"
    report = bot.week_report.compile(IsoWeek(2024, 26))
    md = bot.ctx.renderer.markdown(report)
    assert "待复盘" not in md
    assert "06/26 14:30 gateway-api节点CPU打满，复盘：[复盘记录](https://wiki.example.com/pm-1)\n" in md
    assert "，复盘：<https://wiki.example.com/pm-1|复盘记录>" in bot.ctx.renderer.slack(report)
    assert not _handle(bot, "liuyang", "postmortem 9 https://wiki.example.com/pm-9").reply.ok


def test_without_a_rule_no_postmortem_is_asked_for(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    _handle(bot, "liuyang", "06/26 14:30 gateway-api 节点CPU打满 级别：A")
    assert "待复盘" not in bot.ctx.renderer.markdown(bot.week_report.compile(IsoWeek(2024, 26)))


def test_an_incident_that_spent_a_budget_needs_a_postmortem(database_url, chat, clock) -> None:
    rule = ("  postmortem: {budget_spent: true}\n  systems:\n"
            "    - {name: 支付网关, aliases: [gateway-api], slo: 99.95%}\n")
    source = EXAMPLE_TEAM.read_text(encoding="utf-8").replace("  reporters: anyone", rule + "  reporters: anyone")
    bot = make_bot(database_url, chat, clock, parse_team(source))
    _handle(bot, "liuyang", "06/26 14:30 gateway-api 节点CPU打满 恢复：15:10")  # 40 of 20.16 minutes
    _handle(bot, "liuyang", "06/26 16:00 order-api 超时 恢复：16:30")  # no objective on order-api
    md = bot.ctx.renderer.markdown(bot.week_report.compile(IsoWeek(2024, 26)))
    assert "- 支付网关 99.90%（目标 99.95%，预算已用尽，超出 20 分钟）\n" in md
    assert "\n\n待复盘：\n\n- #1 06/26 14:30 gateway-api节点CPU打满\n" in md
    assert "- #2" not in md


def test_a_repeat_of_the_same_system_and_cause_points_to_the_earlier_one(database_url, chat, clock) -> None:
    source = EXAMPLE_TEAM.read_text(encoding="utf-8").replace("  reporters: anyone", "  repeat_weeks: 4\n  reporters: anyone")
    bot = make_bot(database_url, chat, clock, parse_team(source))
    _handle(bot, "liuyang", "06/12 09:00 gateway-api 节点OOM 归因：自身")  # two weeks before
    _handle(bot, "liuyang", "06/26 14:30 gateway-api 节点CPU打满 归因：自身")
    _handle(bot, "liuyang", "06/26 16:00 gateway-api 证书过期 归因：第三方")  # another cause: no repeat
    _handle(bot, "liuyang", "06/27 08:00 order-api 节点OOM 归因：自身")  # another system: no repeat
    md = bot.ctx.renderer.markdown(bot.week_report.compile(IsoWeek(2024, 26)))
    assert "06/26 14:30 gateway-api节点CPU打满，重复：同 06/12 #1\n" in md
    assert "06/26 16:00 gateway-api证书过期\n" in md and "06/27 08:00 order-api节点OOM\n" in md


def test_an_incident_noticed_late_needs_a_postmortem(database_url, chat, clock) -> None:
    rule = "  postmortem: {detection_minutes: 15}\n"
    source = EXAMPLE_TEAM.read_text(encoding="utf-8").replace("  reporters: anyone", rule + "  reporters: anyone")
    bot = make_bot(database_url, chat, clock, parse_team(source))
    assert _handle(bot, "wangqiang", "06/26 14:30 代扣失败 发现：15:00").reply.ok  # 30 minutes to notice
    assert _handle(bot, "wangqiang", "06/26 16:00 短信延迟 发现：16:10").reply.ok
    assert _handle(bot, "wangqiang", "06/26 17:00 对账延迟").reply.ok  # nobody said when: not asked for
    before = row_counts(bot.engine)
    late = _handle(bot, "wangqiang", "06/26 18:00 网关超时 发现：17:50")
    assert not late.reply.ok and late.reply.text.startswith("发现时间 17:50 早于开始时间 2024-06-26 18:00")
    assert row_counts(bot.engine) == before
    md = bot.ctx.renderer.markdown(bot.week_report.compile(IsoWeek(2024, 26)))
    assert "\n\n待复盘：\n\n- #1 06/26 14:30 代扣失败\n\n" in md
