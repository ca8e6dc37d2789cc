"""Anyone in the Slack workspace may file an incident; the reporter is named from their Slack profile."""

from __future__ import annotations

from tests.slack.conftest import Workspace


def test_a_workspace_member_not_in_the_team_files_an_incident(workspace: Workspace) -> None:
    ws = workspace
    ws.slack.names["UONCALL"] = "Wang Wu"
    status, _ = ws.command("/incident", "UONCALL", "06/27 09:12 清结算批量任务超时 原因：对账文件翻倍 级别：D")
    assert status == 200
    ws.settle()
    answer = ws.slack.of("response_url")[-1].args
    assert "已记录事件" in answer["text"] and "上报：Wang Wu" in answer["text"]
    assert "清结算批量任务超时" in ws.slack.messages("C0REPORT")[-1]["text"]
    ws.command("/incident", "UONCALL", "list")
    ws.command("/incident", "UONCALL", "edit 1 影响：无")
    ws.settle()
    said = [c.args["text"] for c in ws.slack.of("response_url")]
    assert "#1" in said[-2] and "上报：Wang Wu" in said[-2]
    assert "已修改事件" in said[-1]
    result = ws.bot.cycle.publish(ws.bot.ctx.week_of(ws.clock.now), ws.clock.now)
    ws.settle()
    report = "".join(b["text"]["text"] for m in ws.slack.messages("C0REPORT")[-len(result.refs):] for b in m["blocks"])
    assert "06/27 09:12 清结算批量任务超时，影响：无，原因：对账文件翻倍" in report
    assert len(ws.slack.of("users.info")) <= 2, "the name is looked up once and cached"
