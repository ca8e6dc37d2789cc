"""The incident question: what an answer means (pure), and the one-click and form paths through the core."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.forms import QuestionForm
from bot.domain.incident_question import is_nothing_to_add, named_answer, read_answer
from bot.domain.weeks import IsoWeek
from tests.helpers import make_bot, say

NOW = datetime(2024, 6, 28, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SEVERITIES = ["A", "B", "C", "D"]
WEEK = IsoWeek.parse("2024-W26")


@pytest.mark.parametrize("text", ["无", "没有", "没有。", " 无事件 ", "None", "none.", "nothing to add", "暂无！"])
def test_nothing_to_add_in_either_language(text: str) -> None:
    assert is_nothing_to_add(text) and read_answer(text, now=NOW, severities=SEVERITIES).kind == "none"


@pytest.mark.parametrize("text", ["无法登录", "没有恢复", "no idea", "不确定", ""])
def test_words_that_only_start_like_none_are_not_none(text: str) -> None:
    assert not is_nothing_to_add(text)


def test_an_incident_line_with_its_start_is_an_incident() -> None:
    read = read_answer("06/27 20:05 gateway-api 节点CPU打满 原因：新接口缺少分页 级别：C", now=NOW,
                       severities=SEVERITIES)
    assert read.kind == "incident" and read.draft is not None
    assert (read.draft.started_at, read.draft.system, read.draft.what, read.draft.cause, read.draft.severity) == (
        datetime(2024, 6, 27, 20, 5, tzinfo=NOW.tzinfo), "gateway-api", "节点CPU打满", "新接口缺少分页", "C")


def test_a_labelled_start_counts_and_a_slash_is_tolerated() -> None:
    read = read_answer("/incident 内容：清结算批量任务超时 开始：06/24 09:12", now=NOW, severities=SEVERITIES)
    assert read.kind == "incident" and read.draft is not None and read.draft.started_at.day == 24


@pytest.mark.parametrize("text", ["周二好像有点慢", "gateway-api 节点CPU打满 级别：C", "系统：gateway 内容：超时"])
def test_anything_without_a_start_is_unclear_not_an_incident_filed_now(text: str) -> None:
    read = read_answer(text, now=NOW, severities=SEVERITIES)
    assert read.kind == "unclear" and read.draft is None and read.problem is None


def test_an_unreadable_incident_line_is_unclear_with_the_reason() -> None:
    read = read_answer("06/27 20:05 网关超时 级别：Z", now=NOW, severities=SEVERITIES)
    assert read.kind == "unclear" and read.problem is not None and read.problem.key == "severity"


def test_the_question_answered_by_its_name() -> None:
    assert named_answer("生产事件：无", ["生产事件", "事件"]) == "无"
    assert named_answer("Incidents: none", ["incidents"]) == "none"
    assert named_answer("机房迁移：80%", ["生产事件", "事件"]) is None
    assert named_answer("生产事件：", ["生产事件"]) is None


def test_one_click_nothing_to_add_and_a_form_incident_answer_it(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    bot.cycle.send_prompts()
    reply = bot.forms.nothing_to_add("slack", "zhoujie", "action:1", None, bot.ctx.now())
    assert reply.ok and reply.text == "✅ 已记录：本周没有要补充的生产事件。"
    assert bot.forms.nothing_to_add("slack", "zhoujie", "action:1", None, bot.ctx.now()).ok, "a redelivery is harmless"
    filed = bot.forms.submit_answers("slack", "lina", "view:1", None, [], bot.ctx.now(),
                                     QuestionForm(text="06/27 09:00 pay-core 回调积压 级别：D"))
    assert filed.ok and filed.text.startswith("🚨 已记录事件 #1 06/27 09:00 [D] pay-core回调积压")
    assert bot.week_report.incident_answers(WEEK) == {"zhoujie": "none", "lina": "incident"}
    kept = bot.forms.submit_answers("slack", "zhaolei", "view:2", None, [], bot.ctx.now(), QuestionForm(text="说不清"))
    assert not kept.ok and kept.text.startswith("❓ ")
    assert "zhaolei" not in bot.week_report.incident_answers(WEEK)
    assert bot.incidents.list_text(WEEK).count("\n#") == 1, "only the incident line was filed"


def test_the_team_file_turns_the_question_off(database_url, chat, clock) -> None:
    from tests.helpers import example_team

    team = example_team()
    team = team.model_copy(update={"incidents": team.incidents.model_copy(update={"ask_in_prompt": False})})
    bot = make_bot(database_url, chat, clock, team=team)
    bot.cycle.send_prompts()
    assert not any("生产事件" in p.text for p in chat.of_kind("prompt"))
    reply = say(bot, "zhoujie", "生产事件：无")
    assert reply is not None and reply.text.startswith("✅ 已记录：O3 平台治理 · 机房迁移"), \
        "off: the line is an ordinary answer"
    assert bot.week_report.unanswered_incident_question(WEEK) == []


def test_deleting_the_answer_withdraws_it(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    bot.cycle.send_prompts()
    say(bot, "zhoujie", "无", item=2, source="m-q")
    assert bot.week_report.incident_answers(WEEK) == {"zhoujie": "none"}
    reply = bot.inbox.delete("fake", "m-q", bot.ctx.now())
    assert reply is not None and reply.text == "🗑 已撤回你对生产事件问题的回答。"
    assert bot.week_report.incident_answers(WEEK) == {}
