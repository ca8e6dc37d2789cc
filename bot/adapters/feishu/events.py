"""Feishu events and card callbacks, translated into core calls.

`FeishuEvents.dispatch(payload)` is the one entry point: both transports (the long connection and the
HTTP callback) hand it the decrypted event as a dict. It drops redeliveries by `header.event_id`,
acknowledges at once, and leaves slow work to a runner. A card callback waits briefly for its result so
the card can change in the same answer; if the work is slower, the card is patched when it is done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime
from typing import Any, Protocol

from bot.adapters.feishu import cards
from bot.adapters.feishu.gateway import PLATFORM, FeishuGateway
from bot.adapters.feishu.inbound import message_text
from bot.domain.prompts import Prompt
from bot.domain.replies import item_prefix
from bot.domain.weeks import IsoWeek, WeekLabelError
from bot.services.bot import Bot
from bot.services.chat import Inbound
from bot.services.events import EventLog
from bot.text import messages

log = logging.getLogger("zhoubao.feishu.events")

MESSAGE = "im.message.receive_v1"
RECALLED = "im.message.recalled_v1"
CARD_ACTION = "card.action.trigger"
MENU = "application.bot.menu_v6"
BOT_ADDED = "im.chat.member.bot.added_v1"
P2P_ENTERED = "im.chat.access_event.bot_p2p_chat_entered_v1"
READ = "im.message.message_read_v1"
# Subscribe to exactly these in the developer console: lark-oapi answers 500 for any other type.
SUBSCRIBED = (MESSAGE, RECALLED, MENU, BOT_ADDED, P2P_ENTERED, READ)
CALLBACKS = (CARD_ACTION,)

Response = dict[str, Any]


class Runner(Protocol):
    def submit(self, fn: Callable[[], Any]) -> Future[Any]: ...


class InlineRunner:
    """Runs work at once, in the caller's thread (tests, the bench)."""

    def submit(self, fn: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn())
        except Exception as exc:  # handed to whoever waits, as a thread pool would
            future.set_exception(exc)
        return future


