"""The behaviour driver on Feishu: encrypted, signed callbacks to POST /feishu/events and card actions,
answered through the real adapter against the loopback Open API (`tests/feishu/openapi.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from typing import Any

from bot.runtime.jobs import DueJobs
from bot.services.bot import Bot
from tests.behaviour.driver import Unsupported, prompt_text
from tests.fakes import FixedClock
from tests.feishu import payloads
from tests.feishu.conftest import CHANNEL, World, open_id_of, open_world
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
        labels = [e["label"]["content"] for e in form["elements"] if e.get("tag") == "input"]
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

    def __init__(self, database_url: str, start: datetime) -> None:
        self.clock = FixedClock(start)
        self._stack = ExitStack()
        self.world: World = self._stack.enter_context(open_world(database_url, self.clock))
        self.bot: Bot = self.world.bot
        self.me: str | None = None
        self._mine: dict[str, list[str]] = {}  # person id -> ids of their messages, oldest first
        self._told: dict[str, list[str]] = {}
        self._seen = 0  # stand-in messages already in the transcript
        self._n = 0

    def close(self) -> None:
        self._stack.close()

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
            is_form = card is not None and _form(card) is not None
            # The answer card's first block is the core's reply (cards.stored_card, cards.note_card); a refused
            # form comes back as the form again, and the toast is all the person reads.
            told = answer["toast"]["content"] if card is None or is_form else _divs(card)[0]
            self._told.setdefault(self.me, []).append(told)

    def as_person(self, person_id: str) -> None:
        self.me = person_id

    def _message(self, text: str, **kw: Any) -> str:
        assert self.me is not None
        self._n += 1
        message_id = f"om_{self.me}_{self._n}"
        self._mine.setdefault(self.me, []).append(message_id)
        payload = payloads.message(open_id_of(self.me), text, self.clock.now, message_id=message_id, **kw)
        assert self.world.post(payload).status_code == 200
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
        raise Unsupported("the Feishu adapter subscribes to no message-edit event (SUBSCRIBED in events.py)")

    def delete_last(self) -> None:
        assert self.me is not None
        message_id = self._mine[self.me][-1]
        # im.message.recalled_v1: https://open.feishu.cn/document/server-docs/im-v1/message/events/recalled
        payload = payloads.recalled(message_id, f"oc_p2p_{open_id_of(self.me)}", self.clock.now)
        assert self.world.post(payload).status_code == 200
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

    def _press(self, card: Message, form_value: dict[str, str]) -> None:
        assert self.me is not None
        # card.action.trigger with form_value: https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-callback-communication
        response = self.world.post(payloads.card_action(open_id_of(self.me), _button_value(card.content), form_value,
                                                        card.message_id, self.clock.now))
        assert response.status_code == 200
        self._collect(response.json())

    def submit_answer_form(self, *, item: str, text: str, progress: str | None = None,
                           main_problem: str | None = None) -> None:
        if progress is not None or main_problem is not None:
            raise Unsupported("the Feishu prompt card has no progress or main-problem input (cards.prompt_card)")
        prompt = self._latest_prompt()
        n = _button_value(prompt.content)["items"].index(item) + 1
        self._press(prompt, {f"item_{n}": text})

    def submit_incident_form(self, *, start: str = "", system: str = "", what: str = "", cause: str = "",
                             impact: str = "", recovered: str = "", severity: str = "", weight: str = "") -> None:
        if system or weight:
            raise Unsupported("the Feishu incident card has no system or weight input (cards.INCIDENT_FIELDS)")
        asked = self._message("/incident")  # the card comes back as a reply
        card = next(m for m in self.world.standin.messages.values() if m.reply_to == asked)
        typed = {"started": start, "what": what, "cause": cause, "impact": impact, "recovered": recovered,
                 "severity": severity}
        self._press(card, {k: v for k, v in typed.items() if v})

    def refuse_next_call(self, reason: str) -> str:
        # 232011 "bot is not in the chat" (the stand-in's answer for it): Feishu's not_in_channel.
        self.world.standin.fail("POST", r"^/open-apis/im/v1/messages$", status=400, code=232011)
        return "feishu_232011"

    # ----- observing --------------------------------------------------------------------------------

    def dms_to(self, person_id: str) -> list[str]:
        return list(self._told.get(person_id, []))

    def channel_posts(self) -> list[str]:
        return [_card_text(m.current) if m.msg_type == "interactive" else _plain(m.content.get("text", ""))
                for m in self.world.standin.sent(to=CHANNEL)]
