"""`/incident` for reliability (issue 23): attribution, postmortems and action items through the core;
bad input gets a clear sentence and stores nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.domain.weeks import IsoWeek
from storage.db import session_factory
from storage.models import ActionItemChangeRow
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
