"""Two ways Slack reaches the one Bolt app: Socket Mode (SLACK_APP_TOKEN) or HTTP (SLACK_SIGNING_SECRET).

Both turn their input into a `BoltRequest` and call `App.dispatch`. Over HTTP the runtime's Starlette app
routes POST /slack/events to `http_endpoint`; in Socket Mode, slack_bolt's `SocketModeHandler` holds the
WebSocket alongside that same HTTP app (which then serves only health and metrics).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

EVENTS_PATH = "/slack/events"


def http_endpoint(app: App) -> Callable[[Request], Awaitable[Response]]:
    """POST /slack/events: events, slash commands and interactivity, as Bolt's Starlette adapter reads them.

    Bolt's own `slack_bolt.adapter.starlette.SlackRequestHandler.handle` calls the sync `App.dispatch` on
    the event loop (slack_bolt/adapter/starlette/handler.py), so one slow request (the signature check,
    `auth.test` on the first call) would hold every other; here dispatch runs in Starlette's thread pool,
    with the adapter's own request and response translation."""

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        response = await run_in_threadpool(app.dispatch, to_bolt_request(request, body))
        return to_starlette_response(response)

    return endpoint


def socket_mode(app: App, app_token: str) -> SocketModeHandler:
    """The Socket Mode connection (slack_sdk's built-in client); `connect()` returns once connected and
    keeps the socket on its own threads, `close()` ends it."""
    return SocketModeHandler(app, app_token)
