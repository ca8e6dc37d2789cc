"""Section notes: an optional prompt item whose text appears at the end of its section in every rendering."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.domain.team import Team
from bot.domain.weeks import IsoWeek
from bot.services.bot import Bot
from tests.fakes import FakeChat, FixedClock
from tests.helpers import example_team, make_bot, say

NOTE = "430事故：截至6/18，异常资金全部追回。"


def team_with_notes() -> Team:
    data: dict[str, Any] = example_team().model_dump()
    data["metrics"][1]["notes"] = True  # 系统可用性
    data["projects"][1]["notes"] = True  # PCI DSS 认证
    data["incidents"]["notes"] = True
    return Team.model_validate(data)


@pytest.fixture
def bot(database_url: str, chat: FakeChat, clock: FixedClock) -> Bot:
    return make_bot(database_url, chat, clock, team_with_notes())


def prompt_of(chat: FakeChat, person: str) -> str:
    return next(m.text for m in chat.sent if m.kind == "prompt" and m.to == person)


def test_the_prompt_offers_the_note_as_an_item_and_the_report_shows_it_under_its_section(bot: Bot,
                                                                                         chat: FakeChat) -> None:
    bot.cycle.send_prompts()
    assert "[5] 系统可用性 · 备注" in prompt_of(chat, "sunli")
    assert "生产事件 · 备注" in prompt_of(chat, "zhangwei")  # editors write every section's note
    reply = say(bot, "sunli", NOTE, item=5)  # `[5] …`: the adapter reads the number
    assert reply is not None and reply.ok and "系统可用性 · 备注" in reply.text
    say(bot, "zhangwei", "生产事件备注：详细记录：https://wiki.example.com/incidents")

    report = bot.week_report.compile(IsoWeek(2024, 26))
    md = bot.ctx.renderer.markdown(report)
    assert f"- 事故数AB级0次，C级0次，D级0次\n\n{NOTE}\n\n## 【生产事件】" in md
    # a bare address is an autolink, so a CommonMark wiki shows it as a link (issue 21)
    assert "无\n\n详细记录：<https://wiki.example.com/incidents>\n\n## 【其他】" in md
    slack = bot.ctx.renderer.slack(report)
    assert f"• 事故数AB级0次，C级0次，D级0次\n{NOTE}\n" in slack
    feishu = json.dumps(bot.ctx.renderer.feishu_post(report), ensure_ascii=False)
    assert json.dumps(NOTE, ensure_ascii=False) in feishu


def test_an_empty_note_shows_nothing_and_is_never_missing(bot: Bot, chat: FakeChat) -> None:
    report = bot.week_report.compile(IsoWeek(2024, 26))
    md = bot.ctx.renderer.markdown(report)
    assert "- 事故数AB级0次，C级0次，D级0次\n\n## 【生产事件】\n\n无\n\n## 【其他】" in md
    assert "备注" not in md and "备注" not in bot.ctx.renderer.slack(report)
    assert not any("备注" in m.item_title for m in report.missing)
    bot.cycle.send_prompts()
    bot.cycle.remind()
    reminders = [m.text for m in chat.sent if m.kind == "prompt" and m.prompt and m.prompt.kind == "remind"]
    assert reminders and not any("备注" in t for t in reminders)


def test_a_plain_reply_still_goes_to_the_one_item_that_must_be_answered(bot: Bot) -> None:
    reply = say(bot, "chenjing", "本周完成差距分析，整体进度 45%")
    assert reply is not None and reply.stored_items == ("project:PCI DSS 认证",)
    reply = say(bot, "chenjing", "PCI DSS 认证备注：审核方下周到场")
    assert reply is not None and reply.stored_items == ("note:project:PCI DSS 认证",)
    md = bot.ctx.renderer.markdown(bot.week_report.compile(IsoWeek(2024, 26)))
    assert "    本周完成差距分析，整体进度 45%\n\n    审核方下周到场\n\n## 【O1 业务服务】" in md


def test_notes_are_off_unless_the_team_file_turns_them_on() -> None:
    team = example_team()
    assert not any(it.kind == "note" for it in team.items)
    assert len(team.section_notes) == 8  # 2 projects, 3 OKR groups, 2 metric groups, 生产事件


def test_the_team_file_turns_a_sections_note_on() -> None:
    from bot.runtime.team_file import parse_team
    from tests.conftest import EXAMPLE_TEAM

    source = EXAMPLE_TEAM.read_text(encoding="utf-8").replace("    # notes: true           # ask", "    notes: true  # ask")
    team = parse_team(source)
    assert [it.title for it in team.items if it.kind == "note"] == ["系统可用性 · 备注"]
    assert [it.title for it in team.items_of("sunli")][-1] == "系统可用性 · 备注"
