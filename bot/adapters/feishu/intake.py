"""Feishu's events and card callbacks into the inbound journal before the answer, out of it through
`FeishuEvents.dispatch` — the same translation on first processing and after a restart.

`FeishuIntake.take(payload)` is the ack path for both transports once the envelope is open (the HTTP
callback after `envelope.open_callback`, the long connection after lark-oapi decoded the frame): the
payload is classified, journaled, and only then answered. A card callback's answer can change the card
(https://open.feishu.cn/document/feishu-cards/card-callback-communication: answer within 3 seconds), so
`take` waits up to `card_wait` for the worker to process it; if it is slower, Feishu gets a "saving"
toast and the card is patched when the work is done — also when that is after a restart, since the
journal replays the callback then. This is the one slow-card path.

Keys: a message is `message:<message_id>` (Feishu's message id is unique; a redelivered event carries
it again), an edit `edit:<message_id>:<update_time>` (each edit once), a recall `recall:<message_id>`,
anything else `event:<header.event_id>` (the id Feishu repeats on a redelivery: https://open.feishu.cn/document/server-docs/event-subscription-guide/event-subscription-configure-/encrypt-key-encryption-configuration-case).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.adapters.feishu import cards
from bot.adapters.feishu.envelope import Keys, Refused, is_url_verification, open_callback
from bot.adapters.feishu.events import (
    CARD_ACTION,
    MESSAGE,
    RECALLED,
    SUBSCRIBED,
    UPDATED,
    FeishuEvents,
    UnknownEvent,
)
from bot.adapters.feishu.gateway import PLATFORM, FeishuGateway
from bot.services.journal import Entry, InboundJournal, MalformedPayload
from storage.db import DatabaseUnavailable

if TYPE_CHECKING:
    from bot.adapters.feishu.routing import TeamEvents

log = logging.getLogger("zhoubao.feishu.intake")

Response = dict[str, Any]


class Malformed(ValueError):
    """A payload from Feishu whose shape cannot be used; str() is the reason (logged once, then acked)."""


@dataclass(frozen=True)
class Kind:
    key: str
    kind: str  # the event type


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise Malformed(f"{what} is {type(value).__name__}, not an object")
    return value


def classify(payload: Any) -> Kind:
    """The journal key and event type of one opened v2 event or callback; Malformed for a shape Feishu
    does not send, UnknownEvent for a type the app does not subscribe to."""
    payload = _mapping(payload, "the event")
    header = _mapping(payload.get("header"), "header")
    kind = header.get("event_type")
    if not isinstance(kind, str) or not kind:
        raise Malformed("header.event_type is missing")
    if kind != CARD_ACTION and kind not in SUBSCRIBED:
        raise UnknownEvent(kind)
    event = _mapping(payload.get("event"), "event")
    event_id = header.get("event_id")
    if not isinstance(event_id, str) or not event_id:
        raise Malformed("header.event_id is missing")
    if kind == MESSAGE:
        message = _mapping(event.get("message"), "event.message")
        message_id = message.get("message_id")
        if not isinstance(message_id, str) or not message_id:
            raise Malformed("event.message.message_id is missing")
        _mapping(event.get("sender") or {}, "event.sender")
        return Kind(f"message:{message_id}", kind)
    if kind == UPDATED:  # one key per edit: the message and when it was edited (else the event)
        message = _mapping(event.get("message"), "event.message")
        message_id = message.get("message_id")
        if not isinstance(message_id, str) or not message_id:
            raise Malformed("event.message.message_id is missing")
        return Kind(f"edit:{message_id}:{message.get('update_time') or event_id}", kind)
    if kind == RECALLED:
        message_id = event.get("message_id")
        if not isinstance(message_id, str) or not message_id:
            raise Malformed("event.message_id is missing")
        return Kind(f"recall:{message_id}", kind)
    if kind == CARD_ACTION:
        action = _mapping(event.get("action"), "event.action")
        _mapping(action.get("value") or {}, "event.action.value")
        _mapping(action.get("form_value") or {}, "event.action.form_value")
        _mapping(event.get("context") or {}, "event.context")
    return Kind(f"event:{event_id}", kind)


class FeishuIntake:
    def __init__(self, journal: InboundJournal, events: FeishuEvents | TeamEvents, gateway: FeishuGateway, *,
                 card_wait: float = 2.0) -> None:
        self.journal = journal
        self.events = events
        self.gateway = gateway
        self.card_wait = card_wait
        self._waiting: dict[str, Future[Response]] = {}
        self._lock = threading.Lock()
        journal.register(PLATFORM, self.replay)

    def http(self, raw: bytes, headers: Mapping[str, str], keys: Keys, now: float) -> tuple[int, Response]:
        """(status, JSON body) for one POST /feishu/events (`headers` with lower-case names): refused
        with a 4xx before anything is journaled, or journaled and answered 200."""
        try:
            payload = open_callback(raw, headers, keys, now)
        except Refused as exc:
            log.warning("feishu callback refused", extra={"reason": exc.reason})
            return exc.status, {"msg": exc.reason}
        if is_url_verification(payload):
            return 200, {"challenge": str(payload.get("challenge") or "")}
        try:
            answer = self.take(payload)
        except UnknownEvent as exc:
            return 400, {"msg": f"unhandled event type {exc}"}
        except DatabaseUnavailable:  # no spool to keep it in: Feishu redelivers on a non-200
            return 503, {"msg": "temporarily unavailable"}
        return 200, answer if answer is not None else {"msg": "success"}

    def take(self, payload: Any) -> Response | None:
        """Journal one opened payload; returns the callback's answer (None for an event). Raises
        UnknownEvent for an unsubscribed type, DatabaseUnavailable when it cannot be kept (no spool)."""
        try:
            kind = classify(payload)
        except Malformed as exc:
            log.warning("feishu payload acknowledged but not used: %s", exc)
            return {} if _is_card(payload) else None
        if kind.kind != CARD_ACTION:
            self.journal.record(PLATFORM, kind.key, kind.kind, payload)
            return None
        future: Future[Response] = Future()
        with self._lock:
            self._waiting[kind.key] = future
        if not self.journal.record(PLATFORM, kind.key, kind.kind, payload):
            with self._lock:
                self._waiting.pop(kind.key, None)
            return {}  # a redelivery of a callback already taken
        try:
            return future.result(timeout=self.card_wait)
        except FutureTimeout:
            with self._lock:
                late = self._waiting.pop(kind.key, None) is not None
            if not late:  # processed in the meantime
                return future.result()
            return {"toast": cards.saving_toast(self.events.bot.ctx.locale)}

    def replay(self, entry: Entry) -> None:
        """Process one journaled payload through the event translation."""
        try:
            answer = self.events.dispatch(dict(entry.payload)) or {}
        except MalformedPayload:
            if entry.kind == CARD_ACTION:  # a waiting callback answers at once, leaving the card as it is
                with self._lock:
                    waiting = self._waiting.pop(entry.key, None)
                if waiting is not None:
                    waiting.set_result({})
            raise
        if entry.kind != CARD_ACTION:
            return
        with self._lock:
            future = self._waiting.pop(entry.key, None)
        if future is not None:
            future.set_result(answer)
            return
        # Nobody waits any more (slow, or replayed after a restart): change the card in place.
        card = (answer.get("card") or {}).get("data")
        message_id = str(((entry.payload.get("event") or {}).get("context") or {}).get("open_message_id") or "")
        if card and message_id:
            self.gateway.patch_card(message_id, card)


def _is_card(payload: Any) -> bool:
    header = payload.get("header") if isinstance(payload, Mapping) else None
    return isinstance(header, Mapping) and header.get("event_type") == CARD_ACTION