def background_runner() -> ThreadPoolExecutor:
    """One worker: events from one person are applied in the order they arrived."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="zhoubao-feishu")


class UnknownEvent(Exception):
    pass


class FeishuEvents:
    def __init__(self, bot: Bot, gateway: FeishuGateway, *, runner: Runner | None = None,
                 bot_open_id: str | None = None, card_wait: float = 2.0) -> None:
        self.bot, self.gateway = bot, gateway
        self.runner: Runner = runner or InlineRunner()
        self.bot_open_id = bot_open_id
        self.card_wait = card_wait
        self.log = EventLog(bot.ctx)
        self._handlers: dict[str, Callable[[dict[str, Any], dict[str, Any]], Any]] = {
            MESSAGE: self._message, RECALLED: self._recalled, MENU: self._menu,
            BOT_ADDED: _ignore, P2P_ENTERED: _ignore, READ: _ignore}

    # ----- entry point -------------------------------------------------------

    def dispatch(self, payload: dict[str, Any]) -> Response | None:
        """Handle one decrypted event or callback; returns the callback's answer (None for events)."""
        header = payload.get("header") or {}
        kind = str(header.get("event_type") or "")
        event = payload.get("event") or {}
        if kind != CARD_ACTION and kind not in self._handlers:
            raise UnknownEvent(kind or "missing header.event_type")
        event_id = str(header.get("event_id") or "")
        if event_id and self.log.seen(PLATFORM, event_id):
            return {} if kind == CARD_ACTION else None
        if kind == CARD_ACTION:
            answer = self._card_action(header, event)
            if event_id:
                self.log.done(PLATFORM, event_id)
            return answer
        handler = self._handlers[kind]

        def work() -> None:
            if _logged(kind, handler, header, event) and event_id:
                self.log.done(PLATFORM, event_id)  # only once handled: a failure is handled again if redelivered

        self.runner.submit(work)
        return None

    # ----- messages ------------------------------------------------------------

    def _message(self, header: dict[str, Any], event: dict[str, Any]) -> None:
        sender = event.get("sender") or {}
        if sender.get("sender_type", "user") != "user":
            return  # the bot's own messages and other apps'
        msg = event.get("message") or {}
        open_id = str((sender.get("sender_id") or {}).get("open_id") or "")
        message_id = str(msg.get("message_id") or "")
        chat_id = str(msg.get("chat_id") or "")
        group = msg.get("chat_type") == "group"
        text, mentioned = message_text(msg, self.bot_open_id)
        if text is None:
            self.gateway.reply_text(message_id, _only_text(self.bot.ctx.locale), chat=chat_id)
            return
        at = _millis(msg.get("create_time")) or self.bot.ctx.now()
        user = self.gateway.people.member(open_id)
        word, _, rest = text.strip().partition(" ")
        if group:
            if mentioned and word.lower() == "/incident":
                self._incident(user, rest.strip(), at, message_id, chat_id)
            return  # in groups the bot answers only /incident addressed to it
        if word.lower() == "/incident":
            self._incident(user, rest.strip(), at, message_id, chat_id)
        elif word.lower() == "/zhoubao":
            command = self.bot.commands.handle(PLATFORM, user, rest.strip(), at)
            self.gateway.reply_text(message_id, command.text, chat=chat_id)
        else:
            number, body = item_prefix(text)
            reply = self.bot.receive(Inbound(
                platform=PLATFORM, user=user, source_id=message_id, text=body, at=at,
                thread_id=msg.get("root_id") or msg.get("parent_id") or None, item_number=number))
            if reply is not None and reply.text:
                self.gateway.reply_text(message_id, reply.text, chat=chat_id)

    def _incident(self, user: str, rest: str, at: datetime, message_id: str, chat_id: str) -> None:
        if not rest:
            card = cards.incident_card(self.bot.ctx.locale, self.bot.ctx.team.incidents.severities)
            self.gateway.reply_card(message_id, card, chat=chat_id)
            return
        outcome = self.bot.incidents.handle(PLATFORM, user, rest, at, source_ref=message_id)
        self.gateway.reply_text(message_id, outcome.reply.text, chat=chat_id)

    def _recalled(self, header: dict[str, Any], event: dict[str, Any]) -> None:
        at = _millis(event.get("recall_time")) or self.bot.ctx.now()
        # The event does not name who recalled; in a chat with the bot only the author can.
        reply = self.bot.inbox.delete(PLATFORM, str(event.get("message_id") or ""), at)
        if reply is not None and reply.text and event.get("chat_id"):
            self.gateway.post_text(str(event["chat_id"]), reply.text)

    # ----- the bot menu -----------------------------------------------------------

    def _menu(self, header: dict[str, Any], event: dict[str, Any]) -> None:
        open_id = str(((event.get("operator") or {}).get("operator_id") or {}).get("open_id") or "")
        key = str(event.get("event_key") or "")
        at = _seconds(event.get("timestamp")) or self.bot.ctx.now()
        ctx = self.bot.ctx
        person = ctx.person(self.gateway.people.member(open_id))
        if person is None:
            self.gateway.send_card_to(open_id, cards.note_card("周报" if ctx.locale != "en" else "zhoubao",
                                                               messages.not_member(ctx.locale), "grey"))
            return
        if key == cards.MenuKey.FILL:
            week = ctx.week_of(at)
            items = self.bot.cycle.prompt_items(person.id, week)
            if not items:
                self.gateway.send_text(person, messages.nothing_to_answer(ctx.locale))
                return
            deadline = self.bot.cycle.deadline(week)
            text = messages.prompt_text("prompt", week.label, items, deadline, ctx.locale)
            prompt = Prompt(week=week.label, kind="prompt", items=items, text=text, locale=ctx.locale,
                            deadline=deadline)
            self.gateway.send_card(person, cards.prompt_card(prompt), key=None)
        elif key == cards.MenuKey.INCIDENT:
            self.gateway.send_card(person, cards.incident_card(ctx.locale, ctx.team.incidents.severities), key=None)
        elif key == cards.MenuKey.PROGRESS:
            self.gateway.send_text(person, self.bot.commands.handle(PLATFORM, person.id, "status", at).text)
        else:
            log.warning("unknown bot menu key", extra={"event_key": key})

    # ----- card callbacks -----------------------------------------------------------

    def _card_action(self, header: dict[str, Any], event: dict[str, Any]) -> Response:
        action = event.get("action") or {}
        value = action.get("value") or {}
        message_id = str((event.get("context") or {}).get("open_message_id") or "")
        work = {cards.Action.ANSWER.value: self._submit_answers,
                cards.Action.INCIDENT.value: self._submit_incident}.get(str(value.get("action")))
        if work is None:
            return {}
        future = self.runner.submit(lambda: work(header, event))
        try:
            toast, card = future.result(timeout=self.card_wait)
        except FutureTimeout:
            future.add_done_callback(lambda f: self._patch_later(message_id, f))
            saving = "正在保存…" if self.bot.ctx.locale != "en" else "Saving…"
            return {"toast": {"type": "info", "content": saving}}
        except Exception:
            log.exception("card action failed")
            return {"toast": {"type": "error", "content": "⚠️"}}
        return {"toast": toast, "card": {"type": "raw", "data": card}}

    def _patch_later(self, message_id: str, future: Future[Any]) -> None:
        try:
            _, card = future.result()
            self.gateway.patch_card(message_id, card)
        except Exception:
            log.exception("card not updated after a slow submission")

    def _submit_answers(self, header: dict[str, Any], event: dict[str, Any]) -> tuple[dict[str, str], cards.Card]:
        ctx = self.bot.ctx
        action = event.get("action") or {}
        value, form = action.get("value") or {}, action.get("form_value") or {}
        keys = [str(k) for k in value.get("items") or []]
        answers = {key: str(form.get(cards.input_name(n)) or "") for n, key in enumerate(keys, start=1)
                   if cards.input_name(n) in form}
        at = _millis(header.get("create_time")) or ctx.now()
        try:
            week = IsoWeek.parse(str(value.get("week")))
        except WeekLabelError:
            week = ctx.week_of(at)
        user = self.gateway.people.member(_operator(event))
        reply = self.bot.inbox.submit_form(PLATFORM, user, f"card:{header.get('event_id')}", answers, at, week)
        person = ctx.person(user)
        if person is None:
            return _toast(reply.text, False), cards.note_card("⛔", reply.text, "grey")
        items = tuple(it for it in self.bot.cycle.prompt_items(person.id, week) if it.key in keys)
        return _toast(reply.text, reply.ok), cards.stored_card(week.label, items, reply.text, ctx.locale)

    def _submit_incident(self, header: dict[str, Any], event: dict[str, Any]) -> tuple[dict[str, str], cards.Card]:
        ctx = self.bot.ctx
        form = (event.get("action") or {}).get("form_value") or {}
        at = _millis(header.get("create_time")) or ctx.now()
        user = self.gateway.people.member(_operator(event))
        outcome = self.bot.incidents.handle(PLATFORM, user, incident_command(form), at,
                                            source_ref=f"card:{header.get('event_id')}")
        if not outcome.reply.ok:  # keep the form so the person can fix what was wrong
            return _toast(outcome.reply.text, False), cards.incident_card(ctx.locale, ctx.team.incidents.severities)
        title = "🚨 事件已记录" if ctx.locale != "en" else "🚨 Incident filed"
        return _toast(outcome.reply.text, True), cards.note_card(title, outcome.reply.text, "red")


