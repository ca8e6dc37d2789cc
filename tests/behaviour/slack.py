"""The behaviour driver on Slack, against the loopback Web API (`tests/slack/stand_in.py`), by either
transport into the one real Bolt app: signed Events API, slash-command and interactivity requests over HTTP
("http"), or the same payloads as Socket Mode envelopes through Bolt's `SocketModeHandler` ("socket", the
default deployment; only the WebSocket is replaced)."""

from __future__ import annotations

import itertools
import json
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl

from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.adapters.slack.transports import socket_mode
from bot.domain.team import Team
from bot.runtime.jobs import DueJobs
from bot.services.bot import Bot
from tests.behaviour.driver import prompt_of
from tests.fakes import FixedClock
from tests.helpers import example_team
from tests.slack.conftest import Workspace, make_workspace, user_id
from tests.slack.stand_in import SlackStandIn


def _plain(mrkdwn: str) -> str:
    """Slack's text back to what was meant: `& < >` were escaped for mrkdwn."""
    return mrkdwn.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@dataclass
class SocketWorkspace(Workspace):
    """The workspace with Slack's three kinds of request delivered as Socket Mode envelopes instead.

    Envelope types and payloads as slack_sdk's SocketModeClient hands them to its listeners:
    events_api (the event_callback body), slash_commands (the command's fields), interactive (the payload).
    """

    handler: Any = None
    acks: list[SocketModeResponse] = field(default_factory=list)
    _envelopes: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _envelope(self, kind: str, payload: dict[str, Any]) -> int:
        envelope_id = f"env{next(self._envelopes)}"
        listener = self.handler.client.socket_mode_request_listeners[-1]  # journals, then acknowledges
        listener(self.handler.client, SocketModeRequest(type=kind, envelope_id=envelope_id, payload=payload))
        assert self.acks and self.acks[-1].envelope_id == envelope_id, "not acknowledged"
        return 200

    def post(self, body: str, content_type: str, *, timestamp: int | None = None, secret: str = "",
             headers: dict[str, str] | None = None) -> tuple[int, str, float]:
        if content_type == "application/json":
            return self._envelope("events_api", json.loads(body)), "", 0.0
        form = dict(parse_qsl(body))
        if "payload" in form:
            return self._envelope("interactive", json.loads(form["payload"])), "", 0.0
        return self._envelope("slash_commands", form), "", 0.0


def _is_prompt(message: dict[str, Any]) -> bool:
    return any(b.get("block_id") == "zhoubao_prompt" for b in message.get("blocks") or [])


