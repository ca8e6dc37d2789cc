"""How events reach `FeishuEvents.dispatch`: lark-oapi's long connection (the default) or an HTTP callback.

Both hand the same dict to the same dispatcher. The long connection goes through lark-oapi's
`EventDispatcherHandler`, with a handler registered for every subscribed type; the HTTP endpoint opens
the envelope itself (`envelope.open_callback`) so it can refuse stale requests and say why it refuses.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import lark_oapi as lark
from lark_oapi.event.callback.model.p2_card_action_trigger import P2CardActionTriggerResponse

from bot.adapters.feishu.api import FeishuApiError, OpenApi
from bot.adapters.feishu.config import FeishuSettings
from bot.adapters.feishu.envelope import Keys, Refused, is_url_verification, open_callback
from bot.adapters.feishu.events import (
    CALLBACKS,
    SUBSCRIBED,
    FeishuEvents,
    Runner,
    UnknownEvent,
    background_runner,
)
from bot.adapters.feishu.gateway import FeishuGateway
from bot.adapters.feishu.people import People
from bot.domain.team import Team
from bot.services.bot import Bot
from bot.services.chat import ChatPort

Probe = Callable[[], tuple[int, dict[str, Any]]]

log = logging.getLogger("zhoubao.feishu")

EVENTS_PATH = "/feishu/events"


# ----- the HTTP callback ---------------------------------------------------------

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_MAX_BODY = 1 << 20


def wsgi_app(events: FeishuEvents, keys: Keys, clock: Callable[[], float] = time.time,
             path: str = EVENTS_PATH, probe: Callable[[], tuple[int, dict[str, Any]]] | None = None) -> WsgiApp:
    """POST /feishu/events: url_verification answered at once; events acknowledged, then handled.
    GET /healthz: the bot's state from `probe` (database, scheduler, spool)."""

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") == "GET":
            code, state = probe() if probe is not None else (200, {"status": "ok"})
            return _answer(start_response, HTTPStatus(code), state)
        if environ.get("PATH_INFO") != path or environ.get("REQUEST_METHOD") != "POST":
            return _answer(start_response, HTTPStatus.NOT_FOUND, {"msg": "not found"})
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > _MAX_BODY:
            return _answer(start_response, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"msg": "too large"})
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
        try:
            payload = open_callback(body, headers, keys, clock())
        except Refused as exc:
            log.warning("feishu callback refused", extra={"reason": exc.reason})
            return _answer(start_response, HTTPStatus(exc.status), {"msg": exc.reason})
        if is_url_verification(payload):
            return _answer(start_response, HTTPStatus.OK, {"challenge": payload.get("challenge", "")})
        try:
            result = events.dispatch(payload)
        except UnknownEvent as exc:
            return _answer(start_response, HTTPStatus.BAD_REQUEST, {"msg": f"unhandled event type {exc}"})
        return _answer(start_response, HTTPStatus.OK, result if result is not None else {"msg": "success"})

    return application


