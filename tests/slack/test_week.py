"""A whole week on Slack, end to end; failures of the Web API; Socket Mode through the same listeners."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.adapters.slack.blocks import MAX_BLOCKS, MAX_SECTION
from bot.adapters.slack.transports import socket_mode
from bot.domain.weeks import IsoWeek
from tests.slack.conftest import Workspace, user_id


def _press_answer(ws: Workspace, person: str) -> dict[str, Any]:
    """Press the Answer button under the person's prompt; returns the modal Slack was asked to open."""
    prompt = ws.slack.messages("D" + person.upper())[0]
    button = next(b for b in prompt["blocks"] if b["type"] == "actions")["elements"][0]
    ws.interactive({"type": "block_actions", "user": {"id": user_id(person)}, "team": {"id": "T1"},
                    "trigger_id": "trig-answer", "container": {"type": "message", "message_ts": prompt["ts"]},
                    "actions": [{**button, "block_id": "zhoubao_prompt", "action_ts": "1"}]})
    ws.settle()
    return ws.slack.shown_view()


def _submit(ws: Workspace, person: str, view: dict[str, Any], typed: dict[str, str]) -> None:
    values: dict[str, Any] = {}
    for b in (b for b in view["blocks"] if b["type"] == "input"):  # not the incident question's section
        action = b["element"]["action_id"]
        initial = b["element"].get("initial_value")
        value = typed.get(b["block_id"], initial)
        values[b["block_id"]] = {action: {"type": b["element"]["type"], "value": value}}
    ws.interactive({"type": "view_submission", "user": {"id": user_id(person)}, "team": {"id": "T1"},
                    "view": {**view, "id": f"V-{person}", "state": {"values": values}}})
    ws.settle()


