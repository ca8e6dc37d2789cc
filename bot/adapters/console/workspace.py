"""The console workspace: the whole bot on stdin/stdout, with a clock you move by hand.

`ConsoleSession` reads lines typed or piped in, as whichever team member you are, and fires scheduled jobs
as the clock passes them; its chat port and clock are in chat.py (`ConsoleChat`, `VirtualClock`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Protocol, TextIO

from bot.adapters.console.chat import ConsoleChat, VirtualClock
from bot.domain.forms import AnswerForm, IncidentForm, QuestionForm
from bot.domain.team import Person
from bot.domain.weeks import WeekLabelError
from bot.services.bot import Bot
from bot.services.chat import Inbound, Reply
from bot.text import messages

HELP = """console commands:
  as <name|id>            be this team member (who: list people)
  <text>                  send a message to the bot; start with [n] to answer item n of your prompt
  <<EOF … EOF             a multi-line message (also: [n] <<EOF)
  reply <b-id> <text>     reply in the thread of a bot message (b-ids are shown on each message)
  edit <m-id|last> <text> edit one of your messages (m-ids are shown when you send); also edit last <<EOF
  delete <m-id|last>      delete one of your messages
  /incident …             file or manage an incident (/incident help)
  /zhoubao …              status | preview | missing | publish | answer | help
  form answers [week] <<EOF   the answer form: lines `1.text: …`, `1.progress: 60`, `1.problem: …`
                          (n as in your prompt; a line without a label continues the one before;
                          the incident question's n: `n.text: 无` or an incident line, `n.none: yes`)
  form incident [n] <<EOF     the incident form: `start: 06/26 14:30`, `system:`, `what:`, `cause:`,
                          `impact:`, `recovered:`, `severity:`, `weight:`, `availability: yes|no`,
                          `attribution:` (own, bank, … or a bank's name)
                          (with n: change incident n's fields given)
  inbox                   your direct messages from the bot
  channel                 what was posted to the report channel
  clock                   show the time; clock +2h | +1d | +30m | 2024-06-27 10:00 | thu 10:00
                          moving the clock runs every scheduled job it passes (prompt, remind, publish)
  report [week] [md|slack|feishu]   print a week's compiled report
  help | quit"""


class DueJobs(Protocol):
    """The scheduled jobs the virtual clock passes (the runtime's jobs, injected by the composition root)."""

    def between(self, after: datetime, until: datetime) -> Iterable[tuple[datetime, str, Callable[[], str]]]:
        """(fire time, job kind, run it) for each job due in (after, until], in time order."""
        ...


class ConsoleSession:
    def __init__(self, bot: Bot, chat: ConsoleChat, clock: VirtualClock, out: TextIO, *, jobs: DueJobs,
                 echo: bool = False) -> None:
        self.bot, self.chat, self.clock, self.out, self.echo, self.jobs = bot, chat, clock, out, echo, jobs
        self.me: Person | None = None
        self._session = uuid.uuid4().hex[:8]
        self._sent: dict[str, tuple[str, str]] = {}  # m-id -> (author person id, source id)
        self._n = 0

    def say(self, text: str) -> None:
        self.out.write(text.rstrip("\n") + "\n")

    def run(self, lines: Iterable[str], *, prompt: str | None = None) -> None:
        it = iter(lines)
        for raw in it:
            line = raw.rstrip("\n")
            if self.echo and line.strip():
                self.say(f"{self.speaker()}> {line}")
            heredoc = re.search(r"<<\s*([A-Za-z_]+)\s*$", line)
            if heredoc:
                body = []
                for more in it:
                    if more.rstrip("\n") == heredoc.group(1):
                        break
                    body.append(more.rstrip("\n"))
                if self.echo:
                    self.say("\n".join(body + [heredoc.group(1)]))
                line = line[: heredoc.start()].rstrip() + ("\n" if line[: heredoc.start()].strip() else "")
                line = (line + "\n".join(body)) if line.strip() else "\n".join(body)
            if self.handle(line) is False:
                return

    def speaker(self) -> str:
        """Who speaks now (the name `as <name>` chose), for the input prompt."""
        return self.me.name if self.me else "(nobody)"

    def handle(self, line: str) -> bool:
        stripped = line.strip()
        if not stripped or (stripped.startswith("#") and "\n" not in line):
            return True
        word, _, rest = stripped.partition(" ")
        cmd = word.lower()
        if cmd in ("quit", "exit"):
            return False
        if cmd == "help":
            self.say(HELP)
        elif cmd == "as":
            self._as(rest.strip())
        elif cmd == "who":
            for p in self.bot.ctx.team.people:
                items = ", ".join(i.title for i in self.bot.ctx.team.items_of(p.id)) or "-"
                self.say(f"{p.name} ({p.id}): {items}")
        elif cmd == "clock":
            self._clock(rest.strip())
        elif cmd == "inbox":
            for mid, text in self.chat.dms.get(self.me.id if self.me else "", []):
                self.say(f"── ({mid}) ──\n{text}")
        elif cmd == "channel":
            for mid, text in self.chat.channel:
                self.say(f"── ({mid}) ──\n{text}")
        elif cmd == "report":
            self._report(rest.split())
        elif not self._need_me():
            return True
        elif cmd == "/incident":
            assert self.me is not None
            outcome = self.bot.incidents.handle("console", self.me.id, rest, self.clock.now)
            self._reply(outcome.reply)
        elif cmd == "/zhoubao":
            assert self.me is not None
            self._reply(self.bot.commands.handle("console", self.me.id, rest, self.clock.now))
        elif cmd == "form":
            self._form(line)
        elif cmd == "edit":
            mid, _, text = line.strip().partition(" ")[2].partition(" ") if "\n" not in line else \
                (rest.split("\n", 1)[0].strip(), "", line.split("\n", 1)[1])
            self._edit(mid, text)
        elif cmd == "delete":
            self._delete(rest.strip())
        elif cmd == "reply":
            bid, _, text = line.strip().partition(" ")[2].partition(" ")
            self._send(text, thread=bid)
        else:
            self._send(line)
        return True

    # ----- commands ----------------------------------------------------------

    def _need_me(self) -> bool:
        if self.me is None:
            self.say("Choose who you are first: as <name> (who lists the team).")
            return False
        return True

    def _as(self, who: str) -> None:
        person = self.bot.ctx.person(who)
        if person is None:
            self.say(f"No team member '{who}'. Known: {', '.join(p.name for p in self.bot.ctx.team.people)}")
            return
        self.me = person
        self.say(f"You are now {person.name} ({person.id}).")

    def _send(self, text: str, thread: str | None = None) -> None:
        assert self.me is not None
        self._n += 1
        mid = f"m{self._n}"
        source = f"{self._session}-{mid}"
        self._sent[mid] = (self.me.id, source)
        reply = self.bot.inbox.receive(Inbound(platform="console", user=self.me.id, source_id=source, text=text,
                                               at=self.clock.now, thread_id=thread))
        self.say(f"({mid} sent)")
        if reply is not None:
            self._reply(reply)

    def _form(self, line: str) -> None:
        """`form answers [week]` / `form incident [n]`, the fields in the lines after the first."""
        assert self.me is not None
        head, _, body = line.strip().partition("\n")
        words = head.split()
        fields = _labelled(body)
        self._n += 1
        source = f"{self._session}-f{self._n}"
        if words[1:2] == ["incident"]:
            number = int(words[2]) if len(words) > 2 and words[2].isdigit() else None
            availability = {"yes": True, "no": False}.get(fields.get("availability", "").strip().lower())
            form = IncidentForm(**{k: v for k, v in fields.items() if k in _INCIDENT_FIELDS},
                                counts_toward_availability=availability, number=number)
            self._reply(self.bot.forms.submit_incident("console", self.me.id, source, form, self.clock.now).reply)
            return
        if words[1:2] != ["answers"]:
            self.say("form answers [week] <<EOF … EOF, or form incident [n] <<EOF … EOF (help shows the fields)")
            return
        week = words[2] if len(words) > 2 else None
        opened = self.bot.forms.open_answers(self.me.id, week, self.clock.now)
        if opened.prompt is None:
            self._reply(opened)
            return
        answers = [AnswerForm(it.key, fields.get(f"{it.number}.text", ""), fields.get(f"{it.number}.progress", ""),
                              fields.get(f"{it.number}.problem", ""))
                   for it in opened.prompt.items if any(k.startswith(f"{it.number}.") for k in fields)]
        q = opened.prompt.incidents
        question = QuestionForm(fields.get(f"{q.number}.text", ""),
                                fields.get(f"{q.number}.none", "").strip().lower() in ("yes", "y", "是")) \
            if q is not None and any(k.startswith(f"{q.number}.") for k in fields) else None
        self._reply(self.bot.forms.submit_answers("console", self.me.id, source, opened.prompt.week, answers,
                                                  self.clock.now, question))

    def _mine(self, mid: str) -> str | None:
        """The source id of the current person's message `mid` (or `last`)."""
        assert self.me is not None
        own = [m for m, (who, _) in self._sent.items() if who == self.me.id]
        if mid == "last" and own:
            mid = own[-1]
        if mid not in own:
            self.say(f"No message {mid} of yours in this session" + (f" (yours: {', '.join(own)})." if own else "."))
            return None
        return self._sent[mid][1]

    def _edit(self, mid: str, text: str) -> None:
        source = self._mine(mid)
        if source is not None:
            assert self.me is not None
            reply = self.bot.inbox.edit("console", source, text, self.clock.now, user=self.me.id)
            self._reply(reply or Reply("(unchanged)"))

    def _delete(self, mid: str) -> None:
        source = self._mine(mid)
        if source is not None:
            assert self.me is not None
            reply = self.bot.inbox.delete("console", source, self.clock.now, user=self.me.id)
            self._reply(reply or Reply("(nothing stored)"))

    def _reply(self, reply: Reply) -> None:
        if reply.text:
            self.say(f"── bot ──\n{reply.text}")

    def _clock(self, arg: str) -> None:
        if not arg:
            self.say(f"It is {self.clock.now:%Y-%m-%d %a %H:%M} ({self.bot.ctx.team.team.timezone}).")
            return
        try:
            target = self.clock.parse(arg)
        except ValueError as exc:
            self.say(str(exc))
            return
        if not self.clock.moves:
            self.say(f"It is {self.clock.now:%Y-%m-%d %a %H:%M}: this console runs on the wall clock beside teams on "
                     "Slack or Feishu, and the scheduler fires the jobs on time.")
            return
        if target < self.clock.now:
            self.say("The clock only moves forward.")
            return
        before = self.clock.now
        for at, kind, run in self.jobs.between(before, target):
            self.clock.now = at
            self.say(f"\n⏱ {at:%Y-%m-%d %a %H:%M} — {kind}")
            self.say(f"  {run()}")
        self.clock.now = target
        self.say(f"It is {self.clock.now:%Y-%m-%d %a %H:%M}.")

    def _report(self, args: list[str]) -> None:
        week, fmt = self.bot.ctx.week_of(self.clock.now), "md"
        for a in args:
            if a in ("md", "slack", "feishu"):
                fmt = a
            else:
                try:
                    week = self.bot.ctx.parse_week(a)
                except WeekLabelError as exc:
                    self.say(messages.bad_week(a, exc, self.bot.ctx.locale))
                    return
        report = self.bot.week_report.compile(week, self.clock.now)
        self.say(self.bot.ctx.renderer.render(report, fmt))  # type: ignore[arg-type]


_INCIDENT_FIELDS = ("start", "system", "what", "cause", "impact", "recovered", "severity", "weight", "attribution")
_LABEL = re.compile(r"^\s*((?:\d+\.)?[a-z]+)\s*:\s?(.*)$")


def _labelled(body: str) -> dict[str, str]:
    """`label: value` lines; a line without a label continues the value before it."""
    fields: dict[str, str] = {}
    last: str | None = None
    for raw in body.split("\n"):
        m = _LABEL.match(raw)
        if m:
            last = m.group(1)
            fields[last] = m.group(2)
        elif last is not None:
            fields[last] += "\n" + raw
    return fields
