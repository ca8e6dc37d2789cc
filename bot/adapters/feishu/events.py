"""Feishu events and card callbacks, translated into core calls.

`FeishuEvents.dispatch(payload)` is the one entry point: the journal's worker hands it each opened
event or callback (`intake.FeishuIntake.replay`), once per journal key, so redeliveries never get here.
It does the work there and then; a card callback returns the answer that changes the card (the intake
hands it to the waiting callback, or patches the card when nobody waits any more).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bot.adapters.feishu import cards, payloads
from bot.adapters.feishu.composer import feishu_message_text
from bot.adapters.feishu.gateway import PLATFORM, FeishuGateway
from bot.services.bot import Bot
from bot.services.chat import ChatError, Inbound
from bot.services.delivery import DeliveryFailures
from bot.text.catalogue import say
from storage.db import DatabaseUnavailable

log = logging.getLogger("zhoubao.feishu.events")

MESSAGE = "im.message.receive_v1"
RECALLED = "im.message.recalled_v1"
# A message edited by its sender. lark-oapi 1.7.5 has no model for it (it is registered with
# `register_p2_customized_event`, transports.py); its `event` is receive_v1's sender and message, the message
# carrying the new content and `update_time` (the field lark_oapi/api/im/v1/model/event_message.py has beside
# create_time; public Feishu adapters read the event so, e.g. the BullX gateway's Elixir `Feishu.EventMapper`
# maps im.message.updated_v1 through the same sender/message code as receive_v1).
UPDATED = "im.message.updated_v1"
CARD_ACTION = "card.action.trigger"
MENU = "application.bot.menu_v6"
BOT_ADDED = "im.chat.member.bot.added_v1"
P2P_ENTERED = "im.chat.access_event.bot_p2p_chat_entered_v1"
READ = "im.message.message_read_v1"
# Handled (lark-oapi answers 500 for a subscribed type without a handler): what docs/feishu.md asks to
# subscribe to, plus two that earlier setups subscribed and that are acknowledged and ignored.
TO_SUBSCRIBE = (MESSAGE, UPDATED, RECALLED, MENU, BOT_ADDED)
SUBSCRIBED = (*TO_SUBSCRIBE, P2P_ENTERED, READ)
CALLBACKS = (CARD_ACTION,)

Response = dict[str, Any]


class UnknownEvent(Exception):
    pass


class FeishuEvents:
    def __init__(self, bot: Bot, gateway: FeishuGateway, *, bot_open_id: str | None = None) -> None:
        self.bot, self.gateway = bot, gateway
        self.bot_open_id = bot_open_id
        self._handlers: dict[str, Callable[[dict[str, Any], dict[str, Any]], Any]] = {
            MESSAGE: self._message, UPDATED: self._updated, RECALLED: self._recalled, MENU: self._menu,
            BOT_ADDED: _ignore, P2P_ENTERED: _ignore, READ: _ignore}

    # ----- entry point -------------------------------------------------------

    def dispatch(self, payload: dict[str, Any]) -> Response | None:
        """Handle one decrypted event or callback; returns the callback's answer (None for events). Raises
        MalformedPayload, before anything is done, for a shape Feishu does not send (`payloads.check`)."""
        payloads.check(payload)
        header = payload.get("header") or {}
        kind = str(header.get("event_type") or "")
        event = payload.get("event") or {}
        if kind != CARD_ACTION and kind not in self._handlers:
            raise UnknownEvent(kind or "missing header.event_type")
        if kind == CARD_ACTION:
            return self._card_action(header, event)
        _logged(kind, self._handlers[kind], header, event, self.bot.failures)
        return None

    def user_name(self, open_id: str) -> str | None:
        """A mentioned team member by the team file's name (composer.Names); anyone else is left to the
        name Feishu put in the message's `mentions`."""
        person = self.bot.ctx.team.person_by_id.get(self.gateway.people.member(open_id))
        return person.name if person is not None else None

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
        text, mentioned = feishu_message_text(msg, self)
        if text is None:
            self.gateway.reply_text(message_id, self.bot.inbox.unreadable().text, chat=chat_id)
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
            self._zhoubao(user, rest.strip(), at, message_id, chat_id)
        else:
            reply = self.bot.inbox.receive(Inbound(
                platform=PLATFORM, user=user, source_id=message_id, text=text, at=at,
                thread_id=msg.get("root_id") or msg.get("parent_id") or None))
            if reply is not None and reply.text:
                self.gateway.reply_text(message_id, reply.text, chat=chat_id)

    def _incident(self, user: str, rest: str, at: datetime, message_id: str, chat_id: str) -> None:
        if not rest:
            card = cards.incident_card(self.bot.ctx.locale, self.bot.ctx.team.incidents.severities)
            self.gateway.reply_card(message_id, card, chat=chat_id)
            return
        outcome = self.bot.incidents.handle(PLATFORM, user, rest, at, source_ref=message_id)
        self.gateway.reply_text(message_id, outcome.reply.text, chat=chat_id)

    def _zhoubao(self, user: str, rest: str, at: datetime, message_id: str, chat_id: str) -> None:
        try:
            reply = self.bot.commands.handle(PLATFORM, user, rest, at)
            if reply.prompt is not None:  # `/zhoubao answer [week]`: the prompt's form
                self.gateway.reply_prompt(message_id, reply.prompt, chat=chat_id)
                return
        except ChatError as exc:
            reply = self.bot.failures.refused(exc)
        self.gateway.reply_text(message_id, reply.text, chat=chat_id)

    def _updated(self, header: dict[str, Any], event: dict[str, Any]) -> None:
        """An edited message: its new text replaces what it said (the core keeps the old as history)."""
        sender = event.get("sender") or {}
        msg = event.get("message") or {}
        if sender.get("sender_type", "user") != "user" or msg.get("chat_type") == "group":
            return  # the bot's own messages; in groups only /incident is read, and an edit files nothing new
        text, _ = feishu_message_text(msg, self)
        if text is None or text.strip().partition(" ")[0].lower() in ("/incident", "/zhoubao"):
            return  # a command was run when sent (and stored no answer): editing it runs nothing again
        message_id = str(msg.get("message_id") or "")
        at = _millis(msg.get("update_time")) or _millis(header.get("create_time")) or self.bot.ctx.now()
        user = self.gateway.people.member(str((sender.get("sender_id") or {}).get("open_id") or ""))
        reply = self.bot.inbox.edit(PLATFORM, message_id, text, at, user=user, sent_at=_millis(msg.get("create_time")),
                                    thread_id=msg.get("root_id") or msg.get("parent_id") or None)
        if reply is not None and reply.text:
            edit = f"edit:{message_id}:{msg.get('update_time') or header.get('event_id')}"  # as the journal keys it
            self.gateway.reply_text(message_id, reply.text, chat=str(msg.get("chat_id") or ""), once_per=edit)

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
        user = self.gateway.people.member(open_id)
        if key == cards.MenuKey.FILL:
            reply = self.bot.forms.open_answers(user, None, at)
        elif key == cards.MenuKey.INCIDENT:
            reply = self.bot.forms.open_incident(user)
            if reply.ok:
                self.gateway.send_card_to(open_id, cards.incident_card(ctx.locale, ctx.team.incidents.severities))
                return
        elif key == cards.MenuKey.PROGRESS:
            reply = self.bot.commands.handle(PLATFORM, user, "status", at)
        else:
            log.warning("unknown bot menu key", extra={"event_key": key})
            return
        if reply.prompt is not None:
            for card in cards.prompt_cards(reply.prompt):
                self.gateway.send_card_to(open_id, card)
        else:
            self.gateway.send_text_to(open_id, reply.text)

    # ----- card callbacks -----------------------------------------------------------

    def _card_action(self, header: dict[str, Any], event: dict[str, Any]) -> Response:
        action = event.get("action") or {}
        value = action.get("value") or {}
        work = {cards.Action.ANSWER.value: self._submit_answers,
                cards.Action.INCIDENT.value: self._submit_incident,
                cards.Action.QUESTION_NONE.value: self._question_none,
                cards.Action.QUESTION_FILE.value: self._question_file}.get(str(value.get("action")))
        if work is None:
            return {}
        try:
            toast, card = work(header, event)
        except ChatError as exc:
            return {"toast": _toast(self.bot.failures.refused(exc).text, False)}
        except DatabaseUnavailable:
            raise  # journaled: processed again when the database is back, and the card patched then
        except Exception:
            log.exception("card action failed")
            return {"toast": {"type": "error", "content": "⚠️"}}
        if card is None:  # a button that leaves the card as it is
            return {"toast": toast}
        return {"toast": toast, "card": {"type": "raw", "data": card}}

    def _submit_answers(self, header: dict[str, Any], event: dict[str, Any]) -> tuple[dict[str, str], cards.Card]:
        ctx = self.bot.ctx
        action = event.get("action") or {}
        value, form = action.get("value") or {}, action.get("form_value") or {}
        keys = [str(k) for k in value.get("items") or []]
        at = _millis(header.get("create_time")) or ctx.now()
        user = self.gateway.people.member(_operator(event))
        week = str(value.get("week") or "")
        reply = self.bot.forms.submit_answers(PLATFORM, user, f"card:{header.get('event_id')}", week,
                                              cards.answer_forms(keys, form), at, cards.question_form(form))
        now = self.bot.forms.open_answers(user, week, at)  # what is stored for those items now
        if now.prompt is None:
            return _toast(reply.text, False), cards.refused_card(reply.text, ctx.locale)
        items = tuple(it for it in now.prompt.items if it.key in keys)
        return _toast(reply.text, reply.ok), cards.stored_card(now.prompt.week, items, reply.text, ctx.locale)

    def _submit_incident(self, header: dict[str, Any], event: dict[str, Any]) -> tuple[dict[str, str], cards.Card]:
        ctx = self.bot.ctx
        form = cards.incident_form((event.get("action") or {}).get("form_value") or {})
        at = _millis(header.get("create_time")) or ctx.now()
        user = self.gateway.people.member(_operator(event))
        question = str(((event.get("action") or {}).get("value") or {}).get("question") or "") or None
        outcome = self.bot.forms.submit_incident(PLATFORM, user, f"card:{header.get('event_id')}", form, at,
                                                 for_question=question)
        if not outcome.reply.ok:  # keep the form, as typed, so the person can fix what was wrong
            return _toast(outcome.reply.text, False), cards.incident_card(
                ctx.locale, ctx.team.incidents.severities, problem=outcome.reply.text, form=form,
                for_question=question)
        return _toast(outcome.reply.text, True), cards.incident_filed_card(outcome.reply.text, ctx.locale)


    def _question_none(self, header: dict[str, Any], event: dict[str, Any]) -> tuple[dict[str, str], None]:
        value = (event.get("action") or {}).get("value") or {}
        at = _millis(header.get("create_time")) or self.bot.ctx.now()
        user = self.gateway.people.member(_operator(event))
        reply = self.bot.forms.nothing_to_add(PLATFORM, user, f"card:{header.get('event_id')}",
                                              str(value.get("week") or ""), at)
        if reply.text:
            self.gateway.send_text_to(_operator(event), reply.text)
        return _toast(reply.text, reply.ok), None

    def _question_file(self, header: dict[str, Any], event: dict[str, Any]) -> tuple[dict[str, str], None]:
        ctx = self.bot.ctx
        value = (event.get("action") or {}).get("value") or {}
        reply = self.bot.forms.open_incident(self.gateway.people.member(_operator(event)))
        if not reply.ok:
            return _toast(reply.text, False), None
        self.gateway.send_card_to(_operator(event), cards.incident_card(
            ctx.locale, ctx.team.incidents.severities, for_question=str(value.get("week") or "") or None))
        return _toast(say(ctx.locale, "form.question_file"), True), None


def _operator(event: dict[str, Any]) -> str:
    return str((event.get("operator") or {}).get("open_id") or "")


def _toast(text: str, ok: bool) -> dict[str, str]:
    first = (text or "").split("\n", 1)[0][:60]
    return {"type": "success" if ok else "error", "content": first or ("✅" if ok else "⚠️")}


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
            event: dict[str, Any], failures: DeliveryFailures) -> None:
    """Run one handler. A refused Open API call goes to the core (which tells the editors); an outage is
    raised (the journal keeps the event and processes it again when the database is back); any other
    failure is logged, not raised."""
    try:
        handler(header, event)
    except ChatError as exc:
        failures.tell_editors(exc)
    except DatabaseUnavailable:
        raise
    except Exception:
        log.exception("feishu event failed", extra={"event_type": kind, "event_id": header.get("event_id")})
