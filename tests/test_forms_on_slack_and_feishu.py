"""The same form on Slack and on Feishu: the same stored rows and the same words back.

Each test drives one person through the real adapters — signed requests into the Bolt app against the
loopback Web API, encrypted callbacks into the Feishu endpoint against the loopback Open API — and
compares what each platform stored and said. Each platform gets its own SQLite database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.services.bot import Bot
from bot.text.catalogue import say
from storage.db import transaction
from storage.models import AnswerMessageRow, IncidentRow
from tests.fakes import FixedClock
from tests.feishu import payloads
from tests.feishu.conftest import CHANNEL, World, open_id_of, open_world
from tests.slack.conftest import Workspace, open_workspace, user_id


@dataclass
class Both:
    slack: Workspace
    feishu: World


@pytest.fixture
def both(tmp_path: Path, clock: FixedClock) -> Iterator[Both]:
    with open_workspace(f"sqlite:///{tmp_path / 'slack.db'}", clock) as ws, \
            open_world(f"sqlite:///{tmp_path / 'feishu.db'}", clock) as world:
        yield Both(ws, world)


# ----- what a person does, on each platform --------------------------------------------------------


def _slack_submit(ws: Workspace, person: str, view: dict[str, Any], typed: dict[str, str]) -> None:
    """Submit a modal with `typed` values by block id (a select's value as its selected option)."""
    values: dict[str, Any] = {}
    for b in view["blocks"]:
        if b["type"] != "input":
            continue
        element = b["element"]
        value = typed.get(b["block_id"], element.get("initial_value"))
        if element["type"] == "checkboxes":
            chosen = [o for o in element["options"] if o["value"] == value]
            values[b["block_id"]] = {element["action_id"]: {"type": "checkboxes", "selected_options": chosen}}
        elif element["type"] == "static_select":
            values[b["block_id"]] = {"value": {"type": "static_select",
                                               "selected_option": {"value": value} if value else None}}
        else:
            values[b["block_id"]] = {element["action_id"]: {"type": element["type"], "value": value}}
    ws.interactive({"type": "view_submission", "user": {"id": user_id(person)}, "team": {"id": "T1"},
                    "view": {**view, "id": f"V-{len(ws.slack.of('views.open'))}", "state": {"values": values}}})
    ws.settle()


def _slack_form(ws: Workspace, person: str, command: str, text: str, typed: dict[str, str]) -> str:
    """Open a form by slash command, fill it in, submit it; returns the DM the person got."""
    ws.command(command, user_id(person), text)
    ws.settle()
    _slack_submit(ws, person, ws.slack.shown_view(), typed)
    return str(ws.replies_to(person)[-1])


def _feishu_form(world: World, person: str, text: str, typed: dict[str, str]) -> dict[str, Any]:
    """Send a command that answers with a form card, fill it in, submit it; returns the callback's answer."""
    mid = f"om_{person}_{len(world.standin.messages)}"
    world.post(payloads.message(open_id_of(person), text, world.clock.now, message_id=mid))
    card = next(m for m in world.standin.messages.values() if m.reply_to == mid)
    form = next(e for e in card.content["body"]["elements"] if e.get("tag") == "form")
    value = next(e for e in form["elements"] if e.get("tag") == "button")["behaviors"][0]["value"]
    defaults = {e["name"]: e.get("default_value", "") for e in form["elements"] if e.get("tag") == "input"}
    resp = world.post(payloads.card_action(open_id_of(person), value, {**defaults, **typed}, card.message_id,
                                           world.clock.now))
    assert resp.status_code == 200
    return dict(resp.json())


def _card_lines(answer: dict[str, Any]) -> list[str]:
    return [e["text"]["content"] for e in answer["card"]["data"]["body"]["elements"] if e.get("tag") == "div"]


def _feishu_command(world: World, person: str, text: str) -> str:
    mid = f"om_{person}_{len(world.standin.messages)}"
    world.post(payloads.message(open_id_of(person), text, world.clock.now, message_id=mid))
    [reply] = world.replies_to(mid)
    return reply


# ----- what each stored --------------------------------------------------------------------------


def _entries(bot: Bot) -> dict[str, tuple[str, Any, Any]]:
    facts = bot.week_report.facts(bot.ctx.week_of(bot.ctx.now()))
    return {k: (e.text, e.progress, e.main_problem) for k, e in facts.entries.items()}


def _messages(bot: Bot) -> list[tuple[str, str]]:
    with transaction(bot.ctx.db) as s:
        return [(r.text, r.via) for r in s.scalars(select(AnswerMessageRow).order_by(AnswerMessageRow.id))]


def _incidents(bot: Bot) -> list[tuple[Any, ...]]:
    with transaction(bot.ctx.db) as s:
        return [(r.number, r.started_at.astimezone(bot.ctx.team.zone), r.system, r.what, r.cause, r.impact,
                 r.recovered_at.astimezone(bot.ctx.team.zone) if r.recovered_at else None, r.severity, r.weight,
                 r.counts_toward_availability)
                for r in s.scalars(select(IncidentRow).order_by(IncidentRow.number))]


# ----- the tests -------------------------------------------------------------------------------------


def test_the_answer_form_stores_the_same_rows_and_says_the_same(both: Both) -> None:
    typed = {"text": "商户入网新流程切量完成", "progress": "60", "problem": "银行单日开户上限"}
    slack_dm = _slack_form(both.slack, "lina", "/zhoubao", "answer", {
        "item:1": typed["text"], "progress:1": typed["progress"], "problem:1": typed["problem"]})
    answer = _feishu_form(both.feishu, "lina", "/zhoubao answer", {
        "item_1": typed["text"], "progress_1": typed["progress"], "problem_1": typed["problem"]})
    assert answer["toast"]["type"] == "success"
    assert _card_lines(answer)[0] == slack_dm == "✅ 已记录：聚合收单 · 业务"
    entries = _entries(both.slack.bot)
    assert entries == _entries(both.feishu.bot)
    assert entries["project:聚合收单/业务"] == ("商户入网新流程切量完成\n进度：60%\n主要问题：银行单日开户上限", 60,
                                             "银行单日开户上限")
    assert _messages(both.slack.bot) == _messages(both.feishu.bot) == [
        ("聚合收单 · 业务:\n商户入网新流程切量完成\n进度：60%\n主要问题：银行单日开户上限", "form")]  # the blank item held nothing: not part of what was said


def test_a_progress_that_is_not_a_percentage_is_kept_but_not_applied_on_both(both: Both) -> None:
    slack_dm = _slack_form(both.slack, "lina", "/zhoubao", "answer", {"item:1": "切量完成", "progress:1": "-5"})
    # Slack's number_input is bounded by the client; a stale client (or Feishu's text input) can still send this.
    answer = _feishu_form(both.feishu, "lina", "/zhoubao answer", {"item_1": "切量完成", "progress_1": "-5"})
    expected = say("zh-CN", "answer.bad_progress", title="聚合收单 · 业务", value="-5")
    assert slack_dm == _card_lines(answer)[0] == expected
    assert "project:聚合收单/业务" not in _entries(both.slack.bot) and _entries(both.feishu.bot) == _entries(
        both.slack.bot)
    assert _messages(both.slack.bot) == _messages(both.feishu.bot) == [
        ("聚合收单 · 业务:\n切量完成\n进度：-5%", "form")]  # the blank item held nothing: not part of what was said


INCIDENT = {"start": "06/26 14:30", "system": "cmb-gateway", "what": "招行代扣通道返回码异常", "cause": "证书过期",
            "impact": "部分代扣失败", "recovered": "15:10", "severity": "D", "weight": "0.5", "availability": "no"}


def test_the_incident_form_stores_the_same_incident_and_says_the_same(both: Both) -> None:
    slack_dm = _slack_form(both.slack, "wangqiang", "/incident", "", INCIDENT)
    answer = _feishu_form(both.feishu, "wangqiang", "/incident", INCIDENT)
    assert answer["toast"]["type"] == "success"
    expected = "🚨 已记录事件 #1 06/26 14:30 → 15:10 [D ×0.5] cmb-gateway招行代扣通道返回码异常\n原因：证书过期\n影响：部分代扣失败"
    assert slack_dm == _card_lines(answer)[0] == expected
    rows = _incidents(both.slack.bot)
    assert rows == _incidents(both.feishu.bot)
    [(number, started, system, what, cause, impact, recovered, severity, weight, counts)] = rows
    assert (f"{started:%m/%d %H:%M}", system, what, f"{recovered:%H:%M}", severity, str(weight), counts) == (
        "06/26 14:30", "cmb-gateway", "招行代扣通道返回码异常", "15:10", "D", "0.50", False)
    # Both announce it in the report channel, in the same words.
    assert both.slack.slack.messages("C0REPORT")[-1]["text"] == expected
    assert both.feishu.standin.sent(to=CHANNEL, msg_type="text")[-1].content["text"] == expected


def test_a_start_time_the_core_cannot_read_files_nothing_and_says_so_on_both(both: Both) -> None:
    typed = {**INCIDENT, "start": "昨天上午", "what": "节点OOM"}
    slack_dm = _slack_form(both.slack, "wangqiang", "/incident", "", typed)
    answer = _feishu_form(both.feishu, "wangqiang", "/incident", typed)
    expected = say("zh-CN", "incident.bad_start", value="昨天上午")
    assert slack_dm == _card_lines(answer)[0] == expected
    assert answer["toast"]["type"] == "error"
    form = next(e for e in answer["card"]["data"]["body"]["elements"] if e.get("tag") == "form")
    assert {e["name"]: e.get("default_value") for e in form["elements"] if e.get("tag") == "input"}["start"] == \
        "昨天上午", "the card keeps what was typed"
    assert _incidents(both.slack.bot) == _incidents(both.feishu.bot) == []


def test_answer_with_a_bad_week_label_says_the_same_on_both(both: Both) -> None:
    both.slack.command("/zhoubao", user_id("lina"), "answer 2024-W99")
    both.slack.settle()
    expected = say("zh-CN", "command.bad_week", value="2024-W99")
    assert both.slack.slack.of("response_url")[-1].args["text"] == expected
    shown = both.slack.slack.views.values()
    assert not any(v.get("callback_id") == "zhoubao_answer_form" for v in shown), "no form for a week that does not exist"
    assert _feishu_command(both.feishu, "lina", "/zhoubao answer 2024-W99") == expected


def test_answer_with_a_week_opens_that_weeks_form_on_both(both: Both) -> None:
    both.slack.command("/zhoubao", user_id("lina"), "answer 2024-W25")
    both.slack.settle()
    view = both.slack.slack.shown_view()
    mid = "om_lina_w25"
    both.feishu.post(payloads.message(open_id_of("lina"), "/zhoubao answer 2024-W25", both.feishu.clock.now,
                                      message_id=mid))
    card = next(m for m in both.feishu.standin.messages.values() if m.reply_to == mid)
    form = next(e for e in card.content["body"]["elements"] if e.get("tag") == "form")
    button = next(e for e in form["elements"] if e.get("tag") == "button")
    assert '"week": "2024-W25"' in view["private_metadata"] and button["behaviors"][0]["value"]["week"] == "2024-W25"
    assert "2024-W25" in card.content["header"]["title"]["content"]


def test_a_refused_publish_tells_the_person_and_the_editors_on_both(both: Both) -> None:
    both.slack.slack.fail("chat.postMessage", error="not_in_channel")
    both.slack.command("/zhoubao", user_id("zhangwei"), "publish confirm empty")
    both.slack.settle()
    both.feishu.standin.fail("POST", r"^/open-apis/im/v1/messages$", status=400, code=230002, receive_id=CHANNEL)
    feishu_reply = _feishu_command(both.feishu, "zhangwei", "/zhoubao publish confirm empty")
    # The person who asked:
    slack_reply = both.slack.slack.of("response_url")[-1].args["text"]
    assert slack_reply == say("zh-CN", "delivery.person", reason="not_in_channel")
    assert feishu_reply == say("zh-CN", "delivery.person", reason="feishu_230002")
    # ... and every editor (张伟 is the team's editor), with the call and the channel:
    slack_editor = both.slack.replies_to("zhangwei")[-1]
    assert slack_editor == say("zh-CN", "delivery.editors", platform="Slack", method="chat.postMessage",
                               reason="not_in_channel", where="weekly-report") + say("zh-CN", "delivery.not_in_channel")
    [feishu_editor] = [m.content["text"] for m in both.feishu.standin.sent(to=open_id_of("zhangwei"), msg_type="text")]
    assert feishu_editor == say("zh-CN", "delivery.editors", platform="Feishu", method="im.message.create",
                                reason="feishu_230002", where=CHANNEL)
    assert both.slack.slack.messages("C0REPORT") == [] and both.feishu.standin.sent(to=CHANNEL) == []


# ----- the incident question (issue 14) ----------------------------------------------------------------


def test_the_incident_question_in_both_forms_files_the_same_incident(both: Both) -> None:
    line = "06/27 20:05 gateway-api 节点CPU打满 原因：新接口缺少分页 级别：C"
    slack_dm = _slack_form(both.slack, "lina", "/zhoubao", "answer", {"question": line})
    answer = _feishu_form(both.feishu, "lina", "/zhoubao answer", {"question": line})
    filed = ("🚨 已记录事件 #1 06/27 20:05 [C] gateway-api节点CPU打满\n原因：新接口缺少分页\n"
             "（由你的周报回复登记；可用 /incident edit 1 … 修改。）")
    assert slack_dm.endswith(filed) and _card_lines(answer)[0].endswith(filed)
    assert _incidents(both.slack.bot) == _incidents(both.feishu.bot) and len(_incidents(both.slack.bot)) == 1
    week = both.slack.bot.ctx.week_of(both.slack.bot.ctx.now())
    assert both.slack.bot.week_report.incident_answers(week) == both.feishu.bot.week_report.incident_answers(week) == {
        "lina": "incident"}


def test_nothing_to_add_in_one_click_on_both(both: Both) -> None:
    # Slack: the box in the answer modal; Feishu: the button below the prompt card's form.
    slack_dm = _slack_form(both.slack, "zhoujie", "/zhoubao", "answer", {"question_none": "none"})
    mid = "om_zhoujie_menu"
    both.feishu.post(payloads.message(open_id_of("zhoujie"), "/zhoubao answer", both.feishu.clock.now, message_id=mid))
    card = next(m for m in both.feishu.standin.messages.values() if m.reply_to == mid)
    button = next(e for e in card.content["body"]["elements"] if e.get("name") == "question_none")
    resp = both.feishu.post(payloads.card_action(open_id_of("zhoujie"), button["behaviors"][0]["value"], {},
                                                 card.message_id, both.feishu.clock.now))
    assert resp.status_code == 200 and resp.json()["toast"]["type"] == "success"
    assert "card" not in resp.json(), "the prompt card stays as it is"
    assert slack_dm.endswith("✅ 已记录：本周没有要补充的生产事件。")
    for bot in (both.slack.bot, both.feishu.bot):
        assert bot.week_report.incident_answers(bot.ctx.week_of(bot.ctx.now())) == {"zhoujie": "none"}
