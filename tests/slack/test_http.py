"""The real Bolt app in the one HTTP app (uvicorn on a loopback port), with signed requests shaped as
Slack sends them; and the app's own routes: body limit, 404, /metrics, /readyz, Socket Mode."""

from __future__ import annotations

import gc
import json
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import make_url
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from bot.adapters.slack.intake import SlackIntake
from bot.adapters.slack.limits import Pacer
from bot.domain.team import Team
from bot.domain.weeks import IsoWeek
from bot.runtime.composition import Overrides, bind, compose
from tests.conftest import empty_postgres
from tests.fakes import FixedClock
from tests.schedule.tcp_proxy import CuttableProxy
from tests.slack.conftest import Workspace, make_workspace, slack_settings
from tests.slack.stand_in import SlackStandIn


def _week(ws: Workspace) -> IsoWeek:
    return ws.bot.ctx.week_of(ws.clock.now)


def _entry(ws: Workspace, key: str) -> str | None:
    entry = ws.bot.week_report.facts(_week(ws)).entries.get(key)
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


@pytest.mark.parametrize("timestamp", [b"\xb2", b"\xb9\xb2\xb3"], ids=["²", "¹²³"])
def test_a_timestamp_of_non_ascii_digits_is_refused_not_a_500(workspace: Workspace, timestamp: bytes) -> None:
    """Issue 20 item 5: '²' passed str.isdigit() and then failed int(): a 500 with a traceback. HTTP
    header bytes are read as Latin-1 (RFC 9110 obs-text), so the byte 0xB2 arrives as '²'."""
    import socket
    from urllib.parse import urlparse

    where = urlparse(workspace.base)
    body = b'{"type": "event_callback"}'
    with socket.create_connection((where.hostname, where.port), timeout=60) as conn:
        conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"X-Slack-Request-Timestamp: " + timestamp + b"\r\nX-Slack-Signature: v0=00\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        answer = conn.recv(200)
    assert answer.split(b" ")[1] == b"401", answer


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
    assert len(ws.bot.week_report.compile(_week(ws)).incidents) == 1


def test_incident_without_text_opens_a_form_whose_submission_files_it(workspace: Workspace) -> None:
    ws = workspace
    ws.command("/incident", "UWANGQIANG", "")
    ws.settle()
    view = ws.slack.shown_view()
    ids = [b["block_id"] for b in view["blocks"]]
    assert ids == ["start", "system", "what", "cause", "impact", "recovered", "severity", "weight", "attribution",
                   "availability"]
    values = {"start": {"value": {"type": "plain_text_input", "value": "06/26 14:30"}},
              "system": {"value": {"type": "plain_text_input", "value": "cmb-gateway"}},
              "what": {"value": {"type": "plain_text_input", "value": "招行代扣通道返回码异常"}},
              "recovered": {"value": {"type": "plain_text_input", "value": "15:10"}},
              "severity": {"value": {"type": "static_select", "selected_option": {"value": "D"}}},
              "weight": {"value": {"type": "plain_text_input", "value": "0.5"}}}
    ws.interactive({"type": "view_submission", "user": {"id": "UWANGQIANG"}, "team": {"id": "T1"},
                    "view": {**view, "id": "V77", "state": {"values": values}}})
    ws.settle()
    incidents = ws.bot.week_report.compile(_week(ws)).incidents
    assert len(incidents) == 1 and "招行代扣通道返回码异常" in incidents[0].headline
    assert "已记录事件" in ws.replies_to("wangqiang")[-1]


