"""Two ways Slack reaches the one Bolt app: Socket Mode (SLACK_APP_TOKEN) or HTTP (SLACK_SIGNING_SECRET).

Both turn their input into a `BoltRequest` and call `App.dispatch`; HTTP is a WSGI callable
(served here by a threaded stdlib server, no extra dependency).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.request import BoltRequest

from bot.adapters.slack.app import Workers, build_app
from bot.adapters.slack.config import SlackSettings
from bot.adapters.slack.gateway import SlackGateway, make_client
from bot.adapters.slack.limits import Pacer
from bot.domain.team import Team
from bot.services.bot import Bot
from bot.services.chat import ChatPort
from bot.services.events import DmChannels

log = logging.getLogger("zhoubao.slack")
EVENTS_PATH = "/slack/events"
_MAX_BODY = 1_000_000
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Probe = Callable[[], tuple[int, dict[str, Any]]]


def wsgi_app(app: App, path: str = EVENTS_PATH, probe: Probe | None = None) -> WsgiApp:
    """POST `path` takes events, slash commands and interactivity; GET /healthz reports the bot's state
    (`probe`: database, scheduler, spool), or just that the process is up.

    A plain WSGI callable: the built-in threaded server runs it, and so can gunicorn or uvicorn's WSGI shim.
    """

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method, route = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "")
        if route == "/healthz" and method == "GET":
            code, state = probe() if probe is not None else (200, {"status": "ok"})
            data = json.dumps(state, ensure_ascii=False).encode("utf-8")
            start_response(f"{code} {HTTPStatus(code).phrase}", [("Content-Type", "application/json")])
            return [data]
        if route != path or method != "POST":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        length = min(int(environ.get("CONTENT_LENGTH") or 0), _MAX_BODY)
        body = environ["wsgi.input"].read(length).decode("utf-8") if length else ""
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        resp = app.dispatch(BoltRequest(body=body, query=environ.get("QUERY_STRING", ""), headers=headers))
        payload = (resp.body or "").encode("utf-8")
        out = [(k, v[0]) for k, v in resp.headers.items() if v and k.lower() != "content-length"]
        start_response(f"{resp.status} {HTTPStatus(resp.status).phrase}", out + [("Content-Length", str(len(payload)))])
        return [payload]

    return application


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 256


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # access logs would drown the useful lines
        log.debug("http " + format, *args)


def http_server(app: App, port: int, host: str = "0.0.0.0", probe: Probe | None = None) -> WSGIServer:
    """A threaded HTTP server for the app (one thread per connection; Bolt acks without blocking on work)."""
    return make_server(host, port, wsgi_app(app, probe=probe), server_class=_ThreadingServer, handler_class=_QuietHandler)


@dataclass
class SlackRuntime:
    """Everything `serve` builds, for tests and benches that drive it without a network."""

    bot: Bot
    gateway: SlackGateway
    app: App
    workers: Workers


def build_runtime(bot_factory: Callable[[ChatPort], Bot], team: Team, settings: SlackSettings, *,
                  workers: Workers | None = None, token_verification: bool = True,
                  pacer: Pacer | None = None) -> SlackRuntime:
    """Gateway → bot → Bolt app, wired once; DM channel ids are stored in the database."""
    if settings.slack_bot_token is None:
        raise ValueError("SLACK_BOT_TOKEN is not set")
    client = make_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
    gateway = SlackGateway(client, team, pacer=pacer)
    bot = bot_factory(gateway)
    gateway.dm_store = DmChannels(bot.ctx)
    workers = workers or Workers()
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    app = build_app(bot, gateway, signing_secret=secret, workers=workers, token_verification=token_verification)
    return SlackRuntime(bot, gateway, app, workers)


def socket_mode_handler(app: App, app_token: str) -> Any:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    return SocketModeHandler(app, app_token)


def _alive() -> tuple[int, dict[str, Any]]:
    return 200, {"status": "ok"}


def serve(bot_factory: Callable[[ChatPort], Bot], team: Team, settings: SlackSettings,
          on_start: Callable[[Bot], Probe] | None = None) -> None:
    """Run the Slack bot until interrupted: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on PORT.

    `bot_factory(chat)` builds the bot around the Slack gateway; `on_start(bot)` starts the scheduler and returns the /healthz probe.
    """
    if settings.slack_app_token is None and settings.slack_signing_secret is None:
        raise ValueError("set SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP)")
    runtime = build_runtime(bot_factory, team, settings)
    probe: Probe = on_start(runtime.bot) if on_start is not None else _alive
    if settings.slack_app_token is not None:
        log.info("slack: connecting in Socket Mode")
        socket_mode_handler(runtime.app, settings.slack_app_token.get_secret_value()).start()
        return
    server = http_server(runtime.app, settings.port, probe=probe)
    log.info("slack: listening on http://0.0.0.0:%s%s", settings.port, EVENTS_PATH)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        runtime.workers.shutdown(wait=True)
