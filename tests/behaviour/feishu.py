"""The behaviour driver on Feishu, against the loopback Open API (`tests/feishu/openapi.py`), by either
transport: encrypted, signed callbacks to POST /feishu/events ("http"), or data frames handed to a real
`lark.ws.Client`, which answers with a frame ("ws", the long connection; only its socket is replaced)."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from typing import Any, Literal

import lark_oapi as lark
from lark_oapi.ws.pb.pbbp2_pb2 import Frame

from bot.adapters.feishu.cards import QUESTION_INPUT
from bot.adapters.feishu.transports import event_handler
from bot.domain.team import Team
from bot.runtime.composition import FeishuParts
from bot.runtime.jobs import DueJobs
from bot.services.bot import Bot
from tests.behaviour.driver import prompt_text
from tests.fakes import FixedClock
from tests.feishu import payloads
from tests.feishu.conftest import CHANNEL, World, open_id_of, open_world, run_frame
from tests.feishu.openapi import Message


def _plain(text: str) -> str:
    """A text message back to what was meant: `<at` and `@all` carry a zero-width space so they ping nobody."""
    return text.replace("\u200b", "")


def _form(card: dict[str, Any]) -> dict[str, Any] | None:
    return next((e for e in card.get("body", {}).get("elements", []) if e.get("tag") == "form"), None)


def _divs(card: dict[str, Any]) -> list[str]:
    return [e["text"]["content"] for e in card.get("body", {}).get("elements", []) if e.get("tag") == "div"]


def _card_text(card: dict[str, Any]) -> str:
    """A card as text: a prompt as `prompt_text`, a bare form as nothing, any other card as its title and
    text blocks."""
    form = _form(card)
    if form is not None and form.get("name") == "answers":
        # The numbered inputs: one per item, then the incident question's (cards.question_inputs), each
        # labelled `[n] title`; progress and problem are extra.
        labels = [e["label"]["content"] for e in form["elements"]
                  if e.get("tag") == "input"
                  and (str(e.get("name", "")).startswith("item_") or e.get("name") == QUESTION_INPUT)]
        # and the open action items, read-only `[n] …` lines after them (issue 23)
        labels += [e["text"]["content"] for e in form["elements"]
                   if e.get("tag") == "div" and e["text"]["content"].startswith("[")
                   and e["text"].get("text_size") != "heading"]
        return prompt_text(card["header"]["title"]["content"], labels)
    if form is not None:
        return ""
    return "\n".join([card["header"]["title"]["content"], *_divs(card)])


def _button_value(card: dict[str, Any]) -> dict[str, Any]:
    form = _form(card)
    assert form is not None, "not a form card"
    button = next(e for e in form["elements"] if e.get("tag") == "button")
    return dict(button["behaviors"][0]["value"])


class FeishuDriver:
    platform = "feishu"

    def __init__(self, database_url: str, start: datetime, transport: Literal["http", "ws"] = "http",
                 team: Team | None = None) -> None:
        self.clock = FixedClock(start)
        self._stack = ExitStack()
        self.world: World = self._stack.enter_context(open_world(database_url, self.clock, team=team))
        self.bot: Bot = self.world.bot
        self.transport = transport
        self._ws: lark.ws.Client | None = None
        self._frames = itertools.count(1)
        self.me: str | None = None
        self._mine: dict[str, list[str]] = {}  # person id -> ids of their messages, oldest first
        self._told: dict[str, list[str]] = {}
        self._seen = 0  # stand-in messages already in the transcript
        self._n = 0
        self._texts: dict[str, str] = {}  # message id -> its text now (edits applied)
        self._edits = 0

    def close(self) -> None:
        self._stack.close()

    def _deliver(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Hand Feishu's event or callback to the bot; returns the callback's answer ({} for an event)."""
        if self.transport == "http":
            response = self.world.post(payload)
            assert response.status_code == 200, response.text
            return dict(response.json())
        return self._frame(payload)

    def _frame(self, payload: dict[str, Any]) -> dict[str, Any]:
        """One data frame through lark-oapi's own `ws.Client._handle_data_frame` (lark_oapi/ws/client.py),
        as `ws.Client.start()` runs it; the frame it writes back is the answer."""
        if self._ws is None:
            parts = self.world.runtime.platform
            assert isinstance(parts, FeishuParts)
            self._ws = lark.ws.Client(payloads.APP_ID, "secret", event_handler=event_handler(parts.intake),
                                      domain=self.world.standin.url, log_level=lark.LogLevel.ERROR)
        written: list[bytes] = []

        async def capture(data: bytes) -> None:
            written.append(data)

        self._ws._write_message = capture  # type: ignore[method-assign]  # the socket; everything else is real
        n = next(self._frames)
        frame = Frame(SeqID=n, LogID=n, service=1, method=1)
        for key, value in (("type", "event"), ("message_id", f"frame{n}"), ("sum", "1"), ("seq", "0"),
                           ("trace_id", f"t{n}")):
            header = frame.headers.add()
            header.key, header.value = key, value
        frame.payload = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        run_frame(self._ws._handle_data_frame(frame))
        answer = Frame()
        answer.ParseFromString(written[0])
        self.world.settle()  # acknowledged once journaled; the journal's worker does the work
        body = json.loads(answer.payload)
        assert body["code"] == 200, body
        return dict(json.loads(base64.b64decode(body["data"]))) if body.get("data") else {}

    # ----- acting -----------------------------------------------------------------------------------

    def _owner(self, m: Message) -> str | None:
        """Whom a message the bot sent was for: a DM (its p2p chat) or a reply to someone's message."""
        for p in self.bot.ctx.team.people:
            if m.chat_id == f"oc_p2p_{open_id_of(p.id)}" or m.reply_to in self._mine.get(p.id, []):
                return p.id
        return None

    def _sent(self) -> Iterator[Message]:
        messages = list(self.world.standin.messages.values())
        yield from messages[self._seen:]
        self._seen = len(messages)

    def _collect(self, answer: dict[str, Any] | None = None) -> None:
        """New messages per person, then a card callback's answer (to the actor): its card's text."""
        for m in self._sent():
            who = self._owner(m)
            text = _card_text(m.content) if m.msg_type == "interactive" else _plain(m.content.get("text", ""))
            if who is not None and text:  # a bare form card (the incident form) says nothing yet
                self._told.setdefault(who, []).append(text)
        if answer and self.me is not None:
            card = (answer.get("card") or {}).get("data")
            # The answer card's first text block is the core's reply (cards.stored_card, cards.note_card; a
            # refused incident form comes back as the form under the problem, cards.incident_card); without
            # one, the toast (its first line) is all the person reads.
            divs = _divs(card) if card is not None else []
            self._told.setdefault(self.me, []).append(divs[0] if divs else answer["toast"]["content"])

    def as_person(self, person_id: str) -> None:
        self.me = person_id

    def _message(self, text: str, **kw: Any) -> str:
        assert self.me is not None
        self._n += 1
        message_id = f"om_{self.me}_{self._n}"
        self._mine.setdefault(self.me, []).append(message_id)
        self._texts[message_id] = text
        self._deliver(payloads.message(open_id_of(self.me), text, self.clock.now, message_id=message_id, **kw))
        self._collect()
        return message_id

    def say(self, text: str) -> None:
        self._message(text)

    def _latest_prompt(self) -> Message:
        assert self.me is not None
        cards = [m for m in self.world.standin.sent(to=open_id_of(self.me), msg_type="interactive")
                 if (f := _form(m.content)) is not None and f.get("name") == "answers"]
        return cards[-1]

    def reply_in_thread(self, text: str) -> None:
        prompt = self._latest_prompt().message_id
        self._message(text, parent_id=prompt, root_id=prompt)

    def edit_last(self, text: str) -> None:
        assert self.me is not None
        message_id = self._mine[self.me][-1]
        self._texts[message_id] = text
        self._edits += 1  # each edit has its own update_time, as each is its own event
        self._deliver(payloads.updated(open_id_of(self.me), message_id, text, self.clock.now,
                                       self.clock.now + timedelta(seconds=self._edits)))
        self._collect()

    def say_edited_before_sent(self, text: str, edited: str) -> None:
        assert self.me is not None
        self._n += 1
        message_id = f"om_{self.me}_{self._n}"
        self._mine.setdefault(self.me, []).append(message_id)
        self._texts[message_id] = edited
        sent = self.clock.now
        self._deliver(payloads.updated(open_id_of(self.me), message_id, edited, sent, sent + timedelta(seconds=30)))
        self._collect()
        self._deliver(payloads.message(open_id_of(self.me), text, sent, message_id=message_id))
        self._collect()

    def say_deleted_before_sent(self, text: str) -> None:
        assert self.me is not None
        self._n += 1
        message_id = f"om_{self.me}_{self._n}"
        sent = self.clock.now
        self._deliver(payloads.recalled(message_id, f"oc_p2p_{open_id_of(self.me)}", sent + timedelta(seconds=30)))
        self._collect()
        self._deliver(payloads.message(open_id_of(self.me), text, sent, message_id=message_id))
        self._collect()

    def unfurl_last(self) -> None:
        # An update that leaves the text as it was (Feishu sends im.message.updated_v1 for the message as it is now).
        assert self.me is not None
        self.edit_last(self._texts[self._mine[self.me][-1]])

    def delete_last(self) -> None:
        assert self.me is not None
        message_id = self._mine[self.me][-1]
        # im.message.recalled_v1 as lark-oapi models it: lark_oapi/api/im/v1/model/p2_im_message_recalled_v1.py
        self._deliver(payloads.recalled(message_id, f"oc_p2p_{open_id_of(self.me)}", self.clock.now))
        self._collect()

    def incident(self, text: str) -> None:
        self._message(f"/incident {text}")

    def zhoubao(self, sub: str) -> None:
        self._message(f"/zhoubao {sub}")

    def advance_to(self, when: datetime) -> None:
        for at, _, run in DueJobs(self.bot).between(self.clock.now, when):
            self.clock.now = at
            run()
            self._collect()
        self.clock.now = when

    def _press(self, card: Message, typed: dict[str, str]) -> None:
        """Submit the card's form: every input as shown (its default, else empty) with `typed` over it, and
        a select only when chosen. The form container calls back with the whole batch of its fields at once
        (https://open.feishu.cn/document/feishu-cards/card-json-v2-components/containers/form-container)."""
        assert self.me is not None
        form = _form(card.content)
        assert form is not None, "not a form card"
        shown = {e["name"]: e.get("default_value", "") for e in form["elements"] if e.get("tag") == "input"}
        chosen = {e["name"]: e["initial_option"] for e in form["elements"]
                  if e.get("tag") == "select_static" and e.get("initial_option")}
        # card.action.trigger with action.form_value: lark_oapi/event/callback/model/p2_card_action_trigger.py
        answer = self._deliver(payloads.card_action(open_id_of(self.me), _button_value(card.content),
                                                    {**shown, **chosen, **typed}, card.message_id, self.clock.now))
        assert "toast" in answer, answer
        self._collect(answer)

    def submit_answer_form(self, *, item: str, text: str, progress: str | None = None,
                           main_problem: str | None = None) -> None:
        prompt = self._latest_prompt()
        n = _button_value(prompt.content)["items"].index(item) + 1
        typed = {f"item_{n}": text}
        if progress is not None:
            typed[f"progress_{n}"] = progress
        if main_problem is not None:
            typed[f"problem_{n}"] = main_problem
        self._press(prompt, typed)

    def submit_incident_form(self, *, start: str = "", system: str = "", what: str = "", cause: str = "",
                             impact: str = "", recovered: str = "", severity: str = "", weight: str = "",
                             attribution: str = "") -> None:
        asked = self._message("/incident")  # the card comes back as a reply
        card = next(m for m in self.world.standin.messages.values() if m.reply_to == asked)
        typed = {"start": start, "system": system, "what": what, "cause": cause, "impact": impact,
                 "recovered": recovered, "weight": weight, "attribution": attribution}
        self._press(card, {**typed, **({"severity": severity} if severity else {})})

    def refuse_next_call(self, reason: str) -> str:
        # 232011 "bot is not in the chat" (the stand-in's answer for it): Feishu's not_in_channel.
        self.world.standin.fail("POST", r"^/open-apis/im/v1/messages$", status=400, code=232011, receive_id=CHANNEL)
        return "feishu_232011"

    # ----- observing --------------------------------------------------------------------------------

    def dms_to(self, person_id: str) -> list[str]:
        return list(self._told.get(person_id, []))

    def channel_posts(self) -> list[str]:
        return [_card_text(m.current) if m.msg_type == "interactive" else _plain(m.content.get("text", ""))
                for m in self.world.standin.sent(to=CHANNEL)]
