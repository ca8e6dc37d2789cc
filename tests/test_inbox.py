"""Answers as owners type them, including bad input: stored rows and replies are what users see."""

from __future__ import annotations

from markdown_it import MarkdownIt
from sqlalchemy import func, select

from bot.domain.weeks import IsoWeek
from bot.text.render import md_text
from storage.db import session_factory
from storage.models import AnswerMessageRow, AnswerRevisionRow
from tests.helpers import entry_text, make_bot, say

BUSINESS = "project:聚合收单/业务"
PCI = "project:PCI DSS 认证"
MIGRATION = "okr:O3/机房迁移"


def _messages(bot) -> list[AnswerMessageRow]:  # type: ignore[no-untyped-def]
    with session_factory(bot.engine)() as s:
        return list(s.scalars(select(AnswerMessageRow).order_by(AnswerMessageRow.id)))


def test_single_owner_reply_is_stored_with_structure_and_progress(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    text = "本周完成差距分析，整体进度 45%\n    - 子项一\n主要问题：密钥轮换"
    reply = say(bot, "chenjing", text)
    assert reply is not None and reply.ok and "PCI DSS 认证" in reply.text and "45%" in reply.text
    facts = bot.week_report.facts(IsoWeek(2024, 26))
    assert facts.entries[PCI].text == text
    assert facts.entries[PCI].progress == 45
    assert facts.entries[PCI].main_problem == "密钥轮换"


def test_several_messages_accumulate_and_edit_and_delete_change_what_is_stored(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    say(bot, "zhoujie", "整体进度达到了75%", source="a")
    say(bot, "zhoujie", "预计下周三完成生产验证", source="b")
    assert entry_text(bot, MIGRATION) == "整体进度达到了75%\n预计下周三完成生产验证"
    bot.inbox.edit("fake", "a", "整体进度达到了80%", clock.now)
    assert entry_text(bot, MIGRATION) == "整体进度达到了80%\n预计下周三完成生产验证"
    reply = bot.inbox.delete("fake", "b", clock.now)
    assert reply is not None and "机房迁移" in reply.text
    assert entry_text(bot, MIGRATION) == "整体进度达到了80%"
    # history keeps every version
    with session_factory(bot.engine)() as s:
        changes = list(s.scalars(select(AnswerRevisionRow.change).order_by(AnswerRevisionRow.id)))
    assert changes == ["create", "create", "edit", "delete"]


def test_a_deletion_that_arrives_before_its_message_still_deletes_it(database_url, chat, clock) -> None:
    """Out of order under retries (bench/week.py journaled a deletion before its message): the deletion is
    kept as a tombstone, and the late original adds nothing to the report and is not stored."""
    bot = make_bot(database_url, chat, clock)
    say(bot, "zhoujie", "整体进度达到了75%", source="a")
    assert bot.inbox.delete("fake", "b", clock.now, user="zhoujie") is None
    assert say(bot, "zhoujie", "预计下周三完成生产验证", source="b") is None  # the original, late
    assert entry_text(bot, MIGRATION) == "整体进度达到了75%"
    assert [(m.source_id, m.text, m.deleted_at is not None) for m in _messages(bot)] == [
        ("a", "整体进度达到了75%", False)]


def test_someone_else_cannot_edit_or_delete_my_answer(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    say(bot, "zhoujie", "整体进度达到了75%", source="a")
    assert bot.inbox.edit("fake", "a", "被改了", clock.now, user="lina") is None
    assert bot.inbox.delete("fake", "a", clock.now, user="lina") is None
    assert entry_text(bot, MIGRATION) == "整体进度达到了75%"


def test_redelivered_message_is_stored_once(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    assert say(bot, "zhoujie", "进度 60%", source="same") is not None
    assert say(bot, "zhoujie", "进度 60%", source="same") is None
    assert entry_text(bot, MIGRATION) == "进度 60%"
    assert len(_messages(bot)) == 1


def test_empty_reply_gets_a_message_and_stores_nothing_in_the_report(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    reply = say(bot, "zhoujie", "   \n\t ")
    assert reply is not None and not reply.ok and "空消息" in reply.text
    assert entry_text(bot, MIGRATION) is None


def test_oversized_reply_is_kept_whole_but_not_applied(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    huge = "很长的周报" * 8000  # 40,000 characters
    reply = say(bot, "zhoujie", huge)
    assert reply is not None and not reply.ok and "40000" in reply.text and "原文已保存" in reply.text
    assert entry_text(bot, MIGRATION) is None
    assert _messages(bot)[0].text == huge  # nothing typed is lost


def test_emoji_mixed_scripts_and_nul_bytes(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    reply = say(bot, "zhoujie", "🚀 迁移 done ✅ Ωμέγα عربى\x00 完成")
    assert reply is not None and reply.ok
    assert entry_text(bot, MIGRATION) == "🚀 迁移 done ✅ Ωμέγα عربى 完成"
    assert "\x00" not in _messages(bot)[0].text


def test_answer_for_an_item_the_person_does_not_own(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    reply = say(bot, "lina", "建行：联调完成")
    assert reply is not None and not reply.ok
    assert "建行" in reply.text and "王强" in reply.text and "原文已保存" in reply.text
    assert bot.week_report.facts(IsoWeek(2024, 26)).banks == {}
    assert _messages(bot)[0].text == "建行：联调完成"


def test_unknown_bank_is_kept_as_text_and_pointed_out(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    reply = say(bot, "wangqiang", "建行：联调中\n浦发银行：首次接洽")
    assert reply is not None and "浦发银行" in reply.text and "未配置" in reply.text
    facts = bot.week_report.facts(IsoWeek(2024, 26))
    assert facts.banks["bank:聚合收单/建行"].note == "联调中"
    assert facts.banks["bank:聚合收单/建行"].stage == "联调"
    assert "浦发银行：首次接洽" in facts.entries["project:聚合收单/银行"].text
    md = bot.ctx.renderer.markdown(bot.week_report.compile(IsoWeek(2024, 26)))
    assert "- 建行：联调中" in md and "浦发银行：首次接洽" in md


def test_ambiguous_reply_asks_which_item_and_keeps_the_text(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    reply = say(bot, "lina", "本周一切顺利")
    assert reply is not None and not reply.ok and "[1] 聚合收单 · 业务" in reply.text
    assert _messages(bot)[0].text == "本周一切顺利"
    reply = say(bot, "lina", "本周一切顺利", item=1)
    assert reply is not None and reply.ok
    assert entry_text(bot, BUSINESS) == "本周一切顺利"  # stored as typed; bullets are the renderer's job


def test_not_a_member_is_told_and_nothing_is_stored(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    reply = say(bot, "U_STRANGER", "hello")
    assert reply is not None and not reply.ok and "名单" in reply.text
    assert _messages(bot) == []


def test_markup_in_answers_is_data_in_every_rendering(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    nasty = "{{ report.team }} {% if 1 %}x{% endif %} <script>alert(1)</script> <!channel> <@U1> @all & done"
    say(bot, "zhoujie", nasty)
    report = bot.week_report.compile(IsoWeek(2024, 26))
    md = bot.ctx.renderer.markdown(report)
    assert f"1. 机房迁移：{md_text(nasty)}" in md  # CommonMark-escaped: shown as typed, never raw HTML
    assert "<script>" not in MarkdownIt("commonmark").render(md) and "&lt;script&gt;" in MarkdownIt("commonmark").render(md)
    slack = bot.ctx.renderer.slack(report)
    assert "<!channel>" not in slack and "&lt;!channel&gt;" in slack and "&lt;@U1&gt;" in slack
    assert "{{ report.team }}" in slack and "&amp; done" in slack
    feishu = bot.ctx.renderer.render(report, "feishu")
    assert "@all" not in feishu.replace("@\u200ball", "")


def test_metric_value_needs_a_number(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    reply = say(bot, "sunli", "入金有效成功率：还没出来")
    assert reply is not None and "需要一个数值" in reply.text
    assert bot.week_report.facts(IsoWeek(2024, 26)).metrics == {}
    say(bot, "sunli", "入金有效成功率：99.990%")
    assert bot.week_report.facts(IsoWeek(2024, 26)).metrics["metric:入金有效成功率"].value_text == "99.990"


def test_form_submission_replaces_earlier_messages_for_that_item(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    say(bot, "zhoujie", "旧的说法")
    reply = bot.inbox.submit_form("fake", "zhoujie", "form-1", {MIGRATION: "整体进度 90%"}, clock.now)
    assert reply.ok and "机房迁移" in reply.text
    assert entry_text(bot, MIGRATION) == "整体进度 90%"
    # not-owned keys in a form are refused by name, nothing stored for them
    reply = bot.inbox.submit_form("fake", "zhoujie", "form-2", {BUSINESS: "越权"}, clock.now)
    assert not reply.ok and entry_text(bot, BUSINESS) is None


def test_week_scoped_queries_do_not_mix_weeks(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    say(bot, "zhoujie", "上周的内容")
    clock.advance(days=7)
    say(bot, "zhoujie", "这周的内容")
    assert bot.week_report.facts(IsoWeek(2024, 26)).entries[MIGRATION].text == "上周的内容"
    assert bot.week_report.facts(IsoWeek(2024, 27)).entries[MIGRATION].text == "这周的内容"
    with session_factory(bot.engine)() as s:
        assert s.scalar(select(func.count()).select_from(AnswerMessageRow)) == 2
