"""One Slack app serving two teams of a department (issue 25), with Carol in both (her email in both team
files): each answer goes to the team whose prompt it answers, an edit to the team that stored the message,
a person in one team needs no thread, and what cannot be told is asked about (nothing stored), in the
sender's team's language. Slash commands take a `--team` word. The rule is the core's
(`bot/services/routing.py`); the Slack app only reads the payload."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bot.domain.weeks import IsoWeek
from bot.services.bot import Bot
from bot.text.catalogue import say
from storage.answers import Answers
from storage.db import transaction
from storage.directory import Directory
from storage.incidents import Incidents
from tests.behaviour.conftest import MONDAY, at
from tests.behaviour.department import DepartmentProcess, department, team_file
from tests.slack.conftest import user_id

W26 = IsoWeek.parse("2024-W26")


@pytest.fixture
def process(database_url: str) -> Iterator[DepartmentProcess]:
    dept = department(team_file("crossborder", platform="slack"),
                      team_file("settlement", platform="slack", emails={"zhengshuang": "carol@example.com"}),
                      platform="slack")
    p = DepartmentProcess.open(dept, database_url, MONDAY, slack_channels={
        "crossborder-weekly": "C0CROSS", "settlement-weekly": "C0SETTLE", "department-weekly": "C0DEPT"},
        feishu_chats=set())
    yield p
    p.close()


def _prompts(p: DepartmentProcess, person: str) -> list[dict[str, Any]]:
    return [m for m in p.slack.messages("D" + user_id(person)[1:])
            if any(b.get("block_id") == "zhoubao_prompt" for b in m.get("blocks") or [])]


def _metrics(bot: Bot) -> dict[str, str]:
    return {k: m.value_text for k, m in bot.week_report.facts(W26).metrics.items()}


def _stored(bot: Bot) -> list[str]:
    with transaction(bot.ctx.db) as s:
        week = Directory(s).week(bot.ctx.team_id, W26.label)
        return [m.text for m in Answers(s).messages_of_week(bot.ctx.team_id, week.id)] if week else []


def _incidents(bot: Bot) -> list[str]:
    with transaction(bot.ctx.db) as s:
        week = Directory(s).week(bot.ctx.team_id, W26.label)
        return [i.what for i in Incidents(s).of_week(bot.ctx.team_id, week.id)] if week else []


def test_a_person_in_two_slack_teams_answers_each_teams_prompt_in_its_thread(process: DepartmentProcess) -> None:
    p = process
    cross, settle = p.bot("crossborder"), p.bot("settlement")
    p.advance_to(at(27, 10))
    prompts = _prompts(p, "carol")
    assert len(prompts) == 2  # one prompt per team, each in its own language
    en, zh = (prompts[0], prompts[1]) if "report" in prompts[0]["text"] else (prompts[1], prompts[0])
    ws = p.slack_app
    ws.dm("carol", "Yearly availability: 99.98%", thread_ts=en["ts"])
    ws.dm("carol", "清算准时率：99.95%", thread_ts=zh["ts"])
    p.settle()
    assert _metrics(cross) == {"metric:Yearly availability": "99.98"}
    assert _metrics(settle) == {"metric:清算准时率": "99.95"}

    # An edit goes to the team that stored the message, whatever its thread.
    ts = ws.dm("carol", "清算准时率：99.9%", thread_ts=zh["ts"])
    p.settle()
    ws.edit("carol", ts, "清算准时率：99.97%")
    p.settle()
    assert _metrics(settle) == {"metric:清算准时率": "99.97"}
    assert _metrics(cross) == {"metric:Yearly availability": "99.98"}


def test_what_cannot_be_told_is_asked_and_a_person_in_one_team_needs_no_thread(process: DepartmentProcess) -> None:
    p = process
    cross, settle = p.bot("crossborder"), p.bot("settlement")
    p.advance_to(at(27, 10))
    ws = p.slack_app
    before = (len(_stored(cross)), len(_stored(settle)))
    ws.dm("carol", "Yearly availability: 99.98%")  # no thread: Carol is in both teams
    p.settle()
    asked = say("en", "route.which_team", teams="crossborder (Cross-border Payments), settlement (清结算组)",
                example="crossborder")
    assert ws.replies_to("carol")[-1] == asked.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert (len(_stored(cross)), len(_stored(settle))) == before  # nothing stored anywhere

    ws.dm("bob", "[1] Signed the second acquirer, progress 60%")  # Bob is only on Cross-border
    p.settle()
    assert _stored(cross)[-1] == "Signed the second acquirer, progress 60%"


def test_a_slash_command_names_its_team_with_a_team_word(process: DepartmentProcess) -> None:
    p = process
    p.advance_to(at(27, 10))
    ws = p.slack_app
    status, _ = ws.command("/zhoubao", user_id("carol"), "--team settlement status")
    assert status == 200
    p.settle()
    settlement_status = p.slack.of("response_url")[-1].args["text"]
    assert "清算准时率" in settlement_status and "Yearly availability" not in settlement_status
    ws.command("/zhoubao", user_id("carol"), "status")
    p.settle()
    assert p.slack.of("response_url")[-1].args["text"].startswith("You are on several teams here")
    ws.command("/zhoubao", user_id("carol"), "--team crossborder status")
    p.settle()
    cross_status = p.slack.of("response_url")[-1].args["text"]
    assert "Yearly availability" in cross_status and "清算准时率" not in cross_status


def test_a_form_opened_from_a_teams_prompt_is_stored_in_that_team(process: DepartmentProcess) -> None:
    p = process
    cross, settle = p.bot("crossborder"), p.bot("settlement")
    p.advance_to(at(27, 10))
    zh = next(m for m in _prompts(p, "carol") if "report" not in m["text"])
    ws = p.slack_app
    button = next(b for b in zh["blocks"] if b["type"] == "actions")["elements"][0]
    # The Answer button under 清结算组's prompt (a block_actions payload, its container the prompt message:
    # https://docs.slack.dev/reference/interaction-payloads/block_actions-payload).
    assert ws.interactive({"type": "block_actions", "user": {"id": user_id("carol")}, "team": {"id": "T1"},
                           "trigger_id": "trig-answer", "container": {"type": "message", "message_ts": zh["ts"]},
                           "actions": [{**button, "block_id": "zhoubao_prompt", "action_ts": "1"}]}) == 200
    p.settle()
    view = p.slack.shown_view()
    labels = [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"]
    assert labels[0] == "清结算 · 银行"
    values = {b["block_id"]: {b["element"]["action_id"]: {"type": b["element"]["type"],
                                                           "value": "工行：联调中" if b["block_id"] == "item:1" else None}}
              for b in view["blocks"] if b["type"] == "input" and b["element"]["type"] == "plain_text_input"}
    # view_submission: https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload
    assert ws.interactive({"type": "view_submission", "user": {"id": user_id("carol")}, "team": {"id": "T1"},
                           "view": {**view, "id": "V1", "state": {"values": values}}}) == 200
    p.settle()
    assert _stored(settle) == ["清结算 · 银行:\n工行：联调中"]
    assert not _stored(cross)


def test_an_incident_form_named_for_a_team_opens_at_once_and_comes_back_to_it(process: DepartmentProcess) -> None:
    p = process
    ws = p.slack_app
    # `/incident --team settlement` alone opens the form (on the modal lane: its trigger lives 3 s).
    status, _ = ws.command("/incident", user_id("carol"), "--team settlement")
    assert status == 200
    p.settle()
    view = p.slack.shown_view()
    assert view["callback_id"] == "zhoubao_incident_form" and json.loads(view["private_metadata"]) == {"team": "清结算组"}
    typed = {"what": "清算文件延迟", "start": "2024-06-24 10:00"}
    values = {b["block_id"]: {b["element"]["action_id"]: {"type": "plain_text_input", "value": typed.get(b["block_id"])}}
              for b in view["blocks"] if b["type"] == "input" and b["element"]["type"] == "plain_text_input"}
    assert ws.interactive({"type": "view_submission", "user": {"id": user_id("carol")}, "team": {"id": "T1"},
                           "view": {**view, "id": "V2", "state": {"values": values}}}) == 200
    p.settle()
    assert _incidents(p.bot("settlement")) == ["清算文件延迟"]
    assert _incidents(p.bot("crossborder")) == []


def test_a_message_in_a_channel_is_not_asked_about(process: DepartmentProcess) -> None:
    """The bot reads only DMs: a channel message from someone in both teams is nobody's, and not answered."""
    p = process
    ws = p.slack_app
    ts = ws.ts()
    assert ws.event({"type": "message", "channel": "C0CROSS", "channel_type": "channel", "user": user_id("carol"),
                     "text": "lunch?", "ts": ts, "event_ts": ts}) == 200
    p.settle()
    assert p.slack.messages("C0CROSS") == [] and ws.replies_to("carol") == []
