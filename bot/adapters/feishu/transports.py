"""How events reach `FeishuEvents.dispatch`: lark-oapi's long connection (the default) or an HTTP callback.

Both hand the opened payload to `FeishuIntake`, which journals it before Feishu is answered; the
journal's worker then runs `FeishuEvents.dispatch`. The long connection goes through lark-oapi's
`EventDispatcherHandler`, with a handler registered for every subscribed type; the HTTP callback (served
by the runtime's one platform endpoint) opens the envelope itself (`envelope.open_callback`) so it can
refuse stale requests and say why it refuses.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from bot.adapters.feishu.api import FeishuApiError, OpenApi
from bot.adapters.feishu.config import FeishuSettings
from bot.adapters.feishu.envelope import Keys
from bot.adapters.feishu.events import CALLBACKS, SUBSCRIBED
from bot.adapters.feishu.intake import FeishuIntake
from bot.adapters.feishu.sdk import JSON, HttpMethod, LogLevel, P2CardActionTriggerResponse
from bot.services.metrics import NO_METRICS, Metrics

if TYPE_CHECKING:
    from lark_oapi.event.dispatcher_handler import EventDispatcherHandler
    from lark_oapi.ws.client import Client

log = logging.getLogger("zhoubao.feishu")

EVENTS_PATH = "/feishu/events"


# ----- the HTTP callback ---------------------------------------------------------


def callback(intake: FeishuIntake, keys: Keys,
             clock: Callable[[], float]) -> Callable[[bytes, Mapping[str, str]], tuple[int, dict[str, Any]]]:
    """POST /feishu/events for the runtime's HTTP app (its `Callback`): opened with `keys` at `clock()`,
    journaled, then answered (`FeishuIntake.http`)."""

    def answer(raw: bytes, headers: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        return intake.http(raw, headers, keys, clock())

    return answer


def keys_of(settings: FeishuSettings) -> Keys:
    token = settings.feishu_verification_token
    key = settings.feishu_encrypt_key
    return Keys(token.get_secret_value() if token else None, key.get_secret_value() if key else None)


# ----- the long connection ---------------------------------------------------------


def _as_dict(obj: Any) -> dict[str, Any]:
    """lark-oapi's typed event back to the JSON Feishu sent (its own encoder, so no field is lost)."""
    return dict(json.loads(JSON.marshal(obj) or "{}"))


def event_handler(intake: FeishuIntake) -> EventDispatcherHandler:
    """lark-oapi's dispatcher with every subscribed type and callback journaled through `intake.take`
    before lark-oapi acknowledges the frame."""
    # Imported here, so only the long connection loads lark-oapi's event processors (about 500 modules);
    # lark_oapi's package-wide import stays deferred (`sdk`, imported above).
    from lark_oapi.event.dispatcher_handler import EventDispatcherHandler

    builder = EventDispatcherHandler.builder("", "")
    for kind in SUBSCRIBED:
        builder.register_p2_customized_event(kind, lambda ev: intake.take(_as_dict(ev)))
    assert CALLBACKS == ("card.action.trigger",)
    builder.register_p2_card_action_trigger(
        lambda ev: P2CardActionTriggerResponse(intake.take(_as_dict(ev)) or {}))
    return builder.build()


def ws_client(settings: FeishuSettings, intake: FeishuIntake) -> Client:
    """The long connection: no public URL; Feishu authenticates the app when it connects."""
    from lark_oapi.ws.client import Client

    assert settings.feishu_app_id and settings.feishu_app_secret is not None
    return Client(settings.feishu_app_id, settings.feishu_app_secret.get_secret_value(),
                          event_handler=event_handler(intake), domain=settings.feishu_domain.rstrip("/"),
                          log_level=LogLevel.INFO)


class LongConnection:
    """`lark_oapi.ws.Client.start()` blocks forever on lark-oapi's own event loop (lark_oapi/ws/client.py), so it
    runs on a daemon thread beside the HTTP app; the SDK offers no way to stop it, so `close()` leaves it
    to end with the process."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self._thread: threading.Thread | None = None

    def connect(self) -> None:
        self._thread = threading.Thread(target=self.client.start, name="zhoubao-feishu-ws", daemon=True)
        self._thread.start()

    def close(self) -> None:
        log.info("feishu: leaving the long connection")

    def connected(self) -> bool:
        """True while the long connection is open. lark-oapi keeps the open WebSocket in `_conn` and sets it
        to None when it drops and while it reconnects (lark_oapi/ws/client.py `_connect`, `_disconnect`,
        lark-oapi 1.7.5); it has no public accessor, so it is read here, in the one place that knows the SDK.
        A start that failed for good (bad credentials) ends the thread."""
        return self._thread is not None and self._thread.is_alive() and getattr(self.client, "_conn", None) is not None


# ----- the Open API ----------------------------------------------------------------


def open_api(settings: FeishuSettings, metrics: Metrics = NO_METRICS) -> OpenApi:
    if not settings.feishu_app_id or settings.feishu_app_secret is None:
        raise ValueError("set FEISHU_APP_ID and FEISHU_APP_SECRET")
    return OpenApi(settings.feishu_app_id, settings.feishu_app_secret.get_secret_value(),
                   domain=settings.feishu_domain, metrics=metrics)


def bot_open_id(api: OpenApi) -> str | None:
    """The bot's own open_id, to tell an @mention of the bot from others (None if Feishu will not say)."""
    try:
        body = api.call(HttpMethod.GET, "/open-apis/bot/v3/info")
    except FeishuApiError as exc:
        log.warning("bot info unavailable; any @mention in a group counts", extra={"reason": exc.reason})
        return None
    return (body.get("bot") or {}).get("open_id")
