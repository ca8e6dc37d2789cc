"""The behaviour driver on the console: lines typed into the real `ConsoleSession`, as `zhoubao run` reads them."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime

from bot.adapters.console.chat import ConsoleChat, VirtualClock
from bot.adapters.console.workspace import ConsoleSession
from bot.domain.prompts import Prompt
from bot.domain.report import Report
from bot.domain.team import Person, Team
from bot.runtime.composition import build_bot, digest_parts
from bot.runtime.jobs import DueJobs
from bot.runtime.settings import Settings
from bot.services.bot import Bot
from bot.services.chat import ChatError, MessageRef, RenderedReport
from storage.db import transaction
from storage.directory import Directory
from tests.behaviour.driver import prompt_of
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

    def _refused(self, method: str, channel: str) -> None:
        if self.refuse is not None:
            reason, self.refuse = self.refuse, None
            raise ChatError(reason, "console refused the post", method=method, where=channel)

    def post_text(self, channel: str, text: str) -> MessageRef:
        self._refused("post_text", channel)
        return super().post_text(channel, text)

    def post_report(self, channel: str, report: Report, rendered: RenderedReport, *, key: str) -> list[MessageRef]:
        self._refused("post_report", channel)
        return super().post_report(channel, report, rendered, key=key)


class ConsoleDriver:
    platform = "console"

    def __init__(self, database_url: str, start: datetime, team: Team | None = None) -> None:
        self.out = io.StringIO()
        self.chat = RefusingConsoleChat(io.StringIO())
        self.clock = VirtualClock(start)
        # The key points' model as `zhoubao run` reads it from the environment (the Slack and Feishu drivers'
        # Settings read it too), so a scenario that sets AI_BASE_URL/AI_MODEL runs on every platform.
        model, config = digest_parts(Settings(_env_file=None))  # type: ignore[call-arg]
        self.bot: Bot = build_bot(team or example_team(), self.chat, self.clock, database_url=database_url,
                                  digest_model=model, digest_config=config)
        self.session = ConsoleSession(self.bot, self.chat, self.clock, self.out, jobs=DueJobs(self.bot))
        self.me: str | None = None
        self._told: dict[str, list[str]] = {}
        self._read: dict[str, int] = {}  # person id -> DMs already moved into _told
        self._last_text: dict[str, str] = {}  # person id -> the text of their last message, as typed

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
        self._typed(text)
        self._type(text)

    def _typed(self, text: str) -> None:
        assert self.me is not None
        self._last_text[self.me] = text

    def reply_in_thread(self, text: str) -> None:
        self._typed(text)
        self._type(f"reply {self._latest_prompt()} {text}")

    def _latest_prompt(self) -> str:
        ctx = self.bot.ctx
        assert self.me is not None
        with transaction(ctx.db) as s:
            row = Directory(s).latest_prompt(ctx.team_id, ctx.person_ids[self.me], self.platform)
            assert row is not None and row.message_id, f"no prompt to {self.me}"
            return row.message_id

    def edit_last(self, text: str) -> None:
        self._typed(text)
        self._type(f"edit last\n{text}")

    def unfurl_last(self) -> None:
        # The console has no link previews; what reaches the core is an edit to the same text.
        assert self.me is not None
        self._type(f"edit last\n{self._last_text[self.me]}")

    def delete_last(self) -> None:
        self._type("delete last")

    def incident(self, text: str) -> None:
        self._type(f"/incident {text}")

    def zhoubao(self, sub: str) -> None:
        self._type(f"/zhoubao {sub}")

    def advance_to(self, when: datetime) -> None:
        self.session.handle(f"clock {when:%Y-%m-%d %H:%M}")
        self._collect()

    def _form(self, head: str, fields: dict[str, str]) -> None:
        """Type a `form …` command with its fields, as `zhoubao run` reads it (a heredoc, `label: value` lines)."""
        start = self.out.tell()
        self.session.run([f"{head} <<EOF", *(f"{k}: {v}" for k, v in fields.items()), "EOF"])
        self._collect(self.out.getvalue()[start:])

    def submit_answer_form(self, *, item: str, text: str, progress: str | None = None,
                           main_problem: str | None = None) -> None:
        # `form answers` numbers the fields by the item's number in this person's prompt (`/zhoubao answer`).
        assert self.me is not None
        opened = self.bot.forms.open_answers(self.me, None, self.clock.now).prompt
        assert opened is not None, f"no answer form for {self.me}"
        n = next(it.number for it in opened.items if it.key == item)
        fields = {f"{n}.text": text}
        if progress is not None:
            fields[f"{n}.progress"] = progress
        if main_problem is not None:
            fields[f"{n}.problem"] = main_problem
        self._form("form answers", fields)

    def submit_incident_form(self, *, start: str = "", system: str = "", what: str = "", cause: str = "",
                             impact: str = "", recovered: str = "", severity: str = "", weight: str = "",
                             attribution: str = "") -> None:
        typed = {"start": start, "system": system, "what": what, "cause": cause, "impact": impact,
                 "recovered": recovered, "severity": severity, "weight": weight,
                 "attribution": attribution}
        self._form("form incident", {k: v for k, v in typed.items() if v})

    def refuse_next_call(self, reason: str) -> str:
        self.chat.refuse = reason
        return reason

    # ----- observing --------------------------------------------------------------------------------

    def dms_to(self, person_id: str) -> list[str]:
        return list(self._told.get(person_id, []))

    def channel_posts(self) -> list[str]:
        return [text for _, text in self.chat.channel]
