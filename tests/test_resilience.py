"""What keeps answers safe at the edges: /healthz and /readyz, events recorded only once handled, the spool."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.adapters.feishu.events import FeishuEvents, InlineRunner
from bot.runtime.composition import HttpThread, bind, build_bot
from bot.runtime.health import Health
from bot.runtime.http import build_http_app
from bot.runtime.metrics import PrometheusMetrics
from bot.services.chat import Inbound
from bot.services.events import EventLog
from storage.db import DatabaseUnavailable, session_factory
from storage.models import AnswerMessageRow
from tests.feishu import payloads
from tests.helpers import entry_text, example_team

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:9/nothing?connect_timeout=1"


@pytest.fixture
def serve() -> Iterator[Callable[[Starlette], httpx.Client]]:
    """Serve an app with uvicorn on a loopback port; a client for it."""
    running: list[tuple[HttpThread, httpx.Client]] = []

    def start(app: Starlette) -> httpx.Client:
        http = HttpThread(app, bind(0, "127.0.0.1"))
        running.append((http, httpx.Client(base_url=f"http://127.0.0.1:{http.port}", timeout=30)))
        return running[-1][1]

    yield start
    for http, client in running:
        client.close()
        http.stop()


def test_healthz_and_readyz_report_the_database_and_the_spool(database_url, chat, clock, tmp_path: Path,
                                                              serve, caplog: pytest.LogCaptureFixture) -> None:
    bot = build_bot(example_team(), chat, clock, database_url=database_url, spool_dir=tmp_path / "spool")
    up = serve(build_http_app(Health("支付技术部", bot.ctx.db, spool=bot.spool), PrometheusMetrics()))
    live, ready = up.get("/healthz"), up.get("/readyz")
    assert live.status_code == 200 and ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok"}
    assert bot.spool is not None
    bot.spool.keep(Inbound("fake", "zhoujie", "m-1", "整体进度 70%", clock.now))
    assert "zhoubao_spooled_answers 1.0" in up.get("/metrics").text
    down = serve(build_http_app(Health("支付技术部", sessionmaker(create_engine(UNREACHABLE)), spool=bot.spool),
                                  PrometheusMetrics()))
    assert down.get("/healthz").status_code == 200, "a database outage must not get the process restarted"
    with caplog.at_level("WARNING", logger="zhoubao.health"):
        ready = down.get("/readyz")
    # Anonymous callers learn which component is down, not where the database lives (issue 20 item 16).
    assert ready.status_code == 503 and ready.json() == {"status": "not ready", "database": "unavailable"}
    assert "127.0.0.1" not in ready.text and "nothing" not in ready.text and "支付技术部" not in ready.text
    # The operator finds the reason in the log.
    assert any(r.getMessage() == "not ready: database unavailable" and "127.0.0.1" in r.reason  # type: ignore[attr-defined]
               for r in caplog.records)


def test_platform_callbacks_are_answered_inside_in_flight(database_url, chat, clock, serve) -> None:
    """The HTTP app holds `in_flight` (the journal's `acking`, which its worker defers to) around each
    platform callback, from reading the body to the answer, and releases it after."""
    bot = build_bot(example_team(), chat, clock, database_url=database_url)
    depth = [0]
    seen: list[int] = []

    @contextmanager
    def in_flight() -> Iterator[None]:
        depth[0] += 1
        try:
            yield
        finally:
            depth[0] -= 1

    async def callback(request: Request) -> Response:
        seen.append(depth[0])
        return PlainTextResponse("ok")

    client = serve(build_http_app(Health("支付技术部", bot.ctx.db), PrometheusMetrics(), events={"/x/events": callback},
                                  in_flight=in_flight))
    assert client.post("/x/events", content=b"{}").text == "ok"
    assert client.post("/x/events", content=b"{}").text == "ok"
    assert seen == [1, 1] and depth[0] == 0


def test_an_answer_during_an_outage_is_spooled_then_stored(database_url, chat, clock, tmp_path: Path) -> None:
    bot = build_bot(example_team(), chat, clock, database_url=database_url, spool_dir=tmp_path / "spool")
    assert bot.spool is not None
    good = bot.ctx.db
    bot.ctx.db = sessionmaker(create_engine(UNREACHABLE))
    reply = bot.receive(Inbound("fake", "zhoujie", "m-outage", "整体进度 70%", clock.now))
    assert reply is not None and "数据库暂时不可用" in reply.text
    assert bot.spool.pending() == 1
    bot.ctx.db = good
    assert bot.spool.drain() == 1 and bot.spool.pending() == 0
    assert entry_text(bot, "okr:O3/机房迁移") == "整体进度 70%"
    assert bot.spool.drain() == 0


@dataclass
class _Members:
    def member(self, open_id: str) -> str:
        return open_id.removeprefix("ou_")


@dataclass
class _RecordingGateway:
    """What FeishuEvents needs of its gateway: who an open_id is, and a way to answer in a thread."""

    people: _Members = field(default_factory=_Members)
    replies: list[str] = field(default_factory=list)

    def reply_text(self, message_id: str, text: str, *, chat: str | None = None) -> None:
        self.replies.append(text)


def test_an_event_whose_handler_failed_is_handled_again_and_only_once(database_url, chat, clock) -> None:
    bot = build_bot(example_team(), chat, clock, database_url=database_url)
    gateway = _RecordingGateway()
    events = FeishuEvents(bot, gateway, runner=InlineRunner())  # type: ignore[arg-type]
    delivery = payloads.message("ou_zhoujie", "机房迁移：切换演练完成", clock.now, message_id="om_1", event_id="Ev1")
    good = bot.ctx.db
    bot.ctx.db = sessionmaker(create_engine(UNREACHABLE))  # the handler fails: the database is away
    with pytest.raises(DatabaseUnavailable):  # raised to the inbound journal, which keeps it for a retry
        events.dispatch(delivery)
    bot.ctx.db = good
    assert entry_text(bot, "okr:O3/机房迁移") is None and gateway.replies == []
    assert not EventLog(bot.ctx).seen("feishu", "Ev1"), "a failed event must not be recorded as handled"
    events.dispatch(delivery)  # Feishu redelivers: handled now
    assert entry_text(bot, "okr:O3/机房迁移") == "切换演练完成"
    assert gateway.replies == ["✅ 已记录：O3 平台治理 · 机房迁移"]
    assert EventLog(bot.ctx).seen("feishu", "Ev1")
    events.dispatch(delivery)  # and again: dropped, nothing stored or said twice
    assert gateway.replies == ["✅ 已记录：O3 平台治理 · 机房迁移"]
    with session_factory(bot.engine)() as s:
        assert s.scalar(select(func.count()).select_from(AnswerMessageRow)) == 1


def test_recording_an_event_twice_or_without_a_database_is_harmless(database_url, chat, clock) -> None:
    bot = build_bot(example_team(), chat, clock, database_url=database_url)
    log = EventLog(bot.ctx)
    log.done("slack", "Ev1")
    log.done("slack", "Ev1")  # a concurrent delivery recording it again is harmless
    assert log.seen("slack", "Ev1") and not log.seen("slack", "Ev3")
    bot.ctx.db = sessionmaker(create_engine(UNREACHABLE))
    assert not log.seen("slack", "Ev2"), "with the database down the message must reach the spool"
    log.done("slack", "Ev2")  # and recording quietly waits for better times
