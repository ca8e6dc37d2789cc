"""Two ways Slack reaches the bot: HTTP (SLACK_SIGNING_SECRET) or Socket Mode (SLACK_APP_TOKEN).

Both go through `SlackIntake`: the request is journaled before Slack is answered, and the journal's
worker dispatches it into the one Bolt app. Over HTTP the runtime's Starlette app routes POST
/slack/events to `http_endpoint`; in Socket Mode, slack_sdk's `SocketModeClient` holds the WebSocket
alongside that same HTTP app (which then serves only health and metrics), and `socket_listener`
acknowledges each envelope once it is journaled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.web import WebClient
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from bot.adapters.slack.intake import SlackIntake, socket_listener

EVENTS_PATH = "/slack/events"
READ_TIMEOUT = 10.0  # seconds to receive a body: a lying Content-Length cannot hold the request for longer


def http_endpoint(intake: SlackIntake) -> Callable[[Request], Awaitable[Response]]:
    """POST /slack/events: events, slash commands and interactivity, journaled before the answer (the
    journal write runs in Starlette's thread pool, so a slow commit never holds the event loop)."""

    async def endpoint(request: Request) -> Response:
        try:
            body = await asyncio.wait_for(request.body(), READ_TIMEOUT)
        except (TimeoutError, ClientDisconnect):
            return JSONResponse({"error": "incomplete body"}, status_code=408)
        headers = {k.lower(): v for k, v in request.headers.items()}
        status, answer = await run_in_threadpool(intake.http, body, headers)
        return JSONResponse(answer, status_code=status) if answer is not None else Response(status_code=status)

    return endpoint


class SocketMode:
    """The Socket Mode connection (slack_sdk's built-in client): `connect()` returns once connected and
    keeps the socket on its own threads, `close()` ends it."""

    def __init__(self, client: SocketModeClient) -> None:
        self.client = client

    def connect(self) -> None:
        self.client.connect()

    def close(self) -> None:
        self.client.close()


def socket_mode(intake: SlackIntake, app_token: str, web_client: WebClient) -> SocketMode:
    client = SocketModeClient(app_token=app_token, web_client=web_client)
    client.socket_mode_request_listeners.append(socket_listener(intake))
    return SocketMode(client)
