"""What keeps answers safe at the edges: /healthz and /readyz with the journal's spool and backlog, and
platform callbacks answered inside the journal's ack window. (The journal itself: tests/test_journal.py.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import FrozenInstanceError
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bot.runtime.composition import HttpThread, bind, build_bot
from bot.runtime.health import Health
from bot.runtime.http import build_http_app
from bot.runtime.metrics import PrometheusMetrics
from tests.helpers import database_cut, example_team


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
    up = serve(build_http_app(Health("支付技术部", bot.ctx.db, journal=bot.journal), PrometheusMetrics()))
    live, ready = up.get("/healthz"), up.get("/readyz")
    assert live.status_code == 200 and ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok"}
    assert bot.journal is not None and bot.journal.spool is not None
    # what the journal keeps while the database is away (its spool's record shape)
    bot.journal.spool.keep({"platform": "fake", "key": "m-1", "kind": "message", "payload": "{}",
                            "received_at": clock.now.isoformat()})
    assert "zhoubao_spooled_answers 1.0" in up.get("/metrics").text
    with database_cut(bot.engine):
        assert up.get("/healthz").status_code == 200, "a database outage must not get the process restarted"
        with caplog.at_level("WARNING", logger="zhoubao.health"):
            ready = up.get("/readyz")
    # Anonymous callers learn which component is down, not where the database lives (issue 20 item 16).
    assert ready.status_code == 503 and ready.json() == {"status": "not ready", "database": "unavailable"}
    assert "支付技术部" not in ready.text and str(bot.engine.url.database or "") not in ready.text
    # The operator finds the reason in the log.
    assert any(r.getMessage() == "not ready: database unavailable" and r.reason  # type: ignore[attr-defined]
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

    def callback(raw: bytes, headers: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        seen.append(depth[0])
        return 200, {"got": raw.decode(), "type": headers.get("content-type")}

    client = serve(build_http_app(Health("支付技术部", bot.ctx.db), PrometheusMetrics(), events={"/x/events": callback},
                                  in_flight=in_flight))
    answer = client.post("/x/events", content=b"{}", headers={"Content-Type": "application/json"})
    assert answer.json() == {"got": "{}", "type": "application/json"}  # headers reach it with lower-case names
    assert client.post("/x/events", content=b"{}").status_code == 200
    assert seen == [1, 1] and depth[0] == 0


def test_the_services_context_is_frozen(database_url, chat, clock) -> None:
    """An outage is faked by cutting the connection, never by swapping the session factory under the services."""
    bot = build_bot(example_team(), chat, clock, database_url=database_url)
    with pytest.raises(FrozenInstanceError):
        bot.ctx.db = bot.ctx.db  # type: ignore[misc]
