"""The behaviour driver on the console: lines typed into the real `ConsoleSession`, as `zhoubao run` reads them."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field
from datetime import datetime

from bot.adapters.console.workspace import ConsoleChat, ConsoleSession, VirtualClock
from bot.domain.prompts import Prompt
from bot.domain.report import Report
from bot.domain.team import Person
from bot.runtime.composition import build_bot
from bot.runtime.jobs import DueJobs
from bot.services.bot import Bot
from bot.services.chat import ChatError, MessageRef, RenderedReport
from storage.db import transaction
from storage.directory import Directory
from tests.behaviour.driver import Unsupported, prompt_of
from tests.helpers import example_team

_BOT_SAYS = "── bot ──\n"


@dataclass
class RefusingConsoleChat(ConsoleChat):
    """The console's chat, which can be told to refuse its next channel post (as a platform would)."""

    refuse: str | None = None
    prompts: set[str] = field(default_factory=set)  # message ids of prompts

    def send_prompt(self, person: Person, prompt: Prompt, *, key: str) -> MessageRef:
        ref = super().send_prompt(person, prompt, key=key)
        self.prompts.add(ref.message_id)
        return ref

    def _refused(self) -> None:
        if self.refuse is not None:
            reason, self.refuse = self.refuse, None
            raise ChatError(reason, "console refused the post")

    def post_text(self, channel: str, text: str) -> MessageRef:
        self._refused()
        return super().post_text(channel, text)

    def post_report(self, channel: str, report: Report, rendered: RenderedReport, *, key: str) -> list[MessageRef]:
        self._refused()
        return super().post_report(channel, report, rendered, key=key)


class ConsoleDriver:
    platform = "console"

    def __init__(self, database_url: str, start: datetime) -> None:
        self.out = io.StringIO()
        self.chat = RefusingConsoleChat(io.StringIO())
        self.clock = VirtualClock(start)
        self.bot: Bot = build_bot(example_team(), self.chat, self.clock, database_url=database_url)
        self.session = ConsoleSession(self.bot, self.chat, self.clock, self.out, jobs=DueJobs(self.bot))
        self.me: str | None = None
        self._told: dict[str, list[str]] = {}
        self._read: dict[str, int] = {}  # person id -> DMs already moved into _told
        self._forms = itertools.count(1)

    def close(self) -> None:
        self.bot.engine.dispose()

    # ----- acting -----------------------------------------------------------------------------------

    def _type(self, line: str) -> None:
        start = self.out.tell()
        self.session.handle(line)
        self._collect(self.out.getvalue()[start:])

    def _collect(self, printed: str = "") -> None:
        """Move what the bot sent since the last action into the transcript, then its answer to the actor."""
        for pid, sent in self.chat.dms.items():
            for mid, text in sent[self._read.get(pid, 0):]:
                self._told.setdefault(pid, []).append(prompt_of(text) if mid in self.chat.prompts else text)
            self._read[pid] = len(sent)
        if _BOT_SAYS in printed and self.me is not None:
            self._told.setdefault(self.me, []).append(printed.split(_BOT_SAYS, 1)[1].rstrip("\n"))

    def as_person(self, person_id: str) -> None:
        self.me = person_id
        self._type(f"as {person_id}")

    def say(self, text: str) -> None:
        self._type(text)

    def reply_in_thread(self, text: str) -> None:
        self._type(f"reply {self._latest_prompt()} {text}")

    def _latest_prompt(self) -> str:
        ctx = self.bot.ctx
        assert self.me is not None
        with transaction(ctx.db) as s:
            row = Directory(s).latest_prompt(ctx.team_id, ctx.person_ids[self.me], self.platform)
            assert row is not None and row.message_id, f"no prompt to {self.me}"
            return row.message_id

    def edit_last(self, text: str) -> None:
        self._type(f"edit last\n{text}")

    def delete_last(self) -> None:
        self._type("delete last")

    def incident(self, text: str) -> None:
        self._type(f"/incident {text}")

    def zhoubao(self, sub: str) -> None:
        self._type(f"/zhoubao {sub}")

    def advance_to(self, when: datetime) -> None:
        self.session.handle(f"clock {when:%Y-%m-%d %H:%M}")
        self._collect()

    def submit_answer_form(self, *, item: str, text: str, progress: str | None = None,
                           main_problem: str | None = None) -> None:
        # The console has no form widget; it hands the form straight to the core, as adapters do.
        if progress is not None or main_problem is not None:
            raise Unsupported("the core's form takes text per item only; progress and main problem are "
                              "folded into text by the Slack adapter")
        assert self.me is not None
        reply = self.bot.inbox.submit_form(self.platform, self.me, f"form:{next(self._forms)}", {item: text},
                                           self.clock.now)
        if reply.text:
            self._told.setdefault(self.me, []).append(reply.text)

    def submit_incident_form(self, **fields: str) -> None:
        raise Unsupported("the core has no incident form yet; each adapter turns its form into /incident text")

    def refuse_next_call(self, reason: str) -> str:
        self.chat.refuse = reason
        return reason

    # ----- observing --------------------------------------------------------------------------------

    def dms_to(self, person_id: str) -> list[str]:
        return list(self._told.get(person_id, []))

    def channel_posts(self) -> list[str]:
        return [text for _, text in self.chat.channel]
