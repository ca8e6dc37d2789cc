"""The weekly cycle's jobs: open the week, prompt, remind and publish (once; later answers edit the post).

What a job reads and shows (facts, the compiled report, a prompt) is the read side, `bot/services/week_report.py`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime

from bot.domain.calendar import calendar_for, effective, nominal_time
from bot.domain.prompts import PromptItem
from bot.domain.report import KeyPoint, Report
from bot.domain.team import ItemKind, Person
from bot.domain.weeks import IsoWeek
from bot.services.chat import POST_GONE, ChatError, MessageRef, RenderedReport
from bot.services.context import Context
from bot.services.delivery import DeliveryFailures, message_editors
from bot.services.digest import Digests
from bot.services.documents import DocumentPublisher
from bot.services.report_edits import ReportEdits
from bot.services.week_report import PromptRun, WeekReport
from bot.text import messages
from storage.away import Away
from storage.db import transaction
from storage.directory import Directory
from storage.models import PromptRow
from storage.reports import Reports

log = logging.getLogger("zhoubao.cycle")

_Job = tuple[Person, tuple[PromptItem, ...], bool]  # who, what they are asked, whether the incident question too


@dataclass(frozen=True)
class PublishResult:
    week: str
    updated: bool  # True when an earlier post was edited in place
    refs: tuple[MessageRef, ...]
    markdown: str


class WeeklyCycle:
    """The jobs of the week: open it, prompt, remind, publish (and republish after a late answer).
    What they read and show comes from `week_report`, the read side."""

    def __init__(self, ctx: Context, week_report: WeekReport, failures: DeliveryFailures | None = None,
                 digests: Digests | None = None, *, edit_every: float | None = None,
                 documents: DocumentPublisher | None = None) -> None:
        """`edit_every`: seconds between two edits of a week's post after late answers, made on a thread of
        their own (`ReportEdits`); None makes each edit at once, on the caller's thread. `documents`: where
        each post (and edit) is also written, after the chat post (None: nowhere)."""
        self.ctx = ctx
        self.week_report = week_report
        self.failures = failures or DeliveryFailures(ctx)
        self.digests = digests or Digests(ctx, week_report, None)
        self.edits = ReportEdits(self._refresh, edit_every)
        self.documents = documents
        # What each week's post shows now, as far as this process knows: the stored report's revision this
        # process saved and the rendering it then posted (set after a post or an edit went through, dropped
        # before the next one is tried). The adapters edit only the parts that differ from it; a revision
        # saved since by another process (several instances on one PostgreSQL) means it is not known.
        self._shown: dict[str, tuple[int, RenderedReport]] = {}
        # One publish at a time: the schedule, `/zhoubao publish`, the dashboard and the late edits.
        self._publishing = threading.RLock()

    # ----- jobs ------------------------------------------------------------

    def open_week(self, at: datetime | None = None) -> IsoWeek:
        at = at or self.ctx.now()
        week = self.ctx.week_of(at)
        with transaction(self.ctx.db) as s:
            Directory(s).open_week(self.ctx.team_id, week.label, at)
        return week

    def send_prompts(self, kind: str = "prompt", at: datetime | None = None) -> int:
        """Prompt (or remind) every owner with something to answer; returns how many messages were sent.

        Each send is recorded before it happens, so running this twice, or after a crash, never
        prompts anyone twice: a recorded-but-unsent prompt is sent again with the same idempotency key.
        """
        at = at or self.ctx.now()
        week = self.open_week(at)
        facts, last = self.week_report.facts(week), self.week_report.facts(week.previous(), answers_only=True)
        due: list[_Job] = []
        run = self.week_report.prompt_run(week)
        answered = run.answers if kind != "prompt" else {}
        with transaction(self.ctx.db) as s:  # away today, even if not for the whole week
            away_now = Away(s).away_throughout(self.ctx.team_id, at.date(), at.date())
            d = Directory(s)
            week_row = d.week(self.ctx.team_id, week.label)
            sent = d.sent_prompts(self.ctx.team_id, week_row.id, kind, self.ctx.chat.platform) if week_row else set()
        for pid in self.ctx.team.owners():
            if pid in facts.away or pid in away_now or self.ctx.person_ids.get(pid) in sent:
                continue
            items = self.week_report.prompt_items(pid, week, facts, last)
            ask = self.week_report.asks_incidents(pid)
            if kind != "prompt":
                items = tuple(i for i in items if i.this_week is None
                              and i.kind not in (ItemKind.EDITOR, ItemKind.NOTE))
                ask = ask and pid not in answered
            if not items and not ask:
                continue
            due.append((self.ctx.team.person_by_id[pid], items, ask))
        return sum(self._send_each(due, lambda job: self._send_prompt(job[0], week, kind, job[1], at, job[2], run)))

    def _send_each(self, jobs: Sequence[_Job], send: Callable[[_Job], bool]) -> list[bool]:
        """`send` each job, in order, up to the chat's `parallel_sends` at once: a thousand owners' prompts are
        bound by the platform's posting limit (which the adapter's pacer keeps), not by one round trip after
        another. Each send records its own prompt row, so a crash part-way leaves each one sent or owed."""
        width = max(1, min(self.ctx.chat.parallel_sends, len(jobs)))
        if width == 1:
            return [send(job) for job in jobs]
        with ThreadPoolExecutor(max_workers=width, thread_name_prefix="zhoubao-send") as pool:
            return list(pool.map(send, jobs))

    def _send_prompt(self, person: Person, week: IsoWeek, kind: str, items: tuple[PromptItem, ...],
                     at: datetime, ask_incidents: bool | None = None, run: PromptRun | None = None) -> bool:
        """Send one prompt unless it was sent already. With `run` (a run of prompts), the caller has left out
        whom it knew were sent and the prompt is built from what the run read once; the row checked below
        still keeps a prompt from going twice (another process, a second run)."""
        platform = self.ctx.chat.platform
        key = f"{self.ctx.team_id}:{week.label}:{person.id}:{kind}:{platform}"
        ask_incidents = self.week_report.asks_incidents(person.id) if ask_incidents is None else ask_incidents
        if run is None:
            with transaction(self.ctx.db) as s:  # sent already: nothing to build
                d = Directory(s)
                week_row = d.week(self.ctx.team_id, week.label)
                sent = week_row is not None and (row := d.prompt(self.ctx.team_id, week_row.id,
                                                                 self.ctx.person_ids[person.id], kind,
                                                                 platform)) is not None and row.sent_at is not None
            if sent:
                return False
        prompt = self.week_report.prompt(person.id, week, kind, items, ask_incidents=ask_incidents, run=run)
        assert prompt is not None  # the caller skips people with nothing to answer
        with transaction(self.ctx.db) as s:
            d = Directory(s)
            week_id = d.ensure_week(self.ctx.team_id, week.label).id
            pid = self.ctx.person_ids[person.id]
            row = d.prompt(self.ctx.team_id, week_id, pid, kind, platform)
            if row is not None and row.sent_at is not None:
                return False
            if row is None:
                row = d.add_prompt(PromptRow(team_id=self.ctx.team_id, week_id=week_id, person_id=pid, kind=kind,
                                             platform=platform, idempotency_key=key[:64], created_at=at,
                                             item_keys=prompt.keys))
            row_id = row.id
        try:
            ref = self.ctx.chat.send_prompt(person, prompt, key=key[:64])
        except ChatError as exc:
            log.error("prompt not delivered", extra={"week": week.label, "person": person.id, "reason": exc.reason})
            self.failures.tell_editors(exc)
            return False
        with transaction(self.ctx.db) as s:
            row2 = s.get(PromptRow, row_id)
            assert row2 is not None
            row2.sent_at, row2.channel, row2.message_id = at, ref.channel, ref.message_id
        self.ctx.metrics.prompt_sent(platform, kind)
        return True

    def remind(self, number: int = 1, at: datetime | None = None) -> int:
        """Remind owners of what they have not answered, and tell the editors who is missing."""
        at = at or self.ctx.now()
        sent = self.send_prompts(kind=f"remind:{number}", at=at)
        week = self.ctx.week_of(at)
        self.tell_editors_missing(week, at)
        self.prepare_digest(week, at)
        return sent

    def prepare_digest(self, week: IsoWeek, at: datetime) -> None:
        """The week's key points, written now so publishing never waits for a model. Not again once the editor
        approved or turned them off, nor after the report went out; nothing here stops the reminder job."""
        if not self.digests.on or self.week_report.is_published(week):
            return
        current = self.digests.view(week)
        if current is not None and (current.off or current.approved is not None):
            return
        try:
            self.digests.prepare(week, at)
        except Exception:
            log.exception("digest not prepared", extra={"week": week.label})

    def tell_editors_missing(self, week: IsoWeek, at: datetime) -> None:
        report = self.week_report.compile(week, at)
        text = messages.missing_list(week.label, report.missing, self.ctx.locale,
                                     [p.name for p in self.week_report.unanswered_incident_question(week)],
                                     [a for a in report.actions if a.state == "overdue"])
        message_editors(self.ctx, text, about="missing list")

    def remind_owing(self, owing: Mapping[str, Collection[str]], kind: str, at: datetime | None = None) -> list[str]:
        """Remind each person of `owing` (person id -> the item keys they still owe this week) of exactly those
        items, and of the incident question only if they have not answered it; returns who was reminded,
        in `owing`'s order. Like `send_prompts`, a `kind` is sent to a person at most once."""
        at = at or self.ctx.now()
        week = self.open_week(at)
        facts, last = self.week_report.facts(week), self.week_report.facts(week.previous(), answers_only=True)
        run = self.week_report.prompt_run(week)
        answered = run.answers
        due: list[_Job] = []
        for pid, keys in owing.items():
            items = tuple(i for i in self.week_report.prompt_items(pid, week, facts, last) if i.key in keys)
            ask = self.week_report.asks_incidents(pid) and pid not in answered
            if items or ask:
                due.append((self.ctx.team.person_by_id[pid], items, ask))
        sent = self._send_each(due, lambda job: self._send_prompt(job[0], week, kind, job[1], at, job[2], run))
        return [job[0].id for job, ok in zip(due, sent, strict=True) if ok]

    def publish(self, week: IsoWeek | None = None, at: datetime | None = None) -> PublishResult:
        """Compile, store and post the report; if it was posted already, edit the post instead."""
        at = at or self.ctx.now()
        week = week or self.ctx.week_of(at)
        with self._publishing:
            return self._publish(week, at)

    def _publish(self, week: IsoWeek, at: datetime, *, only_changes: bool = False) -> PublishResult:
        """`publish`; with `only_changes` (a late answer's edit), the parts of the post that already show
        their text are left alone. A publish asked for edits every part, which also finds a deleted post."""
        chat, channel = self.ctx.chat, self.ctx.team.team.report_channel
        with transaction(self.ctx.db) as s:
            week_id = Directory(s).ensure_week(self.ctx.team_id, week.label).id
            earlier = Reports(s).get(self.ctx.team_id, week_id)
            # A republish keeps the original "Created" time, so the post does not jump around.
            compiled_at = earlier.published_at if earlier and earlier.published_at else at
            earlier_revision = earlier.revision if earlier else None
        report = self.week_report.compile(week, compiled_at)
        report = replace(report, key_points=self._key_points(week, at, report))
        rendered = self.week_report.render(report)
        with transaction(self.ctx.db) as s:
            reports = Reports(s)
            row = reports.save(self.ctx.team_id, week_id, markdown=rendered.markdown, slack=rendered.slack,
                               feishu=rendered.feishu, at=at)
            posted = [MessageRef(chat.platform, p.channel, p.message_id or "")
                      for p in reports.posts(row.id, chat.platform)]
            report_id, revision = row.id, row.revision
        key = f"{self.ctx.team_id}:{week.label}:report"
        reposted = False
        shown = self._shown.pop(week.label, None)  # unknown until this edit goes through
        previous = shown[1] if only_changes and shown and shown[0] == earlier_revision else None
        try:
            if posted:
                try:
                    refs = chat.update_report(posted, report, rendered, previous=previous)
                except ChatError as exc:
                    if exc.reason != POST_GONE:
                        raise
                    # Deleted by a person in the channel: post it again (a new idempotency key, since the
                    # platform may remember the old one) and record where it is now.
                    log.warning("posted report was deleted; posting it again", extra={"week": week.label})
                    refs = chat.post_report(channel, report, rendered, key=f"{key}:{posted[0].message_id}")
                    reposted = True
            else:
                refs = chat.post_report(channel, report, rendered, key=key)
        except ChatError as exc:
            # the report is stored; the editors hear why it is not in the channel
            self.failures.tell_editors(exc)
            raise
        self._shown[week.label] = (revision, rendered)
        with transaction(self.ctx.db) as s:
            reports = Reports(s)
            if reposted:
                reports.forget_posts(report_id, chat.platform)
            for part, ref in enumerate(refs):
                reports.record_post(report_id, chat.platform, part, ref.channel, ref.message_id, at)
            stored = reports.get(self.ctx.team_id, week_id)
            assert stored is not None
            if stored.published_at is None:
                reports.set_published(stored, at)
        if reposted:
            self.failures.report_reposted(week.label)
        if self.documents is not None:  # after the chat post, which it never holds up
            self.documents.report_published(week.label, report, rendered.markdown)
        return PublishResult(week.label, bool(posted) and not reposted, tuple(refs), rendered.markdown)

    def _key_points(self, week: IsoWeek, at: datetime, report: Report) -> tuple[KeyPoint, ...]:
        """What the editor approved (or the team's setting lets through, still true of `report`); never a
        model call, and never a reason not to post."""
        try:
            return self.digests.for_publish(week, at, report)
        except Exception:
            log.exception("digest left out of the report", extra={"week": week.label})
            return ()

    def publish_on_schedule(self, at: datetime | None = None) -> PublishResult | None:
        """The scheduled publish. A week in which no prompt or reminder went out (the bot was not
        running, or started after Thursday's prompt) is not posted: every line would read 未更新. The
        editors are told why and that `/zhoubao publish` posts it anyway. Returns None when skipped."""
        at = at or self.ctx.now()
        week = self.ctx.week_of(at)
        if self.week_report.is_published(week) or self.prompted(week) or not self.prompts_were_due(week, at):
            return self.publish(week, at)
        log.info("publish skipped: no prompt went out this week", extra={"week": week.label})
        message_editors(self.ctx, messages.not_published_unprompted(week.label, self.ctx.locale),
                        about="skipped-publish note")
        return None

    def prompted(self, week: IsoWeek) -> bool:
        """Whether any prompt or reminder of `week` reached an owner."""
        with transaction(self.ctx.db) as s:
            d = Directory(s)
            row = d.week(self.ctx.team_id, week.label)
            return row is not None and d.any_prompt_sent(self.ctx.team_id, row.id)

    def prompts_were_due(self, week: IsoWeek, at: datetime) -> bool:
        """Whether the schedule had a prompt or reminder in `week` before `at` that the calendar did not
        skip; a week whose every prompt fell on a holiday still publishes (a report is never dropped)."""
        s, zone = self.ctx.team.schedule, self.ctx.team.zone
        cal = calendar_for(s.calendar)
        for when in (s.prompt, *s.remind):
            nominal = nominal_time(when, week, zone)
            if nominal <= at and effective(cal, "prompt", nominal) is not None:
                return True
        return False

    def refresh_if_published(self, week: IsoWeek, at: datetime) -> bool:
        """After a late answer: if `week`'s report is published, have its stored report and its post
        brought up to date (by `edits`, off the caller's path: storing never waits for the platform).
        True if it is published, so the post will follow."""
        if not self.week_report.is_published(week):
            return False
        self.edits.request(week, at)
        return True

    def _refresh(self, week: IsoWeek, at: datetime) -> None:
        """One edit of a published week's post from what is stored now (`edits` calls it). Raises ChatError
        when the platform refused it (the editors are told)."""
        with self._publishing:
            if self.week_report.is_published(week):
                self._publish(week, at, only_changes=True)