def test_zhoubao_publish_is_for_editors_and_posts_the_report_once(workspace: Workspace) -> None:
    ws = workspace
    ws.command("/zhoubao", "ULINA", "publish confirm empty")
    ws.settle()
    assert "只有周报编辑" in ws.slack.of("response_url")[-1].args["text"]
    assert ws.slack.messages("C0REPORT") == []
    ws.command("/zhoubao", "UZHANGWEI", "publish confirm empty")
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
    ws.dm("zhoujie", "机房迁移：<!channel> <!here> <@UZHANGWEI> a&amp;b &lt;b&gt;")  # as Slack escapes what was typed
    ws.settle()
    ws.command("/zhoubao", "UZHANGWEI", "publish confirm empty")
    ws.settle()
    text = json.dumps(ws.slack.messages("C0REPORT"), ensure_ascii=False)
    # Slack's markup is read as the person saw it (the composer): broadcasts become words, a mention the
    # name; both are then shown as text, and typed `&` `<` `>` escaped, so nobody is pinged.
    assert "@channel @here @张伟 a&amp;b &lt;b&gt;" in text
    assert "<!channel>" not in text and "<!here>" not in text and "<@UZHANGWEI>" not in text
    assert not ws.slack.problems


def test_the_edit_button_on_an_incident_opens_a_form_that_changes_it(workspace: Workspace) -> None:
    ws = workspace
    ws.command("/incident", "USUNLI", "06/26 09:12 order-api 节点OOM")
    ws.settle()
    button = next(b for b in ws.slack.of("response_url")[-1].args["blocks"] if b["type"] == "actions")["elements"][0]
    ws.interactive({"type": "block_actions", "user": {"id": "USUNLI"}, "team": {"id": "T1"}, "trigger_id": "trig-e",
                    "actions": [{**button, "block_id": "zhoubao_incident", "action_ts": "1"}]})
    ws.settle()
    view = ws.slack.shown_view()
    assert view["title"]["text"] == "修改事件 #1"
    ws.interactive({"type": "view_submission", "user": {"id": "USUNLI"}, "team": {"id": "T1"},
                    "view": {**view, "id": "V9", "state": {"values": {
                        "cause": {"value": {"type": "plain_text_input", "value": "内存泄漏"}}}}}})
    ws.settle()
    [incident] = ws.bot.week_report.compile(_week(ws)).incidents
    assert incident.cause == "内存泄漏" and "已修改事件" in ws.replies_to("sunli")[-1]


def test_zhoubao_answer_opens_the_form_with_last_weeks_text(workspace: Workspace) -> None:
    ws = workspace
    ws.bot.cycle.send_prompts("prompt", ws.clock.now - timedelta(days=7))
    ws.dm("lina", "[1] 上周：商户入网方案评审", ts=ws.ts(ws.clock.now - timedelta(days=7)))
    ws.settle()
    ws.command("/zhoubao", "ULINA", "answer")
    ws.settle()
    view = ws.slack.shown_view()
    assert view["blocks"][0]["label"]["text"] == "聚合收单 · 业务"
    assert view["blocks"][0]["element"]["initial_value"] == "上周：商户入网方案评审"


# ----- the HTTP app around the Bolt app ---------------------------------------------------------------


def test_a_body_over_the_limit_is_refused_before_the_signature_check_and_changes_nothing(
        workspace: Workspace) -> None:
    ws = workspace
    ws.bot.cycle.send_prompts("prompt", ws.clock.now)
    ws.settle()
    before = len(ws.slack.calls)
    big = json.dumps({"type": "event_callback", "event_id": "EvBIG", "event": {
        "type": "message", "channel_type": "im", "channel": "DCHENJING", "user": "UCHENJING",
        "text": "PCI DSS：" + "很长" * (1 << 20), "ts": ws.ts()}})
    assert len(big.encode()) > 2 << 20
    status, body, _ = ws.post(big, "application/json")  # correctly signed: the size alone refuses it
    assert status == 413 and "too large" in body
    # the same refusal when the size is not declared up front (chunked upload)
    chunks = (big.encode()[i:i + 65536] for i in range(0, len(big.encode()), 65536))
    with httpx.Client(base_url=ws.base) as client:
        assert client.post("/slack/events", content=chunks, headers={"Content-Type": "application/json"}
                           ).status_code == 413
    ws.settle()
    assert len(ws.slack.calls) == before
    assert _entry(ws, "project:PCI DSS 认证") is None


