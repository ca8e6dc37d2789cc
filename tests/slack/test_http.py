"""The real Bolt app over HTTP with signed requests shaped as Slack sends them."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from bot.domain.weeks import IsoWeek
from tests.slack.conftest import Workspace


def _week(ws: Workspace) -> IsoWeek:
    return ws.bot.ctx.week_of(ws.clock.now)


def _entry(ws: Workspace, key: str) -> str | None:
    entry = ws.bot.cycle.facts(_week(ws)).entries.get(key)
    return entry.text if entry else None


def test_url_verification_answers_the_challenge(workspace: Workspace) -> None:
    status, body, _ = workspace.post(json.dumps({"type": "url_verification", "challenge": "c-123", "token": "x"}),
                                     "application/json")
    assert status == 200 and json.loads(body) == {"challenge": "c-123"}


def test_forged_and_stale_requests_are_refused_and_change_nothing(workspace: Workspace) -> None:
    ws = workspace
    ws.bot.cycle.send_prompts("prompt", ws.clock.now)
    body = json.dumps({"type": "event_callback", "event_id": "EvX", "event": {
        "type": "message", "channel_type": "im", "channel": "DCHENJING", "user": "UCHENJING",
        "text": "PCI DSS：forged", "ts": ws.ts()}})
    before = len(ws.slack.calls)
    assert ws.post(body, "application/json", secret="not-the-secret")[0] == 401
    assert ws.post(body, "application/json", timestamp=int(time.time()) - 6 * 60)[0] == 401
    ws.settle()
    assert len(ws.slack.calls) == before
    assert _entry(ws, "project:PCI DSS 认证") is None


def test_dm_answers_with_and_without_thread_are_stored_and_confirmed(workspace: Workspace) -> None:
    ws = workspace
    ws.bot.cycle.send_prompts("prompt", ws.clock.now)
    ws.settle()
    prompt = ws.slack.messages("DCHENJING")[0]
    assert "PCI DSS" in prompt["text"]
    assert any(b["type"] == "actions" for b in prompt["blocks"]), "the prompt carries an Answer button"
    ws.dm("chenjing", "QSA 现场审计完成，进度 80%", thread_ts=prompt["ts"])  # a reply in the prompt's thread
    ws.dm("lina", "[2] 对公代付：联调完成")  # a plain DM choosing item 2
    ws.settle()
    assert _entry(ws, "project:PCI DSS 认证") == "QSA 现场审计完成，进度 80%"
    assert _entry(ws, "okr:O1/对公代付") == "联调完成"
    confirmation = ws.slack.messages("DCHENJING")[-1]
    assert "已记录" in confirmation["text"] and "PCI DSS" in confirmation["text"]
    assert confirmation["thread_ts"] == prompt["ts"], "a threaded answer is confirmed in its thread"
    assert "对公代付" in ws.replies_to("lina")[-1]


def test_edits_and_deletions_change_what_is_stored(workspace: Workspace) -> None:
    ws = workspace
    ws.bot.cycle.send_prompts("prompt", ws.clock.now)
    ts = ws.dm("zhoujie", "机房迁移：进度 50%")
    ws.settle()
    ws.edit("zhoujie", ts, "机房迁移：进度 70%，生产验证完成")
    ws.settle()
    assert _entry(ws, "okr:O3/机房迁移") == "进度 70%，生产验证完成"
    ws.delete("zhoujie", ts)
    ws.settle()
    assert _entry(ws, "okr:O3/机房迁移") is None
    assert "已撤回" in ws.replies_to("zhoujie")[-1]


def test_a_redelivered_event_is_handled_once(workspace: Workspace) -> None:
    ws = workspace
    ws.bot.cycle.send_prompts("prompt", ws.clock.now)
    ws.settle()
    ts = ws.ts()
    event = {"type": "message", "channel": "DZHAOLEI", "channel_type": "im", "user": "UZHAOLEI",
             "text": "跨境收款：上线", "ts": ts, "event_ts": ts}
    assert ws.event(event, event_id="EvSAME") == 200
    ws.settle()
    for n in (1, 2):
        assert ws.event(event, event_id="EvSAME", headers={"X-Slack-Retry-Num": str(n),
                                                             "X-Slack-Retry-Reason": "http_timeout"}) == 200
    ws.settle()
    assert sum("已记录" in t for t in ws.replies_to("zhaolei")) == 1


def test_someone_not_on_the_team_is_told_so(workspace: Workspace) -> None:
    ws = workspace
    ts = ws.ts()
    ws.event({"type": "message", "channel": "DSTRANGER", "channel_type": "im", "user": "USTRANGER",
              "text": "hello", "ts": ts, "event_ts": ts})
    ws.settle()
    assert "不在本团队" in ws.slack.messages("DSTRANGER")[-1]["text"]


def test_incident_with_text_files_it_answers_privately_and_announces(workspace: Workspace) -> None:
    ws = workspace
    status, body = ws.command("/incident", "USUNLI", "06/26 09:12 order-api 节点OOM 原因：内存泄漏 级别：C")
    assert status == 200 and body == ""
    ws.settle()
    answer = ws.slack.of("response_url")[-1].args
    assert answer["response_type"] == "ephemeral" and "已记录事件" in answer["text"]
    assert any(b["type"] == "actions" and b["elements"][0]["value"] == "1" for b in answer["blocks"])
    assert "order-api" in ws.slack.messages("C0REPORT")[-1]["text"]
    ws.command("/incident", "USUNLI", "list")
    ws.settle()
    listing = ws.slack.of("response_url")[-1].args
    assert listing["response_type"] == "ephemeral" and "#1" in listing["text"]
    assert len(ws.bot.cycle.compile(_week(ws)).incidents) == 1


def test_incident_without_text_opens_a_form_whose_submission_files_it(workspace: Workspace) -> None:
    ws = workspace
    ws.command("/incident", "UWANGQIANG", "")
    ws.settle()
    view = ws.slack.of("views.open")[-1].args["view"]
    ids = [b["block_id"] for b in view["blocks"]]
    assert ids == ["start", "system", "what", "cause", "impact", "recovered", "severity", "weight", "availability"]
    values = {"start": {"value": {"type": "plain_text_input", "value": "06/26 14:30"}},
              "system": {"value": {"type": "plain_text_input", "value": "cmb-gateway"}},
              "what": {"value": {"type": "plain_text_input", "value": "招行代扣通道返回码异常"}},
              "recovered": {"value": {"type": "plain_text_input", "value": "15:10"}},
              "severity": {"value": {"type": "static_select", "selected_option": {"value": "D"}}},
              "weight": {"value": {"type": "plain_text_input", "value": "0.5"}}}
    ws.interactive({"type": "view_submission", "user": {"id": "UWANGQIANG"}, "team": {"id": "T1"},
                    "view": {**view, "id": "V77", "state": {"values": values}}})
    ws.settle()
    incidents = ws.bot.cycle.compile(_week(ws)).incidents
    assert len(incidents) == 1 and "招行代扣通道返回码异常" in incidents[0].headline
    assert "已记录事件" in ws.replies_to("wangqiang")[-1]


def test_zhoubao_publish_is_for_editors_and_posts_the_report_once(workspace: Workspace) -> None:
    ws = workspace
    ws.command("/zhoubao", "ULINA", "publish")
    ws.settle()
    assert "只有周报编辑" in ws.slack.of("response_url")[-1].args["text"]
    assert ws.slack.messages("C0REPORT") == []
    ws.command("/zhoubao", "UZHANGWEI", "publish")
    ws.settle()
    posted = ws.slack.messages("C0REPORT")
    assert len(posted) == 1 and "2024-W26" in posted[0]["blocks"][0]["text"]["text"]
    assert ws.slack.of("files.completeUploadExternal"), "the Markdown file is attached"
    ws.dm("zhoujie", "机房迁移：切换演练完成")
    ws.settle()
    posted = ws.slack.messages("C0REPORT")
    assert len(posted) == 1 and posted[0].get("edited"), "a late answer edits the post (chat.update)"
    assert "切换演练完成" in json.dumps(posted[0]["blocks"], ensure_ascii=False)


def test_typed_mentions_are_shown_never_sent(workspace: Workspace) -> None:
    ws = workspace
    ws.bot.cycle.send_prompts("prompt", ws.clock.now)
    ws.dm("zhoujie", "机房迁移：<!channel> <!here> <@UZHANGWEI> a&b <b>")
    ws.settle()
    ws.command("/zhoubao", "UZHANGWEI", "publish")
    ws.settle()
    text = json.dumps(ws.slack.messages("C0REPORT"), ensure_ascii=False)
    assert "&lt;!channel&gt; &lt;!here&gt; &lt;@UZHANGWEI&gt; a&amp;b &lt;b&gt;" in text
    assert "<!channel>" not in text and "<@UZHANGWEI>" not in text
    assert not ws.slack.problems


def test_the_edit_button_on_an_incident_opens_a_form_that_changes_it(workspace: Workspace) -> None:
    ws = workspace
    ws.command("/incident", "USUNLI", "06/26 09:12 order-api 节点OOM")
    ws.settle()
    button = next(b for b in ws.slack.of("response_url")[-1].args["blocks"] if b["type"] == "actions")["elements"][0]
    ws.interactive({"type": "block_actions", "user": {"id": "USUNLI"}, "team": {"id": "T1"}, "trigger_id": "trig-e",
                    "actions": [{**button, "block_id": "zhoubao_incident", "action_ts": "1"}]})
    ws.settle()
    view = ws.slack.of("views.open")[-1].args["view"]
    assert view["title"]["text"] == "修改事件 #1"
    ws.interactive({"type": "view_submission", "user": {"id": "USUNLI"}, "team": {"id": "T1"},
                    "view": {**view, "id": "V9", "state": {"values": {
                        "cause": {"value": {"type": "plain_text_input", "value": "内存泄漏"}}}}}})
    ws.settle()
    [incident] = ws.bot.cycle.compile(_week(ws)).incidents
    assert incident.cause == "内存泄漏" and "已修改事件" in ws.replies_to("sunli")[-1]


def test_zhoubao_answer_opens_the_form_with_last_weeks_text(workspace: Workspace) -> None:
    ws = workspace
    ws.bot.cycle.send_prompts("prompt", ws.clock.now - timedelta(days=7))
    ws.dm("lina", "[1] 上周：商户入网方案评审", ts=ws.ts(ws.clock.now - timedelta(days=7)))
    ws.settle()
    ws.command("/zhoubao", "ULINA", "answer")
    ws.settle()
    view = ws.slack.of("views.open")[-1].args["view"]
    assert view["blocks"][0]["label"]["text"] == "聚合收单 · 业务"
    assert view["blocks"][0]["element"]["initial_value"] == "上周：商户入网方案评审"
