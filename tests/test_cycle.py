"""The weekly cycle against a fake chat: prompts, reminders, the editor's missing list, publishing once."""

from __future__ import annotations

from datetime import date, datetime

from bot.domain.weeks import IsoWeek
from bot.runtime.jobs import job_specs
from bot.text import catalogue
from tests.conftest import SHANGHAI
from tests.helpers import make_bot, say


def test_each_owner_is_prompted_once_with_their_items(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    assert bot.cycle.send_prompts() == 8
    assert bot.cycle.send_prompts() == 0, "a second run (a restart, another instance) prompts nobody again"
    prompts = chat.of_kind("prompt")
    assert sorted(p.to for p in prompts) == sorted(
        ["zhangwei", "lina", "wangqiang", "liuyang", "chenjing", "zhaolei", "sunli", "zhoujie"])
    lina = next(p for p in prompts if p.to == "lina")
    assert "[1] 聚合收单 · 业务" in lina.text and "[2] O1 业务服务 · 对公代付" in lina.text
    assert "6月28日（周五）17:00 发布" in lina.text


def test_prompt_shows_last_weeks_answer_and_the_editor_last_weeks_goals(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    say(bot, "zhoujie", "整体进度 45%")
    say(bot, "zhangwei", "1. 完成迁移验证", item=3)
    clock.advance(days=7)
    bot.cycle.send_prompts()
    zhoujie = next(p for p in chat.of_kind("prompt") if p.to == "zhoujie")
    assert "上周：" in zhoujie.text and "整体进度 45%" in zhoujie.text
    editor = next(p for p in chat.of_kind("prompt") if p.to == "zhangwei")
    assert "[3] 下周工作及目标" in editor.text and "1. 完成迁移验证" in editor.text


def test_progress_change_since_last_week_reaches_the_report(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    say(bot, "chenjing", "整体进度 45%")
    clock.advance(days=7)
    say(bot, "chenjing", "整体进度 60%")
    report = bot.week_report.compile(IsoWeek(2024, 27))
    prose = report.projects[1].prose
    assert prose is not None and (prose.previous_progress, prose.progress) == (45, 60)
    assert "45% → 60%" in bot.ctx.renderer.slack(report)


def test_reminder_names_only_what_is_missing_and_editor_gets_the_list(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    bot.cycle.send_prompts()
    say(bot, "zhoujie", "整体进度 80%")
    say(bot, "zhoujie", "生产事件：无")
    say(bot, "zhaolei", "跨境收款：一期上线")
    say(bot, "liuyang", "生产事件：无")
    chat.sent.clear()
    clock.advance(days=1)
    bot.cycle.remind(1)
    reminded = {p.to: p.text for p in chat.of_kind("prompt")}
    assert "zhoujie" not in reminded, "every item and the incident question answered: no reminder"
    assert "资金安全" in reminded["zhaolei"] and "跨境收款" not in reminded["zhaolei"]
    assert "[3] 生产事件" in reminded["zhaolei"], "the incident question follows the items still owed"
    assert "生产事件" not in reminded["liuyang"], "answered: not asked again"
    editor_list = [t.text for t in chat.of_kind("text") if t.to == "zhangwei"][-1]
    assert "尚未填写" in editor_list and "赵磊（1 项）：O1 业务服务 · 资金安全" in editor_list
    assert "周杰" not in editor_list
    question_line = editor_list.split("\n")[-1]
    assert question_line.startswith("🚨 尚未回答生产事件问题") and "赵磊" in question_line
    assert "周杰" not in question_line and "刘洋" not in question_line


def test_an_owner_who_answered_every_item_is_reminded_of_the_incident_question_alone(database_url, chat,
                                                                                     clock) -> None:
    bot = make_bot(database_url, chat, clock)
    bot.cycle.send_prompts()
    say(bot, "zhoujie", "整体进度 80%")
    chat.sent.clear()
    clock.advance(days=1)
    bot.cycle.remind(1)
    reminder = next(p.text for p in chat.of_kind("prompt") if p.to == "zhoujie")
    assert "机房迁移" not in reminder
    assert reminder.split("\n")[2:4] == ["[2] 生产事件", "    本周还没有登记的事件。"], "numbered as on Thursday"


def test_unanswered_items_show_as_not_updated(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    md = bot.cycle.publish().markdown
    assert "1. 跨境收款：未更新" in md and "- 建行：未更新" in md and "    未更新" in md


def test_publishing_twice_edits_the_post_instead_of_posting_again(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    first = bot.cycle.publish()
    assert not first.updated and len(chat.of_kind("report")) == 1
    clock.advance(hours=1)
    say(bot, "zhoujie", "整体进度 99%")  # a late answer updates the posted report by itself
    assert len(chat.of_kind("report")) == 1
    update = chat.of_kind("update")[-1]
    assert update.ref == first.refs[0] and "1. 机房迁移：整体进度 99%" in update.text
    second = bot.cycle.publish()
    assert second.updated and len(chat.of_kind("report")) == 1


def test_a_platform_failure_is_logged_and_the_prompt_is_sent_on_the_next_run(database_url, chat, clock, caplog) -> None:
    bot = make_bot(database_url, chat, clock)
    chat.fail_with = "ratelimited"
    assert bot.cycle.send_prompts() == 0
    assert "prompt not delivered" in caplog.text
    chat.fail_with = None
    assert bot.cycle.send_prompts() == 8


def test_only_editors_may_publish(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    refused = bot.commands.handle("fake", "lina", "publish", clock.now)
    assert not refused.ok and "只有周报编辑或管理员" in refused.text
    assert chat.of_kind("report") == []
    done = bot.commands.handle("fake", "zhangwei", "publish confirm empty", clock.now)
    assert done.ok and "已发布" in done.text and len(chat.of_kind("report")) == 1


def test_week_label_errors_are_clear(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    reply = bot.commands.handle("fake", "zhangwei", "preview 2024-W54", clock.now)
    assert not reply.ok and reply.text == catalogue.say("zh-CN", "command.bad_week", value="2024-W54")


def test_a_holiday_week_states_the_moved_publish_in_reminders_and_the_away_span(database_url, chat, clock) -> None:
    """2025-W14: Friday 4/4 is 清明, so the `fri 17:00` publish moves to Thursday 4/3 (the scheduler fires
    then); the reminder states that time too, and being away Thursday covers the week's whole span."""
    clock.now = datetime(2025, 4, 3, 11, 0, tzinfo=SHANGHAI)
    bot = make_bot(database_url, chat, clock)
    week = IsoWeek.parse("2025-W14")
    reminder = bot.week_report.prompt("zhoujie", week, "remind:1")
    assert reminder is not None and "4月3日（周四）17:00 发布" in reminder.text
    assert reminder.deadline == datetime(2025, 4, 3, 17, 0, tzinfo=SHANGHAI)
    assert bot.week_report.away_span(week) == (date(2025, 4, 3), date(2025, 4, 3))
    publish = next(spec for spec in job_specs(bot.ctx.team) if spec.kind == "publish")
    assert publish.trigger(bot.ctx.team).get_next_fire_time(None, clock.now) == reminder.deadline