def test_an_unknown_path_is_404(workspace: Workspace) -> None:
    with httpx.Client(base_url=workspace.base) as client:
        assert client.post("/slack/event", content=b"{}").status_code == 404
        assert client.get("/nothing/here").status_code == 404
        home = client.get("/")  # the dashboard: a signed-out visit is sent to sign in
        assert home.status_code == 303 and home.headers["location"].startswith("/signin")
        assert client.get("/slack/events").status_code in (404, 405)


def _metric(text: str, name: str, **labels: str) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(f"{name}{{{want}}} ") or (not labels and line.startswith(f"{name} ")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_prompts_answers_errors_and_requests(workspace: Workspace) -> None:
    ws = workspace
    with httpx.Client(base_url=ws.base) as client:
        first = client.get("/metrics")
        assert first.status_code == 200 and first.headers["content-type"].startswith("text/plain")
        assert _metric(first.text, "zhoubao_answers_received_total", platform="slack") == 0
        ws.bot.cycle.send_prompts("prompt", ws.clock.now)
        ws.dm("chenjing", "PCI DSS：QSA 现场审计完成")
        ws.slack.fail("chat.postMessage", times=20, error="channel_not_found")
        ws.dm("lina", "[2] 对公代付：联调完成")  # stored; the confirmation is refused
        ws.settle()
        text = client.get("/metrics").text
    owners = len(ws.bot.ctx.team.owners())
    assert _metric(text, "zhoubao_prompts_sent_total", platform="slack", kind="prompt") == owners
    assert _metric(text, "zhoubao_answers_received_total", platform="slack") == 2
    assert _metric(text, "zhoubao_platform_api_errors_total", platform="slack", method="chat.postMessage",
                   code="channel_not_found") >= 1
    assert _metric(text, "zhoubao_http_request_duration_seconds_count", path="/slack/events") >= 2
    assert _metric(text, "zhoubao_http_request_duration_seconds_count", path="/metrics") == 1
    assert _metric(text, "zhoubao_spooled_answers") == 0


@pytest.mark.postgres
def test_readyz_is_503_while_the_database_is_down(team: Team, stand_in: SlackStandIn, postgres_url: str,
                                                   clock: FixedClock, tmp_path: Path) -> None:
    url = make_url(empty_postgres(postgres_url))
    proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 5432)
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    ws, http = make_workspace(team, stand_in, proxied, clock, tmp_path / "spool")
    ws.runtime.start()
    try:
        with httpx.Client(base_url=ws.base, timeout=30) as client:
            assert client.get("/readyz").status_code == 200
            proxy.cut()
            down = client.get("/readyz")
            assert down.status_code == 503 and down.json()["database"].startswith("unavailable")
            assert client.get("/healthz").status_code == 200, "liveness does not depend on the database"
            proxy.restore()
            again = client.get("/readyz")
            assert again.status_code == 200, again.text
    finally:
        http.stop()
        ws.runtime.stop()
        proxy.close()


class FakeSocket:
    """Socket Mode without Slack: records that the root connected and closed it."""

    def __init__(self, intake: SlackIntake, token: str) -> None:
        self.intake, self.token = intake, token
        self.state = "built"

    def connect(self) -> None:
        self.state = "connected"

    def close(self) -> None:
        self.state = "closed"

    def connected(self) -> bool:
        return self.state == "connected"


