"""The weekly cycle: open the week, prompt, remind, compile and publish (once; later answers edit the post)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from bot.domain.calendar import calendar_for, effective, nominal_time, publish_at
from bot.domain.compile import compile_report
from bot.domain.facts import WeekFacts
from bot.domain.incident_question import KEY as QUESTION_KEY
from bot.domain.incident_question import LoggedIncident, Question
from bot.domain.prompts import Prompt, PromptItem
from bot.domain.report import Report
from bot.domain.team import Item, ItemKind, Person
from bot.domain.weeks import IsoWeek
from bot.services.chat import POST_GONE, ChatError, MessageRef, RenderedReport
from bot.services.context import Context
from bot.services.delivery import DeliveryFailures, message_editors
from bot.text import messages
from storage.away import Away
from storage.db import transaction
from storage.directory import Directory
from storage.incident_answers import IncidentAnswers
from storage.incidents import Incidents
from storage.models import PromptRow
from storage.reports import Reports
from storage.week_facts import load_week_facts

log = logging.getLogger("zhoubao.cycle")


@dataclass(frozen=True)
class PublishResult:
    week: str
    updated: bool  # True when an earlier post was edited in place
    refs: tuple[MessageRef, ...]
    markdown: str


class WeeklyCycle:
    def __init__(self, ctx: Context, failures: DeliveryFailures | None = None) -> None:
        self.ctx = ctx
        self.failures = failures or DeliveryFailures(ctx)

    # ----- reading ---------------------------------------------------------

    def facts(self, week: IsoWeek, *, answers_only: bool = False) -> WeekFacts:
        """What is stored for `week`; `answers_only` skips incidents, downtime and away (last week's reference)."""
        zone = self.ctx.team.zone
        with transaction(self.ctx.db) as s:
            row = Directory(s).week(self.ctx.team_id, week.label)
            if answers_only:
                return load_week_facts(s, self.ctx.team_id, row.id if row else None, week.label,
                                       with_incidents=False)
            year_start = week.year_start(zone)
            return load_week_facts(s, self.ctx.team_id, row.id if row else None, week.label,
                                   year_start=year_start, week_end=week.end(zone), away_span=self.away_span(week))

    def away_span(self, week: IsoWeek) -> tuple[date, date]:
        """Someone away on every day from the week's prompt to its (calendar-adjusted) publish is 休假."""
        prompt = week.day(self.ctx.team.schedule.prompt.isoweekday)
        publish = self.deadline(week).date()
        return min(prompt, publish), max(prompt, publish)

    def compile(self, week: IsoWeek, at: datetime | None = None) -> Report:
        return compile_report(self.ctx.team, self.facts(week), self.facts(week.previous(), answers_only=True),
                              compiled_at=at or self.ctx.now())

    def render(self, report: Report) -> RenderedReport:
        r = self.ctx.renderer
        return RenderedReport(r.markdown(report), r.slack(report), r.render(report, "feishu"))

    def deadline(self, week: IsoWeek) -> datetime:
        """When `week`'s report is published (the calendar-adjusted time the scheduler fires)."""
        return publish_at(self.ctx.team.schedule, week, self.ctx.team.zone)

    def prompt_items(self, person_id: str, week: IsoWeek, facts: WeekFacts | None = None,
                     last: WeekFacts | None = None) -> tuple[PromptItem, ...]:
        facts = facts or self.facts(week)
        last = last or self.facts(week.previous(), answers_only=True)
        return tuple(
            PromptItem(number=n, key=it.key, title=it.title, kind=it.kind, name=it.name,
                       last_week=_text(last, it), this_week=_text(facts, it),
                       unit=it.unit)
            for n, it in enumerate(self.ctx.team.items_of(person_id), start=1))

    def prompt(self, person_id: str, week: IsoWeek, kind: str = "prompt",
               items: tuple[PromptItem, ...] | None = None, *, ask_incidents: bool | None = None) -> Prompt | None:
        """The prompt (kind "prompt") or reminder (any other kind) for one person, or None when they
        have nothing to answer. Every path that shows a prompt — the weekly job, `/zhoubao answer`,
        a form button, a menu — gets it here. The incident question follows the items for every owner
        (unless the team file turns it off, or `ask_incidents` is False: a reminder to someone who answered it)."""
        items = self.prompt_items(person_id, week) if items is None else items
        asks = self.asks_incidents(person_id) if ask_incidents is None else ask_incidents and self.asks_incidents(person_id)
        # Numbered after all the person's items, as in the Thursday prompt, so `[n]` means one thing all week.
        number = len(self.ctx.team.items_of(person_id)) + 1
        question = self.incident_question(person_id, week, number) if asks else None
        if not items and question is None:
            return None
        shown: Literal["prompt", "remind"] = "prompt" if kind == "prompt" else "remind"
        deadline = self.deadline(week)
        text = messages.prompt_text(shown, week.label, items, deadline, self.ctx.locale, question)
        return Prompt(week=week.label, kind=shown, items=items, text=text, locale=self.ctx.locale,
                      deadline=deadline, incidents=question)

    # ----- the incident question -----------------------------------------------

    def asks_incidents(self, person_id: str) -> bool:
        """Whether this person's prompts carry the incident question (every owner, unless turned off)."""
        return self.ctx.team.incidents.ask_in_prompt and person_id in self.ctx.team.owners()

    def incident_question(self, person_id: str, week: IsoWeek, number: int) -> Question:
        """The incident question as `person_id`'s prompt shows it: the week's logged incidents and their answer."""
        zone = self.ctx.team.zone
        with transaction(self.ctx.db) as s:
            row = Directory(s).week(self.ctx.team_id, week.label)
            logged = tuple(LoggedIncident(i.number, i.started_at.astimezone(zone), i.system, i.what)
                           for i in (Incidents(s).of_week(self.ctx.team_id, row.id) if row else []))
        answer = self.incident_answers(week).get(person_id)
        return Question(number=number, logged=logged, answer=answer)

    def incident_answers(self, week: IsoWeek) -> dict[str, Literal["none", "incident"]]:
        """Who has answered the week's incident question, and how (their latest live answer)."""
        keys = {v: k for k, v in self.ctx.person_ids.items()}
        with transaction(self.ctx.db) as s:
            row = Directory(s).week(self.ctx.team_id, week.label)
            latest = IncidentAnswers(s).latest(self.ctx.team_id, row.id) if row else {}
            return {keys[pid]: ("none" if a.kind == "none" else "incident") for pid, a in latest.items() if pid in keys}

    def unanswered_incident_question(self, week: IsoWeek) -> list[Person]:
        """Owners asked the incident question who have not answered it (nobody away all week), in team order."""
        if not self.ctx.team.incidents.ask_in_prompt:
            return []
        answered, away = self.incident_answers(week), self.facts(week).away
        return [self.ctx.team.person_by_id[pid] for pid in self.ctx.team.owners()
                if pid not in answered and pid not in away]

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
        facts, last = self.facts(week), self.facts(week.previous(), answers_only=True)
        sent = 0
        answered = self.incident_answers(week) if kind != "prompt" else {}
        with transaction(self.ctx.db) as s:  # away today, even if not for the whole week
            away_now = Away(s).away_throughout(self.ctx.team_id, at.date(), at.date())
        for pid in self.ctx.team.owners():
            if pid in facts.away or pid in away_now:
                continue
            items = self.prompt_items(pid, week, facts, last)
            ask = self.asks_incidents(pid)
            if kind != "prompt":
                items = tuple(i for i in items if i.this_week is None
                              and i.kind not in (ItemKind.EDITOR, ItemKind.NOTE))
                ask = ask and pid not in answered
            if not items and not ask:
                continue
            if self._send_prompt(self.ctx.team.person_by_id[pid], week, kind, items, at, ask):
                sent += 1
        return sent

    def _send_prompt(self, person: Person, week: IsoWeek, kind: str, items: tuple[PromptItem, ...],
                     at: datetime, ask_incidents: bool | None = None) -> bool:
        platform = self.ctx.chat.platform
        key = f"{self.ctx.team_id}:{week.label}:{person.id}:{kind}:{platform}"
        ask_incidents = self.asks_incidents(person.id) if ask_incidents is None else ask_incidents
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
                                             item_keys=[i.key for i in items] + ([QUESTION_KEY] if ask_incidents else [])))
            row_id = row.id
        prompt = self.prompt(person.id, week, kind, items, ask_incidents=ask_incidents)
        assert prompt is not None  # the caller skips people with nothing to answer
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
        self.tell_editors_missing(self.ctx.week_of(at), at)
        return sent

    def tell_editors_missing(self, week: IsoWeek, at: datetime) -> None:
        report = self.compile(week, at)
        text = messages.missing_list(week.label, report.missing, self.ctx.locale,
                                     [p.name for p in self.unanswered_incident_question(week)])
        message_editors(self.ctx, text, about="missing list")

    def publish(self, week: IsoWeek | None = None, at: datetime | None = None) -> PublishResult:
        """Compile, store and post the report; if it was posted already, edit the post instead."""
        at = at or self.ctx.now()
        week = week or self.ctx.week_of(at)
        chat, channel = self.ctx.chat, self.ctx.team.team.report_channel
        with transaction(self.ctx.db) as s:
            week_id = Directory(s).ensure_week(self.ctx.team_id, week.label).id
            earlier = Reports(s).get(self.ctx.team_id, week_id)
            # A republish keeps the original "Created" time, so the post does not jump around.
            compiled_at = earlier.published_at if earlier and earlier.published_at else at
        report = self.compile(week, compiled_at)
        rendered = self.render(report)
        with transaction(self.ctx.db) as s:
            reports = Reports(s)
            row = reports.save(self.ctx.team_id, week_id, markdown=rendered.markdown, slack=rendered.slack,
                               feishu=rendered.feishu, at=at)
            posted = [MessageRef(chat.platform, p.channel, p.message_id or "")
                      for p in reports.posts(row.id, chat.platform)]
            report_id = row.id
        key = f"{self.ctx.team_id}:{week.label}:report"
        reposted = False
        try:
            if posted:
                try:
                    refs = chat.update_report(posted, report, rendered)
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
        return PublishResult(week.label, bool(posted) and not reposted, tuple(refs), rendered.markdown)

    def publish_on_schedule(self, at: datetime | None = None) -> PublishResult | None:
        """The scheduled publish. A week in which no prompt or reminder went out (the bot was not
        running, or started after Thursday's prompt) is not posted: every line would read 未更新. The
        editors are told why and that `/zhoubao publish` posts it anyway. Returns None when skipped."""
        at = at or self.ctx.now()
        week = self.ctx.week_of(at)
        if self.is_published(week) or self.prompted(week) or not self.prompts_were_due(week, at):
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

    def is_published(self, week: IsoWeek) -> bool:
        with transaction(self.ctx.db) as s:
            row = Reports(s).by_label(self.ctx.team_id, week.label)
            return bool(row and row.published_at)

    def refresh_if_published(self, week: IsoWeek, at: datetime) -> bool:
        """After a late answer: update the stored report and the posted message. True if it did; False
        if the report is not published or the platform refused the edit (the editors are told)."""
        if not self.is_published(week):
            return False
        try:
            self.publish(week, at)
        except ChatError:
            return False
        return True



def _text(facts: WeekFacts, item: Item) -> str | None:
    answer = facts.answer(item)
    return answer.text if answer else None