def incident_command(form: dict[str, Any]) -> str:
    """The incident form's fields as one `/incident` command in the core grammar."""
    def field(name: str) -> str:
        return " ".join(str(form.get(name) or "").split())

    parts = [field("started"), field("what")]
    for label, name in (("原因：", "cause"), ("影响：", "impact"), ("恢复：", "recovered"), ("级别：", "severity")):
        if field(name):
            parts.append(label + field(name))
    return " ".join(p for p in parts if p)


def _operator(event: dict[str, Any]) -> str:
    return str((event.get("operator") or {}).get("open_id") or "")


def _toast(text: str, ok: bool) -> dict[str, str]:
    first = (text or "").split("\n", 1)[0][:60]
    return {"type": "success" if ok else "error", "content": first or ("✅" if ok else "⚠️")}


def _only_text(locale: str) -> str:
    return "目前只能识别文字消息。" if locale != "en" else "Only text messages can be read."


def _millis(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    except (TypeError, ValueError):
        return None


def _seconds(value: Any) -> datetime | None:
    """The menu event's `timestamp` is in seconds (some tenants send milliseconds)."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(n / 1000 if n > 10**11 else n, UTC)


def _ignore(header: dict[str, Any], event: dict[str, Any]) -> None:
    """Subscribed so lark-oapi does not answer 500; nothing to do."""


def _logged(kind: str, handler: Callable[[dict[str, Any], dict[str, Any]], Any], header: dict[str, Any],
            event: dict[str, Any]) -> bool:
    """Run one handler; True when it finished (a failure is logged, not raised)."""
    try:
        handler(header, event)
        return True
    except Exception:
        log.exception("feishu event failed", extra={"event_type": kind, "event_id": header.get("event_id")})
        return False