def _answer(start_response: Callable[..., Any], status: HTTPStatus, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    start_response(f"{status.value} {status.phrase}", [("Content-Type", "application/json; charset=utf-8"),
                                                       ("Content-Length", str(len(data)))])
    return [data]


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # access logs would drown the useful lines
        pass


def http_server(app: WsgiApp, port: int, host: str = "0.0.0.0") -> WSGIServer:
    """A threaded HTTP server for the callback (port 0 picks a free one)."""
    return make_server(host, port, app, server_class=_ThreadingServer, handler_class=_QuietHandler)


# ----- the long connection ---------------------------------------------------------


def _as_dict(obj: Any) -> dict[str, Any]:
    """lark-oapi's typed event back to the JSON Feishu sent (its own encoder, so no field is lost)."""
    return dict(json.loads(lark.JSON.marshal(obj) or "{}"))


def event_handler(events: FeishuEvents) -> lark.EventDispatcherHandler:
    """lark-oapi's dispatcher with every subscribed type and callback routed to `events.dispatch`."""
    builder = lark.EventDispatcherHandler.builder("", "")
    for kind in SUBSCRIBED:
        builder.register_p2_customized_event(kind, lambda ev: events.dispatch(_as_dict(ev)))
    assert CALLBACKS == ("card.action.trigger",)
    builder.register_p2_card_action_trigger(
        lambda ev: P2CardActionTriggerResponse(events.dispatch(_as_dict(ev)) or {}))
    return builder.build()


def ws_client(settings: FeishuSettings, events: FeishuEvents) -> lark.ws.Client:
    """The long connection: no public URL; Feishu authenticates the app when it connects."""
    assert settings.feishu_app_id and settings.feishu_app_secret is not None
    return lark.ws.Client(settings.feishu_app_id, settings.feishu_app_secret.get_secret_value(),
                          event_handler=event_handler(events), domain=settings.feishu_domain.rstrip("/"),
                          log_level=lark.LogLevel.INFO)


# ----- composition -------------------------------------------------------------------


@dataclass
class FeishuRuntime:
    api: OpenApi
    people: People
    gateway: FeishuGateway
    bot: Bot
    events: FeishuEvents


def open_api(settings: FeishuSettings) -> OpenApi:
    if not settings.feishu_app_id or settings.feishu_app_secret is None:
        raise ValueError("set FEISHU_APP_ID and FEISHU_APP_SECRET")
    return OpenApi(settings.feishu_app_id, settings.feishu_app_secret.get_secret_value(),
                   domain=settings.feishu_domain)


def bot_open_id(api: OpenApi) -> str | None:
    """The bot's own open_id, to tell an @mention of the bot from others (None if Feishu will not say)."""
    try:
        body = api.call(lark.HttpMethod.GET, "/open-apis/bot/v3/info")
    except FeishuApiError as exc:
        log.warning("bot info unavailable; any @mention in a group counts", extra={"reason": exc.reason})
        return None
    return (body.get("bot") or {}).get("open_id")


def build_runtime(bot_factory: Callable[[ChatPort], Bot], team: Team, settings: FeishuSettings, *,
                  api: OpenApi | None = None, runner: Runner | None = None) -> FeishuRuntime:
    api = api or open_api(settings)
    people = People(api, team)
    gateway = FeishuGateway(api, people)
    bot = bot_factory(gateway)
    events = FeishuEvents(bot, gateway, runner=runner or background_runner(), bot_open_id=bot_open_id(api))
    return FeishuRuntime(api, people, gateway, bot, events)


def keys_of(settings: FeishuSettings) -> Keys:
    token = settings.feishu_verification_token
    key = settings.feishu_encrypt_key
    return Keys(token.get_secret_value() if token else None, key.get_secret_value() if key else None)


def _alive() -> tuple[int, dict[str, Any]]:
    return 200, {"status": "ok"}


def serve(bot_factory: Callable[[ChatPort], Bot], team: Team, settings: FeishuSettings,
          on_start: Callable[[Bot], Probe] | None = None) -> None:
    """Run the Feishu bot until interrupted: the long connection, or HTTP on PORT with FEISHU_EVENT_MODE=http.

    `bot_factory(chat)` builds the bot around the Feishu gateway; `on_start(bot)` starts the scheduler and returns the /healthz probe.
    """
    keys = keys_of(settings)
    if settings.feishu_event_mode == "http" and not (keys.verification_token and keys.encrypt_key):
        raise ValueError("FEISHU_EVENT_MODE=http needs FEISHU_VERIFICATION_TOKEN and FEISHU_ENCRYPT_KEY")
    runtime = build_runtime(bot_factory, team, settings)
    probe: Probe = on_start(runtime.bot) if on_start is not None else _alive
    if settings.feishu_event_mode == "http":
        server = http_server(wsgi_app(runtime.events, keys, probe=probe), settings.port)
        log.info("feishu: listening on http://0.0.0.0:%s%s", settings.port, EVENTS_PATH)
        try:
            server.serve_forever()
        finally:
            server.server_close()
        return
    log.info("feishu: connecting over the long connection")
    ws_client(settings, runtime.events).start()