class SlackDriver:
    platform = "slack"

    def __init__(self, database_url: str, start: datetime, transport: Literal["http", "socket"] = "http",
                 team: Team | None = None) -> None:
        team = team or example_team()
        self.slack = SlackStandIn(users={p.email: user_id(p.id) for p in team.people if p.email}).start()
        self.clock = FixedClock(start)
        self.ws: Workspace
        self._spool = tempfile.TemporaryDirectory()
        self.ws, self._server = make_workspace(team, self.slack, database_url, self.clock,
                                               Path(self._spool.name) / "spool")
        if transport == "socket":
            handler = socket_mode(self.ws.parts.intake, "xapp-test", self.ws.parts.gateway.client)
            socket = SocketWorkspace(self.ws.runtime, self.slack, self.ws.base, self.clock, handler=handler)
            handler.client.send_socket_mode_response = socket.acks.append  # the WebSocket is Slack's side
            self.ws = socket
        self.bot: Bot = self.ws.runtime.bot
        self.me: str | None = None
        self._mine: dict[str, list[str]] = {}  # person id -> ts of their messages, oldest first
        self._told: dict[str, list[str]] = {}
        self._seen: set[str] = set()  # ts of bot messages already in the transcript
        self._texts: dict[str, str] = {}  # ts of a person's message -> its text now
        self._responses = 0  # response_url answers already in the transcript

    def close(self) -> None:
        self.ws.settle()
        self._server.stop()
        self.ws.runtime.stop()
        self.slack.stop()
        self._spool.cleanup()

    # ----- acting -----------------------------------------------------------------------------------

    def _collect(self) -> None:
        """After the work is done: new DMs per person, then the ephemeral answers (to the actor)."""
        self.ws.settle()
        for person in self.bot.ctx.team.people:
            for m in self.slack.messages("D" + person.id.upper()):
                if m["ts"] not in self._seen:
                    self._seen.add(m["ts"])
                    text = _plain(m["text"])
                    self._told.setdefault(person.id, []).append(prompt_of(text) if _is_prompt(m) else text)
        responses = self.slack.of("response_url")
        for call in responses[self._responses:]:
            assert self.me is not None
            self._told.setdefault(self.me, []).append(_plain(call.args["text"]))
        self._responses = len(responses)

    def as_person(self, person_id: str) -> None:
        self.me = person_id

    def _dm(self, text: str, thread_ts: str | None = None) -> None:
        assert self.me is not None
        ts = self.ws.dm(self.me, text, thread_ts=thread_ts)
        self._mine.setdefault(self.me, []).append(ts)
        self._texts[ts] = text
        self._collect()

    def say(self, text: str) -> None:
        self._dm(text)

    def reply_in_thread(self, text: str) -> None:
        assert self.me is not None
        prompts = [m for m in self.slack.messages("D" + self.me.upper()) if _is_prompt(m)]
        self._dm(text, thread_ts=prompts[-1]["ts"])

    def edit_last(self, text: str) -> None:
        assert self.me is not None
        self.ws.edit(self.me, self._mine[self.me][-1], text)
        self._texts[self._mine[self.me][-1]] = text
        self._collect()

    def say_edited_before_sent(self, text: str, edited: str) -> None:
        assert self.me is not None
        ts = self.ws.ts()
        self.ws.edit(self.me, ts, edited)  # the message_changed, then the message it changes
        self._collect()
        self.ws.dm(self.me, text, ts=ts)
        self._mine.setdefault(self.me, []).append(ts)
        self._texts[ts] = edited
        self._collect()

    def say_deleted_before_sent(self, text: str) -> None:
        assert self.me is not None
        ts = self.ws.ts()
        self.ws.delete(self.me, ts)  # the message_deleted, then the message it deletes
        self._collect()
        self.ws.dm(self.me, text, ts=ts)
        self._collect()

    def unfurl_last(self) -> None:
        """A link preview unfurling on the last message: a `message_changed` whose message has the same text,
        `attachments` added and no `edited` stamp (https://api.slack.com/events/message/message_changed;
        "when a bot_message is unfurled, the server emits a message_changed event",
        slackhq/slack-api-docs#27; errbotio/errbot#382 ignores these for the same reason)."""
        assert self.me is not None
        ts = self._mine[self.me][-1]
        sent = {"type": "message", "user": user_id(self.me), "text": self._texts[ts], "ts": ts}
        now = self.ws.ts()
        preview = {"from_url": "https://example.com/", "title": "Example", "fallback": "Example", "id": 1}
        assert self.ws.event({"type": "message", "subtype": "message_changed", "channel": "D" + self.me.upper(),
                              "channel_type": "im", "hidden": True, "ts": now, "event_ts": now,
                              "message": {**sent, "attachments": [preview]}, "previous_message": sent}) == 200
        self._collect()

    def delete_last(self) -> None:
        assert self.me is not None
        self.ws.delete(self.me, self._mine[self.me].pop())
        self._collect()

    def _command(self, name: str, text: str) -> None:
        assert self.me is not None
        status, _ = self.ws.command(name, user_id(self.me), text)
        assert status == 200
        self._collect()

    def incident(self, text: str) -> None:
        self._command("/incident", text)

    def zhoubao(self, sub: str) -> None:
        self._command("/zhoubao", sub)

    def advance_to(self, when: datetime) -> None:
        for at, _, run in DueJobs(self.bot).between(self.clock.now, when):
            self.clock.now = at
            run()
            self._collect()
        self.clock.now = when

    def _open_modal(self, command: str) -> dict[str, Any]:
        before = len(self.slack.of("views.open"))
        self._command(command, "answer" if command == "/zhoubao" else "")
        assert len(self.slack.of("views.open")) == before + 1, "no form was opened"
        return self.slack.shown_view()  # as the person sees it (a form may follow an "opening" modal)

    def _submit(self, view: dict[str, Any], typed: dict[str, str]) -> None:
        """Submit `view` with `typed` values by block id (selects by option value); the rest as the modal
        shows them (prefilled or empty): a view_submission carries every input block's state."""
        assert self.me is not None
        values: dict[str, Any] = {}
        for b in view["blocks"]:
            if b.get("type") != "input":
                continue  # sections, context and actions carry no state
            element = b["element"]
            value = typed.get(b["block_id"], element.get("initial_value"))
            if element["type"] == "checkboxes":
                chosen = [o for o in element.get("initial_options", []) if value is None] or \
                    [o for o in element["options"] if value is not None and o["value"] == value]
                values[b["block_id"]] = {element["action_id"]: {"type": "checkboxes", "selected_options": chosen}}
            elif element["type"] == "static_select":
                option = next((o for o in element["options"] if o["value"] == value), None)
                values[b["block_id"]] = {element["action_id"]: {"type": "static_select", "selected_option": option}}
            else:
                values[b["block_id"]] = {element["action_id"]: {"type": element["type"], "value": value}}
        # view_submission as Slack sends it (view.state.values[block_id][action_id]):
        # https://api.slack.com/reference/interaction-payloads/views; Bolt routes it by view.callback_id
        # (slack_bolt/request/payload_utils.py, to_view)
        assert self.ws.interactive({"type": "view_submission", "user": {"id": user_id(self.me)},
                                    "team": {"id": "T1"}, "view": {**view, "id": f"V{len(self.slack.calls)}",
                                                                   "state": {"values": values}}}) == 200
        self._collect()

    def submit_answer_form(self, *, item: str, text: str, progress: str | None = None,
                           main_problem: str | None = None) -> None:
        view = self._open_modal("/zhoubao")
        # The modal numbers its inputs as the core numbers the person's items (its metadata holds the week only).
        n = [it.key for it in self.ws.bot.ctx.team.items_of(self.me)].index(item) + 1
        typed = {f"item:{n}": text}
        if progress is not None:
            typed[f"progress:{n}"] = progress
        if main_problem is not None:
            typed[f"problem:{n}"] = main_problem
        self._submit(view, typed)

    def submit_incident_form(self, *, start: str = "", system: str = "", what: str = "", cause: str = "",
                             impact: str = "", recovered: str = "", severity: str = "", weight: str = "",
                             attribution: str = "") -> None:
        view = self._open_modal("/incident")
        self._submit(view, {"start": start, "system": system, "what": what, "cause": cause, "impact": impact,
                            "recovered": recovered, "severity": severity, "weight": weight,
                            "attribution": attribution})

    def refuse_next_call(self, reason: str) -> str:
        self.slack.fail("chat.postMessage", error=reason)
        return reason

    # ----- observing --------------------------------------------------------------------------------

    def dms_to(self, person_id: str) -> list[str]:
        return list(self._told.get(person_id, []))

    def channel_posts(self) -> list[str]:
        return ["\n".join(_plain(b["text"]["text"]) for b in m["blocks"]) if m["blocks"] else _plain(m["text"])
                for m in self.slack.messages("C0REPORT")]