def test_a_whole_week(workspace: Workspace) -> None:
    ws = workspace
    week = ws.bot.ctx.week_of(ws.clock.now)
    # Thursday 10:00: one DM per owner, with an Answer button.
    assert ws.bot.cycle.send_prompts("prompt", ws.clock.now) == 8
    assert len(ws.slack.of("chat.postMessage")) == 8
    # Answers by thread, by DM, by the form.
    prompt = ws.slack.messages("DCHENJING")[0]
    ws.dm("chenjing", "PCI DSS 差距评估完成", thread_ts=prompt["ts"])
    ts = ws.dm("zhoujie", "机房迁移：进度 40%")
    ws.settle()
    view = _press_answer(ws, "wangqiang")
    labels = [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"]
    assert labels[0] == "聚合收单 · 银行" and "聚合收单 · 银行 · 建行" in labels, "one input per bank"
    _submit(ws, "wangqiang", view, {"item:2": "建行：联调环境申请中", "item:3": "招行：方案评审通过"})
    view = _press_answer(ws, "lina")
    _submit(ws, "lina", view, {"item:1": "商户入网切量完成", "progress:1": "60", "problem:1": "银行开户上限"})
    # An edit and a deletion.
    ws.clock.advance(hours=1)
    ws.edit("zhoujie", ts, "机房迁移：进度 45%，演练完成")
    gone = ws.dm("zhaolei", "资金安全：误发的一条")
    ws.settle()
    ws.delete("zhaolei", gone)
    # An incident, by command.
    ws.command("/incident", "USUNLI", "06/26 09:12 清结算批量任务超时 原因：对账文件翻倍 级别：D")
    ws.settle()
    # Friday 10:00 reminder names what is missing; the editor gets the list.
    ws.clock.advance(days=1)
    ws.bot.cycle.remind(1, ws.clock.now)
    assert "提醒" in ws.replies_to("zhaolei")[-1]
    assert "尚未填写" in ws.replies_to("zhangwei")[-1]
    # Friday 17:00: publish.
    ws.clock.now = ws.bot.week_report.deadline(week)
    ws.bot.cycle.publish(week, ws.clock.now)
    report = ws.bot.week_report.compile(week)
    entries = {k: e.text for k, e in ws.bot.week_report.facts(week).entries.items()}
    assert entries["project:PCI DSS 认证"] == "PCI DSS 差距评估完成"
    assert entries["okr:O3/机房迁移"] == "进度 45%，演练完成"
    assert entries["project:聚合收单/业务"].startswith("商户入网切量完成")
    facts = ws.bot.week_report.facts(week)
    assert facts.entries["project:聚合收单/业务"].progress == 60
    assert "联调环境申请中" in facts.banks["bank:聚合收单/建行"].note
    assert "okr:O1/资金安全" not in entries
    assert len(report.incidents) == 1
    posted = [m for m in ws.slack.messages("C0REPORT") if m["blocks"]]
    shown = "\n".join(b["text"]["text"] for m in posted for b in m["blocks"])
    assert shown.replace("\n\n", "\n") == report_text(ws, week).replace("\n\n", "\n")
    for needle in ("PCI DSS 差距评估完成", "进度 45%，演练完成", "联调环境申请中", "清结算批量任务超时"):
        assert needle in shown
    assert not ws.slack.problems


def report_text(ws: Workspace, week: IsoWeek) -> str:
    return ws.bot.week_report.render(ws.bot.week_report.compile(week)).slack.strip("\n")


def test_a_long_report_continues_in_the_thread_and_is_updated_in_place(workspace: Workspace) -> None:
    ws = workspace
    ws.bot.cycle.send_prompts("prompt", ws.clock.now)
    long = "\n\n".join(f"第{n}段：" + "进展说明" * 400 for n in range(12))  # ~19k characters, 12 sections
    for person, items in (("sunli", ["实时数仓"]), ("zhaolei", ["跨境收款", "资金安全"]),
                          ("lina", ["对公代付"]), ("liuyang", ["交易路由"]), ("zhoujie", ["机房迁移"])):
        for name in items:
            ws.dm(person, f"{name}：{long}")
    ws.settle()
    week = ws.bot.ctx.week_of(ws.clock.now)
    ws.bot.cycle.publish(week, ws.clock.now)
    posted = ws.slack.messages("C0REPORT")
    assert len(posted) >= 2 and all(m["thread_ts"] == posted[0]["ts"] for m in posted[1:])
    assert all(len(m["blocks"]) <= MAX_BLOCKS for m in posted)
    assert all(len(b["text"]["text"]) <= MAX_SECTION for m in posted for b in m["blocks"])
    before = len(ws.slack.of("chat.postMessage"))
    ws.dm("chenjing", "PCI DSS：补充材料已提交")
    ws.settle()
    assert len(ws.slack.of("chat.postMessage")) == before + 1, "only the confirmation DM is new"
    shown = "".join(b["text"]["text"] for m in ws.slack.messages("C0REPORT") for b in m["blocks"])
    assert "补充材料已提交" in shown and not ws.slack.problems


def test_web_api_refusals_are_logged_once_and_told_to_the_editor(
        workspace: Workspace, caplog: pytest.LogCaptureFixture) -> None:
    ws = workspace
    ws.slack.fail("chat.postMessage", error="not_in_channel")
    with caplog.at_level(logging.ERROR, logger="zhoubao.slack"):
        ws.command("/zhoubao", "UZHANGWEI", "publish confirm empty")
        ws.settle()
    lines = [r.getMessage() for r in caplog.records if "not_in_channel" in r.getMessage()]
    assert lines == ["slack chat.postMessage failed: not_in_channel (channel weekly-report)"]
    assert "not_in_channel" in ws.replies_to("zhangwei")[-1]
    assert "not_in_channel" in ws.slack.of("response_url")[-1].args["text"]
    ws.command("/zhoubao", "UZHANGWEI", "publish confirm empty")  # once invited, publishing works
    ws.settle()
    assert len(ws.slack.messages("C0REPORT")) == 1


def test_an_answer_is_never_lost_when_slack_fails(workspace: Workspace) -> None:
    ws = workspace
    ws.bot.cycle.send_prompts("prompt", ws.clock.now)
    ws.settle()
    ws.slack.fail("chat.postMessage", times=20, error="account_inactive")
    ws.dm("zhoujie", "机房迁移：完成切换")
    ws.settle()
    assert ws.bot.week_report.facts(ws.bot.ctx.week_of(ws.clock.now)).entries["okr:O3/机房迁移"].text == "完成切换"


def test_429_retry_after_and_5xx_are_retried(workspace: Workspace) -> None:
    ws = workspace
    ws.slack.fail("chat.postMessage", status=429, retry_after="0.2")
    ws.slack.fail("chat.postMessage", status=500)
    ws.slack.fail("chat.postMessage", status=503)
    ref = ws.bot.ctx.chat.post_text("weekly-report", "hello")
    calls = ws.slack.of("chat.postMessage")
    assert len(calls) == 4 and calls[1].at - calls[0].at >= 0.2
    assert ws.slack.messages("C0REPORT")[-1]["ts"] == ref.message_id


def test_acks_before_the_work_is_done_whatever_slack_does(workspace: Workspace) -> None:
    ws = workspace
    assert ws.bot.journal is not None
    ws.bot.journal.stop()  # the worker is held up (say, by a Slack that does not answer)
    status, body, _ = ws.post("token=x&team_id=T1&user_id=USUNLI&command=%2Fincident&text=list&trigger_id=t"
                              f"&response_url={ws.slack.url}/respond/9", "application/x-www-form-urlencoded")
    # Acked (journaled) while no work is being done: Slack hears back without waiting for the work.
    assert (status, body) == (200, "")
    assert not ws.slack.of("response_url")
    ws.bot.journal.start(poll=0.05)
    ws.settle()
    assert ws.slack.of("response_url")[-1].args["text"] == "2024-W26 暂无生产事件。"


def test_socket_mode_reaches_the_same_listeners(workspace: Workspace) -> None:
    ws = workspace
    ws.bot.cycle.send_prompts("prompt", ws.clock.now)
    handler = socket_mode(ws.parts.intake, "xapp-test", ws.parts.gateway.client)
    acks: list[Any] = []
    handler.client.send_socket_mode_response = acks.append  # the WebSocket itself is Slack's side
    listener = handler.client.socket_mode_request_listeners[-1]
    ts = ws.ts(ws.clock.now + timedelta(minutes=1))
    event = {"type": "event_callback", "event_id": "EvSOCK", "event": {
        "type": "message", "channel": "DSUNLI", "channel_type": "im", "user": "USUNLI",
        "text": "实时数仓：上线", "ts": ts, "event_ts": ts}}
    listener(handler.client, SocketModeRequest(type="events_api", envelope_id="env1", payload=event))
    ws.settle()
    listener(handler.client, SocketModeRequest(type="slash_commands", envelope_id="env2", payload={
        "command": "/zhoubao", "text": "status", "user_id": "USUNLI", "trigger_id": "t2",
        "response_url": f"{ws.slack.url}/respond/s"}))
    ws.settle()
    assert [a.envelope_id for a in acks] == ["env1", "env2"]
    assert ws.bot.week_report.facts(ws.bot.ctx.week_of(ws.clock.now)).entries["okr:O2/实时数仓"].text == "上线"
    assert "✅ [1] O2 能力升级 · 实时数仓" in ws.slack.of("response_url")[-1].args["text"]
