"""`/incident` for reliability (issue 23): attribution, postmortems and action items through the core;
bad input gets a clear sentence and stores nothing."""

from __future__ import annotations

from bot.domain.weeks import IsoWeek
from tests.helpers import make_bot
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
