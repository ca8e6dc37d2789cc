"""One Feishu app serving several teams of a department: each event goes to the team the core's
`TeamRouting` names, from what this module reads off Feishu's payload (the sender, the thread or card it
answers, the message an edit or recall is about, a command's words). Mapping only; the rule is the core's."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.adapters.feishu.events import CARD_ACTION, MENU, MESSAGE, RECALLED, UPDATED, FeishuEvents, Response
from bot.adapters.feishu.gateway import FeishuGateway
from bot.services.bot import Bot
from bot.services.routing import Routed, TeamRouting

_COMMANDS = ("/incident", "/zhoubao")


class TeamEvents:
    """`FeishuEvents.dispatch` for every team the app serves (`events`, by team id)."""

    def __init__(self, teams: TeamRouting, events: Mapping[int, FeishuEvents]) -> None:
        self.teams = teams
        self.events = dict(events)

    @property
    def bot(self) -> Bot:
        """The first team's bot (what an answer given before the routing, such as "saving", speaks as)."""
        return self.teams.first

    def dispatch(self, payload: dict[str, Any]) -> Response | None:
        """Route one decrypted event or callback to its team's `FeishuEvents.dispatch`; when the core asks
        which team, say so to the sender (a callback's answer is then a toast)."""
        if len(self.teams.teams) == 1:
            return self.events[self.teams.first.ctx.team_id].dispatch(payload)
        header = payload.get("header") or {}
        kind = str(header.get("event_type") or "")
        event = payload.get("event") or {}
        open_id, command, thread, source = _addressed(kind, event)
        text = command or ""
        group = (event.get("message") or {}).get("chat_type") == "group"
        if kind not in (MESSAGE, UPDATED, RECALLED, CARD_ACTION, MENU) or (group and command is None):
            # Not a person's word to the bot (in a group only `/incident` is read): the first team ignores it.
            return self.events[self.teams.first.ctx.team_id].dispatch(payload)
        routed = self.teams.route(lambda bot: self._member(bot, open_id), text=text, thread_id=thread,
                                  source_id=source)
        first = self.events[self.teams.first.ctx.team_id]
        if routed.bot is None:
            return self._ask(first.gateway, kind, event, open_id, routed)
        if text and routed.text != text:  # `--team x` taken off a command: the team's handler reads the rest
            payload = _with_command_text(payload, routed.text)
        return self.events[routed.bot.ctx.team_id].dispatch(payload)

    def _member(self, bot: Bot, open_id: str) -> str | None:
        if not open_id:
            return None
        person = self.events[bot.ctx.team_id].gateway.people.member(open_id)
        return person if person in bot.ctx.team.person_by_id else None

    @staticmethod
    def _ask(gateway: FeishuGateway, kind: str, event: dict[str, Any], open_id: str, routed: Routed) -> Response | None:
        assert routed.reply is not None
        text = routed.reply.text
        if kind == CARD_ACTION:
            return {"toast": {"type": "warning", "content": text}}
        msg = event.get("message") or {}
        if kind == MESSAGE and msg.get("message_id"):
            gateway.reply_text(str(msg["message_id"]), text, chat=str(msg.get("chat_id") or ""))
        elif open_id and kind in (MENU, UPDATED):
            gateway.send_text_to(open_id, text)
        return None


def _addressed(kind: str, event: dict[str, Any]) -> tuple[str, str | None, str | None, str | None]:
    """(sender's open_id, a command's text after its word (None: not a command), thread, message id) as the
    routing reads them."""
    if kind in (MESSAGE, UPDATED):
        sender = event.get("sender") or {}
        msg = event.get("message") or {}
        open_id = str((sender.get("sender_id") or {}).get("open_id") or "")
        thread = msg.get("root_id") or msg.get("parent_id") or None
        source = str(msg.get("message_id") or "") or None
        command = _command(msg) if kind == MESSAGE else None
        return open_id, command[1] if command else None, str(thread) if thread else None, source
    if kind == RECALLED:
        return "", None, None, str(event.get("message_id") or "") or None
    if kind == CARD_ACTION:
        operator = event.get("operator") or {}
        card = str((event.get("context") or {}).get("open_message_id") or "") or None
        return str(operator.get("open_id") or ""), None, card, None  # a prompt's card: that prompt's team
    operator = ((event.get("operator") or {}).get("operator_id") or {})
    return str(operator.get("open_id") or ""), None, None, None


def _command(msg: Mapping[str, Any]) -> tuple[str, str] | None:
    """(command word, the rest) of a text message that is `/incident …` or `/zhoubao …`, else None."""
    if msg.get("message_type") != "text":
        return None
    try:
        text = str(json.loads(str(msg.get("content") or "{}")).get("text") or "")
    except (ValueError, AttributeError):
        return None
    word, _, rest = text.strip().partition(" ")
    # In a group the message starts with the bot's mention (`@_user_1 /incident …`).
    if word.startswith("@_user_") and rest:
        word, _, rest = rest.strip().partition(" ")
    return (word, rest.strip()) if word.lower() in _COMMANDS else None


def _with_command_text(payload: dict[str, Any], rest: str) -> dict[str, Any]:
    """The payload with its command's text after the word replaced by `rest` (the `--team` word removed)."""
    event = dict(payload.get("event") or {})
    msg = dict(event.get("message") or {})
    content = json.loads(str(msg.get("content") or "{}"))
    text = str(content.get("text") or "")
    at = min((i for i in (text.find(w) for w in _COMMANDS) if i >= 0), default=-1)
    if at >= 0:
        word = text[at:].split(" ", 1)[0]
        content["text"] = f"{text[:at]}{word} {rest}".rstrip()
    msg["content"] = json.dumps(content, ensure_ascii=False)
    event["message"] = msg
    return {**payload, "event": event}
