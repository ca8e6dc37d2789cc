"""A request body that never finishes, or lies in its Content-Length, is cut on every route of the one HTTP
app, the dashboard's included (issue 20, items 3 and 6): answered 408 and the connection closed."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount

from bot.adapters.web import DashboardConfig, build_dashboard
from bot.runtime.dashboard import sign_in_link
from bot.runtime.health import Health
from bot.runtime.http import build_http_app
from bot.runtime.metrics import PrometheusMetrics
from tests.conftest import migrated_sqlite
from tests.fakes import FakeChat, FixedClock
from tests.helpers import make_bot
from tests.web.conftest import SECRET
from tests.web.live import LiveServer

READ_DEADLINE = 60.0  # generous: the answer is due 10 s after the request began, however busy the machine


async def platform_callback(request: Request) -> Response:
    """A route that reads its body with no timeout of its own, as any new route might."""
    return PlainTextResponse(str(len(await request.body())))


@pytest.fixture
def served(tmp_path: Path, chat: FakeChat, clock: FixedClock) -> Iterator[tuple[str, int]]:
    """The runtime's HTTP app with the dashboard mounted; (a signed-in cookie header, the port)."""
    bot = make_bot(migrated_sqlite(tmp_path / 'b.db'), chat, clock)
    with LiveServer() as live:
        config = DashboardConfig(secret=SECRET, public_url=live.url)
        live.app = build_http_app(Health("支付技术部", bot.ctx.db), PrometheusMetrics(),
                                       events={"/x/events": platform_callback},
                                       extra=[Mount("/", app=build_dashboard(bot, config))])
        with httpx.Client(base_url=live.url, timeout=30) as browser:
            link = sign_in_link(bot.ctx, config, "zhangwei")[0]
            csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get(link).text)
            assert csrf is not None
            browser.post("/signin/link", data={"csrf": csrf.group(1), "token": httpx.URL(link).params["token"]})
            cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
        assert cookie
        yield cookie, live.port


def stalled(port: int, path: str, declared: int, cookie: str = "") -> str:
    """Send the headers and 2 of the `declared` body bytes, then read until the server closes."""
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {declared}\r\n" + (f"Cookie: {cookie}\r\n" if cookie else "") + "\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=READ_DEADLINE) as sock:
        sock.sendall(head.encode() + b"ab")
        answer = b""
        try:
            while chunk := sock.recv(4096):
                answer += chunk
        except TimeoutError:
            return answer.decode(errors="replace") + f"\n[no close within {READ_DEADLINE} s]"
    return answer.decode(errors="replace")


@pytest.mark.parametrize("path, declared, signed_in", [
    ("/x/events", 100, False),  # a platform callback
    ("/x/events", 2_000_000, False),  # declared over the 1 MiB limit: the drain before the 413 is cut too
    ("/signout", 100, False),  # a dashboard form, not signed in
    ("/week/2024-W26/items", 100, True),  # a dashboard edit, signed in
    ("/week/2024-W26/items", 2_000_000, True),
], ids=["platform", "platform-lying-length", "dashboard-signout", "dashboard-edit", "dashboard-lying-length"])
def test_a_stalled_body_is_cut_on_every_route(served: tuple[str, int], path: str, declared: int,
                                              signed_in: bool) -> None:
    cookie, port = served
    answer = stalled(port, path, declared, cookie if signed_in else "")
    assert answer.startswith("HTTP/1.1 408 "), answer
    assert "connection: close" in answer.lower() and "[no close" not in answer
