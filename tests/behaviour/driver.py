"""What a behaviour scenario may do and observe, on any platform.

A scenario acts as one team member at a time (`as_person`) and moves a virtual clock (`advance_to`),
which runs every scheduled job it passes (prompt, remind, publish) exactly as the console's `clock`
command does. Observations are platform-neutral: what each person was told, as plain text in the order
they were told it; what was posted to the report channel; and the stored rows (`Stored`), read from the
database through the repositories.

Prompts are compared by their meaning, not their widgets: `prompt_text(head, labels)` is the prompt's
first line and its `[n] item` lines, then the incident question's `[n] 生产事件` line (issue 14), which a
text prompt (console, Slack) and a card prompt (Feishu) both show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from bot.domain.weeks import IsoWeek
from bot.services.bot import Bot
from storage.answers import Answers
from storage.db import transaction
from storage.directory import Directory
from storage.incidents import Incidents
from storage.reports import Reports


class Unsupported(NotImplementedError):
    """The platform (or its adapter) offers no way to do this today."""


class Driver(Protocol):
    platform: str
    bot: Bot

    def close(self) -> None:
        """Stop servers and dispose of the database engine."""
        ...

    # ----- acting ---------------------------------------------------------------------------------

    def as_person(self, person_id: str) -> None:
        """Act as this team member from now on."""
        ...

    def say(self, text: str) -> None:
        """Send the bot a direct message (a leading `[n]` picks an item of the latest prompt)."""
        ...

    def reply_in_thread(self, text: str) -> None:
        """Reply in the thread of the latest prompt the bot sent this person."""
        ...

    def edit_last(self, text: str) -> None:
        """Edit this person's last message."""
        ...

    def say_edited_before_sent(self, text: str, edited: str) -> None:
        """Send `text`, then edit it to `edited`, the platform delivering the edit before the message (Slack
        and Feishu do under retries). Only the chat platforms do this; the console reads its input in order."""
        ...

    def say_deleted_before_sent(self, text: str) -> None:
        """Send `text`, then delete (recall) it, the platform delivering the deletion before the message (Slack
        and Feishu do under retries). Only the chat platforms do this; the console reads its input in order."""
        ...

    def unfurl_last(self) -> None:
        """The platform changes this person's last message without its text changing (Slack unfurling a link
        preview on it sends a `message_changed` with the same text)."""
        ...

    def delete_last(self) -> None:
        """Delete (recall) this person's last message."""
        ...

    def incident(self, text: str) -> None:
        """`/incident <text>` as this person."""
        ...

    def zhoubao(self, sub: str) -> None:
        """`/zhoubao <sub>` as this person."""
        ...

    def advance_to(self, when: datetime) -> None:
        """Move the clock to `when`, running every scheduled job it passes, in order."""
        ...

    def submit_answer_form(self, *, item: str, text: str, progress: str | None = None,
                           main_problem: str | None = None) -> None:
        """Fill the answer form for one item (by key) and submit it."""
        ...

    def submit_incident_form(self, *, start: str = "", system: str = "", what: str = "", cause: str = "",
                             impact: str = "", recovered: str = "", severity: str = "", weight: str = "",
                             attribution: str = "") -> None:
        """Fill the incident form (empty fields left blank) and submit it."""
        ...

    def refuse_next_call(self, reason: str) -> str:
        """The platform refuses the bot's next post to the report channel, for `reason`; returns the
        platform's code for that refusal (what people should be told)."""
        ...

    # ----- observing -------------------------------------------------------------------------------

    def dms_to(self, person_id: str) -> list[str]:
        """Everything the bot told this person, oldest first, as plain text (platform markup removed)."""
        ...

    def channel_posts(self) -> list[str]:
        """What the report channel shows now (edits applied), one text per message, oldest first."""
        ...


def prompt_text(head: str, labels: list[str]) -> str:
    """A prompt as every platform shows it: its first line, then one `[n] title` line per item and, when it
    asks the incident question, the question's `[n] title` line last."""
    return "\n".join(["PROMPT " + head, *labels])


def prompt_of(text: str) -> str:
    """`prompt_text` of a prompt sent as text."""
    lines = text.split("\n")
    return prompt_text(lines[0], [line for line in lines[1:] if line.startswith("[") and "] " in line])


@dataclass(frozen=True)
class Stored:
    """The rows a week left in the database, without platform ids, comparable across platforms."""

    messages: tuple[tuple[str, str, str, bool, tuple[tuple[str, str], ...]], ...]  # person, via, text, deleted, revisions
    entries: dict[str, tuple[str, Decimal | None, str | None]]  # item key -> text, progress, main problem
    banks: dict[str, tuple[str, str | None]]  # item key -> note, stage
    metrics: dict[str, str]  # item key -> value as written
    incidents: tuple[tuple[object, ...], ...]
    report: str | None  # the stored Markdown

    @staticmethod
    def of(bot: Bot, week: IsoWeek) -> Stored:
        ctx = bot.ctx
        names = {v: k for k, v in ctx.person_ids.items()}
        with transaction(ctx.db) as s:
            row = Directory(s).week(ctx.team_id, week.label)
            answers, incidents = Answers(s), Incidents(s)
            msgs = tuple(
                (names[m.person_id], m.via, m.text, m.deleted_at is not None,
                 tuple((r.change, r.text) for r in answers.revisions(m.id)))
                for m in (answers.messages_of_week(ctx.team_id, row.id) if row else []))
            incs = tuple(
                (i.number, i.started_at, i.system, i.what, i.cause, i.impact, i.recovered_at, i.severity, i.weight,
                 i.counts_toward_availability, i.cause_class, i.cause_bank)
                for i in (incidents.of_week(ctx.team_id, row.id) if row else []))
            report = Reports(s).by_label(ctx.team_id, week.label)
            markdown = report.markdown if report else None
        facts = bot.week_report.facts(week)
        return Stored(
            messages=msgs,
            entries={k: (e.text, e.progress, e.main_problem) for k, e in facts.entries.items()},
            banks={k: (b.note, b.stage) for k, b in facts.banks.items()},
            metrics={k: m.value_text for k, m in facts.metrics.items()},
            incidents=incs, report=markdown)