def test_with_socket_mode_health_readiness_and_metrics_answer_on_port(
        team: Team, stand_in: SlackStandIn, database_url: str, clock: FixedClock, tmp_path: Path) -> None:
    sockets: list[FakeSocket] = []

    def socket_mode(intake: SlackIntake, token: str) -> FakeSocket:
        sockets.append(FakeSocket(intake, token))
        return sockets[-1]

    ws, http = make_workspace(team, stand_in, database_url, clock, tmp_path / "spool",
                              Overrides(pacer=Pacer(scale=1000), socket_mode=socket_mode),
                              slack_app_token=SecretStr("xapp-test"), slack_signing_secret=None)
    ws.runtime.start()  # what `zhoubao run` does: settle the heap, scheduler, spool, then the socket
    try:
        assert gc.get_freeze_count() > 0, "what start built is frozen: full collections skip it"
        assert [s.state for s in sockets] == ["connected"] and sockets[0].token == "xapp-test"
        assert sockets[0].intake is ws.parts.intake
        with httpx.Client(base_url=ws.base) as client:
            live, ready, metrics = client.get("/healthz"), client.get("/readyz"), client.get("/metrics")
            assert live.status_code == 200 and live.json()["scheduler"]["running"]
            assert ready.status_code == 200 and ready.json()["database"] == "ok"
            assert ready.json()["platform"] == "ok"
            assert metrics.status_code == 200 and "zhoubao_answers_received_total" in metrics.text
            assert client.post("/slack/events", content=b"{}").status_code == 404  # events come over the socket
    finally:
        http.stop()
        ws.runtime.stop()
    assert sockets[0].state == "closed"
    assert ws.runtime.health.live()[0] == 503, "stopped: the scheduler no longer runs"
    assert gc.get_freeze_count() == 0, "stopped: the heap is unfrozen"


def test_readyz_is_not_ready_while_socket_mode_cannot_connect(
        team: Team, stand_in: SlackStandIn, database_url: str, clock: FixedClock, tmp_path: Path) -> None:
    """slack_sdk's own Socket Mode client, whose WebSocket never opens: apps.connections.open answers a
    loopback URL nobody listens on. The client logs the failure and keeps retrying, raising nothing."""
    ws, http = make_workspace(team, stand_in, database_url, clock, tmp_path / "spool",
                              slack_app_token=SecretStr("xapp-test"), slack_signing_secret=None)
    ws.runtime.start()
    try:
        assert stand_in.of("apps.connections.open"), "the bot asked Slack for the socket"
        with httpx.Client(base_url=ws.base, timeout=30) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json() == {"status": "not ready", "database": "ok", "scheduler": "ok",
                                    "platform": "disconnected"}
            assert client.get("/healthz").status_code == 200, "liveness: the client reconnects; a restart won't help"
    finally:
        http.stop()
        ws.runtime.stop()


def test_the_dashboard_mounts_on_the_same_app(team: Team, stand_in: SlackStandIn, database_url: str,
                                              clock: FixedClock, tmp_path: Path) -> None:
    dashboard = Starlette(routes=[Route("/", lambda request: PlainTextResponse("周报 dashboard"))])
    runtime = compose(slack_settings(stand_in, database_url, tmp_path), team, clock=clock,
                      extra_routes=[Mount("/dashboard", app=dashboard)])
    http = runtime.serve_alongside(bind(0, "127.0.0.1"))
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{http.port}", timeout=30) as client:
            assert client.get("/dashboard/").text == "周报 dashboard"
            assert client.get("/metrics").status_code == 200  # our routes come first
            assert client.post("/slack/events", content=b"x" * (2 << 20)).status_code == 413
    finally:
        http.stop()
        runtime.stop()


def test_metrics_show_requests_acknowledged_but_not_processed(workspace: Workspace) -> None:
    """The journal's backlog, for the operator: an entry this process has no handler for stays
    unprocessed, and /metrics counts it until it is processed (/readyz, anonymous, names only states)."""
    ws = workspace
    journal = ws.runtime.bot.journal
    assert journal is not None
    assert journal.record("elsewhere", "e1", "message", {"text": "x"})  # no handler here: it waits
    with httpx.Client(base_url=ws.base) as client:
        assert "zhoubao_unprocessed_requests 1.0" in client.get("/metrics").text.splitlines()
        assert "unprocessed" not in client.get("/readyz").text
        journal.register("elsewhere", lambda entry: None)  # a handler appears: the worker processes it
        ws.settle()
        assert "zhoubao_unprocessed_requests 0.0" in client.get("/metrics").text.splitlines()
