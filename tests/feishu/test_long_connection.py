"""The long connection: frames as lark-oapi's ws.Client receives them reach the same handlers."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import lark_oapi as lark
import pytest
from lark_oapi.ws.pb.pbbp2_pb2 import Frame
from pydantic import SecretStr

from bot.adapters.feishu.events import SUBSCRIBED
from bot.adapters.feishu.intake import FeishuIntake
from bot.adapters.feishu.transports import LongConnection, event_handler
from bot.domain.weeks import IsoWeek
from bot.runtime.composition import FeishuParts, Overrides, bind, compose
from bot.runtime.settings import Settings
from tests.feishu import payloads
from tests.feishu.conftest import World, open_id_of, run_frame


def _deliver(world: World, payload: dict[str, Any]) -> dict[str, Any]:
    """Hand one data frame to a real `lark.ws.Client` and return the answer frame it writes back."""
    parts = world.runtime.platform
    assert isinstance(parts, FeishuParts)
    client = lark.ws.Client(payloads.APP_ID, "secret", event_handler=event_handler(parts.intake),
                            domain=world.standin.url, log_level=lark.LogLevel.ERROR)
    written: list[bytes] = []

    async def capture(data: bytes) -> None:
        written.append(data)

    client._write_message = capture  # type: ignore[method-assign]  # the socket; everything else is real
    frame = Frame(SeqID=1, LogID=1, service=1, method=1)
    for key, value in (("type", "event"), ("message_id", "m1"), ("sum", "1"), ("seq", "0"), ("trace_id", "t")):
        header = frame.headers.add()
        header.key, header.value = key, value
    frame.payload = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    run_frame(client._handle_data_frame(frame))
    answer = Frame()
    answer.ParseFromString(written[0])
    world.settle()  # acknowledged once journaled; the journal's worker does the rest
    return dict(json.loads(answer.payload))


def test_a_message_over_the_long_connection_is_stored_and_answered(world: World) -> None:
    payload = payloads.message(open_id_of("zhoujie"), "机房迁移：长连接收到的进展", world.clock.now, message_id="om_ws")
    answer = _deliver(world, payload)
    assert answer["code"] == 200
    report = world.bot.ctx.renderer.markdown(world.bot.week_report.compile(IsoWeek.of(world.clock.now)))
    assert "长连接收到的进展" in report
    assert any("已记录" in t for t in world.replies_to("om_ws"))
    # The same event again (Feishu redelivers on a reconnect) changes nothing.
    assert _deliver(world, payload)["code"] == 200
    assert len(world.replies_to("om_ws")) == 1


def test_a_card_submission_over_the_long_connection_answers_with_the_new_card(world: World) -> None:
    world.bot.cycle.send_prompts()
    prompt = world.prompt_to("chenjing")
    form = next(e for e in prompt.content["body"]["elements"] if e["tag"] == "form")
    value = next(e for e in form["elements"] if e["tag"] == "button")["behaviors"][0]["value"]
    answer = _deliver(world, payloads.card_action(open_id_of("chenjing"), value,
                                                  {"item_1": "差距分析完成，整体进度 45%"}, prompt.message_id,
                                                  world.clock.now))
    assert answer["code"] == 200
    data = json.loads(base64.b64decode(answer["data"]))
    assert data["toast"]["type"] == "success"
    assert "差距分析完成" in json.dumps(data["card"]["data"], ensure_ascii=False)
    assert "差距分析完成" in world.bot.ctx.renderer.markdown(world.bot.week_report.compile(IsoWeek.of(world.clock.now)))


def test_every_subscribed_type_has_a_handler(world: World) -> None:
    for kind in SUBSCRIBED:
        answer = _deliver(world, payloads.event(kind, {}, world.clock.now))
        assert answer["code"] == 200, kind  # lark-oapi answers 500 for a type nobody registered
    assert _deliver(world, payloads.event("drive.file.created_v1", {}, world.clock.now))["code"] == 500


def test_the_runtime_is_wired_from_settings(world: World, database_url: str, tmp_path: Path) -> None:
    settings = Settings(feishu_app_id=payloads.APP_ID, feishu_app_secret=SecretStr("secret"),
                        feishu_domain=world.standin.url, database_url=database_url, spool_dir=tmp_path,
                        _env_file=None)  # type: ignore[call-arg]
    runtime = compose(settings, world.team, clock=world.clock, overrides=Overrides())
    parts = runtime.platform
    assert isinstance(parts, FeishuParts)
    assert parts.events.bot_open_id == world.standin.bot_open_id
    assert runtime.bot.ctx.chat is parts.gateway
    assert isinstance(runtime.connector, LongConnection) and isinstance(runtime.connector.client, lark.ws.Client)
    # no callback route; the dashboard is mounted at / after the runtime's own routes
    assert [r.path for r in runtime.http.routes] == ["/healthz", "/readyz", "/metrics", ""]
    runtime.stop()


def test_http_mode_needs_the_token_and_the_encrypt_key(world: World, database_url: str, tmp_path: Path) -> None:
    settings = Settings(feishu_app_id=payloads.APP_ID, feishu_app_secret=SecretStr("secret"),
                        feishu_event_mode="http", feishu_verification_token=SecretStr("t"),
                        database_url=database_url, spool_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="FEISHU_ENCRYPT_KEY"):
        compose(settings, world.team, clock=world.clock)


class FakeLongConnection:
    """The long connection without Feishu: records that the root connected and closed it."""

    def __init__(self, intake: FeishuIntake) -> None:
        self.intake = intake
        self.state = "built"

    def connect(self) -> None:
        self.state = "connected"

    def close(self) -> None:
        self.state = "closed"

    def connected(self) -> bool:
        return self.state == "connected"


class NeverConnects(FakeLongConnection):
    """A long connection that never opens (Feishu unreachable): connect() returns, the socket stays down."""

    def connect(self) -> None:
        self.state = "connecting"


def test_with_the_long_connection_health_readiness_and_metrics_answer_on_port(
        world: World, database_url: str, tmp_path: Path) -> None:
    settings = Settings(feishu_app_id=payloads.APP_ID, feishu_app_secret=SecretStr("secret"),
                        feishu_domain=world.standin.url, database_url=database_url, spool_dir=tmp_path,
                        _env_file=None)  # type: ignore[call-arg]
    connections: list[FakeLongConnection] = []

    def long_connection(_: object, intake: FeishuIntake) -> FakeLongConnection:
        connections.append(FakeLongConnection(intake))
        return connections[-1]

    runtime = compose(settings, world.team, clock=world.clock,
                      overrides=Overrides(long_connection=long_connection))
    http = runtime.serve_alongside(bind(0, "127.0.0.1"))
    runtime.start()
    try:
        assert isinstance(runtime.platform, FeishuParts)
        assert [c.state for c in connections] == ["connected"] and connections[0].intake is runtime.platform.intake
        with httpx.Client(base_url=f"http://127.0.0.1:{http.port}", timeout=30) as client:
            assert client.get("/healthz").status_code == 200
            ready = client.get("/readyz")
            assert ready.status_code == 200 and ready.json()["database"] == "ok" and ready.json()["platform"] == "ok"
            metrics = client.get("/metrics")
            assert metrics.status_code == 200 and "zhoubao_answers_received_total" in metrics.text
            assert client.post("/feishu/events", content=b"{}").status_code == 404  # events come over the socket
    finally:
        http.stop()
        runtime.stop()
    assert connections[0].state == "closed"


def test_readyz_is_not_ready_while_the_long_connection_is_down(world: World, database_url: str,
                                                               tmp_path: Path) -> None:
    settings = Settings(feishu_app_id=payloads.APP_ID, feishu_app_secret=SecretStr("secret"),
                        feishu_domain=world.standin.url, database_url=database_url, spool_dir=tmp_path,
                        _env_file=None)  # type: ignore[call-arg]
    runtime = compose(settings, world.team, clock=world.clock,
                      overrides=Overrides(long_connection=lambda _, intake: NeverConnects(intake)))
    http = runtime.serve_alongside(bind(0, "127.0.0.1"))
    runtime.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{http.port}", timeout=30) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json() == {"status": "not ready", "database": "ok", "scheduler": "ok",
                                    "platform": "disconnected"}
            assert client.get("/healthz").status_code == 200
    finally:
        http.stop()
        runtime.stop()
