"""The week's report, read side: what is stored for a week, the report compiled from it and rendered, when it
is published, and the prompt each person is shown. Nothing here sends or stores; the jobs that do
(`bot/services/cycle.py`) and every service that only needs to read take this."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from bot.domain.action_items import OpenAction, is_overdue
from bot.domain.calendar import publish_at
from bot.domain.compile import compile_report, recent_since
from bot.domain.facts import WeekFacts
from bot.domain.incident_question import KEY as QUESTION_KEY
from bot.domain.incident_question import LoggedIncident, Question
from bot.domain.prompts import Prompt, PromptAction, PromptItem
from bot.domain.report import Report
from bot.domain.team import Item, Person
from bot.domain.weeks import IsoWeek
from bot.services.chat import RenderedReport
from bot.services.context import Context
from bot.text import messages
from storage.action_items import ActionItems
from storage.db import transaction
from storage.directory import Directory
from storage.incident_answers import IncidentAnswers
from storage.incidents import Incidents
from storage.reports import Reports
from storage.week_facts import load_week_facts


@dataclass(frozen=True)
class PromptRun:
    """What every prompt of one run (a week's prompts, or its reminders) shows alike, read once for the run
    instead of once per person: the week's logged incidents, who answered the incident question, every open
    action item by owner, and whether the report is out."""

    logged: tuple[LoggedIncident, ...]
    answers: dict[str, Literal["none", "incident"]]
    actions: dict[str, tuple[OpenAction, ...]]
    published: bool


class WeekReport:
    """Facts, compile, render and prompt building for one team's weeks."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        # Weeks seen published: a report, once posted, stays published (its first publish time is never
        # cleared), so every answer need not ask the database again (issue 21).
        self._published: set[str] = set()

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
                                   year_start=year_start, week_end=week.end(zone), away_span=self.away_span(week),
                                   recent_since=recent_since(self.ctx.team, week), week_start=week.start(zone))

    def stored(self, week: IsoWeek) -> WeekFacts:
        """What is stored for `week` itself: its answers and its incidents, none of what its report derives from
        other weeks (the year's downtime, recent incidents, open action items) or from the calendar (who is
        away). For readers that show stored rows rather than the report: the export reads a year of incidents
        less per week (issue 22)."""
        with transaction(self.ctx.db) as s:
            row = Directory(s).week(self.ctx.team_id, week.label)
            return load_week_facts(s, self.ctx.team_id, row.id if row else None, week.label)

    def away_span(self, week: IsoWeek) -> tuple[date, date]:
        """Someone away on every day from the week's prompt to its (calendar-adjusted) publish is 休假."""
        prompt = week.day(self.ctx.team.schedule.prompt.isoweekday)
        publish = self.deadline(week).date()
        return min(prompt, publish), max(prompt, publish)

    def compile(self, week: IsoWeek, at: datetime | None = None) -> Report:
        """`week`'s report compiled now from what is stored, with last week's answers beside it; `at` is its
        "Created" time (now unless given)."""
        return compile_report(self.ctx.team, self.facts(week), self.facts(week.previous(), answers_only=True),
                              compiled_at=at or self.ctx.now())

    def render(self, report: Report) -> RenderedReport:
        """The report as stored and posted: Markdown, Slack text and a Feishu card."""
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
               items: tuple[PromptItem, ...] | None = None, *, ask_incidents: bool | None = None,
               run: PromptRun | None = None) -> Prompt | None:
        """The prompt (kind "prompt") or reminder (any other kind) for one person, or None when they
        have nothing to answer. Every path that shows a prompt — the weekly job, `/zhoubao answer`,
        a form button, a menu — gets it here. The incident question follows the items for every owner
        (unless the team file turns it off, or `ask_incidents` is False: a reminder to someone who answered it).
        `run`: what a run of prompts shares (`prompt_run`), when the caller sends many."""
        items = self.prompt_items(person_id, week) if items is None else items
        asks = self.asks_incidents(person_id) if ask_incidents is None else ask_incidents and self.asks_incidents(person_id)
        # Numbered after all the person's items, as in the Thursday prompt, so `[n]` means one thing all week.
        number = len(self.ctx.team.items_of(person_id)) + 1
        question = self.incident_question(person_id, week, number, run) if asks else None
        # Open action items follow, numbered as if the question were there, so `[n]` holds all week.
        first = number + (1 if self.asks_incidents(person_id) else 0)
        open_actions = run.actions.get(person_id, ()) if run is not None else self.open_actions(person_id)
        actions = tuple(PromptAction(first + i, a) for i, a in enumerate(open_actions))
        if not items and question is None and not actions:
            return None
        shown: Literal["prompt", "remind"] = "prompt" if kind == "prompt" else "remind"
        deadline = self.deadline(week)
        published = shown == "remind" and (run.published if run is not None else self.is_published(week))
        text = messages.prompt_text(shown, week.label, items, deadline, self.ctx.locale, question, actions,
                                    published=published)
        return Prompt(week=week.label, kind=shown, items=items, text=text, locale=self.ctx.locale,
                      deadline=deadline, incidents=question, actions=actions)

    def numbered_keys(self, person_id: str) -> list[str]:
        """What `[n]` means for this person when no prompt of theirs says: their items, the incident
        question, their open action items, numbered as the week's prompt numbers them."""
        return ([it.key for it in self.ctx.team.items_of(person_id)]
                + ([QUESTION_KEY] if self.asks_incidents(person_id) else [])
                + [a.key for a in self.open_actions(person_id)])

    def prompt_run(self, week: IsoWeek) -> PromptRun:
        """What the prompts of `week` share, read in one go (see `PromptRun`)."""
        keys = {v: k for k, v in self.ctx.person_ids.items()}
        today = self.ctx.now().date()
        actions: dict[str, list[OpenAction]] = {}
        with transaction(self.ctx.db) as s:
            numbers = Incidents(s).numbers(self.ctx.team_id)
            for r in ActionItems(s).open_of_team(self.ctx.team_id):
                if r.owner_id in keys:
                    actions.setdefault(keys[r.owner_id], []).append(OpenAction(
                        r.number, numbers[r.incident_id], r.text, r.due, is_overdue(r.due, r.done_at, today)))
        return PromptRun(self._logged(week), self.incident_answers(week), {k: tuple(v) for k, v in actions.items()},
                         self.is_published(week))

    def open_actions(self, person_id: str) -> tuple[OpenAction, ...]:
        """The person's open action items (issue 23), oldest first; overdue as of today."""
        pid = self.ctx.person_ids.get(person_id)
        if pid is None:
            return ()
        today = self.ctx.now().date()
        with transaction(self.ctx.db) as s:
            rows = ActionItems(s).open_of(self.ctx.team_id, pid)
            incidents = Incidents(s)
            return tuple(OpenAction(r.number, incidents.number_of(r.incident_id), r.text, r.due,
                                    is_overdue(r.due, r.done_at, today)) for r in rows)

    # ----- the incident question -----------------------------------------------

    def asks_incidents(self, person_id: str) -> bool:
        """Whether this person's prompts carry the incident question (every owner, unless turned off)."""
        return self.ctx.team.incidents.ask_in_prompt and self.ctx.team.is_owner(person_id)

    def incident_question(self, person_id: str, week: IsoWeek, number: int, run: PromptRun | None = None) -> Question:
        """The incident question as `person_id`'s prompt shows it: the week's logged incidents and their answer."""
        if run is not None:
            return Question(number=number, logged=run.logged, answer=run.answers.get(person_id))
        return Question(number=number, logged=self._logged(week), answer=self.incident_answers(week).get(person_id))

    def _logged(self, week: IsoWeek) -> tuple[LoggedIncident, ...]:
        """The week's logged incidents, as the incident question lists them."""
        zone = self.ctx.team.zone
        with transaction(self.ctx.db) as s:
            row = Directory(s).week(self.ctx.team_id, week.label)
            return tuple(LoggedIncident(i.number, i.started_at.astimezone(zone), i.system, i.what)
                         for i in (Incidents(s).of_week(self.ctx.team_id, row.id) if row else []))

    def incident_answers(self, week: IsoWeek) -> dict[str, Literal["none", "incident"]]:
        """Who has answered the week's incident question, and how (their latest live answer)."""
        keys = {v: k for k, v in self.ctx.person_ids.items()}
        with transaction(self.ctx.db) as s:
            row = Directory(s).week(self.ctx.team_id, week.label)
            latest = IncidentAnswers(s).latest(self.ctx.team_id, row.id) if row else {}
            return {keys[pid]: ("none" if a.kind == "none" else "incident") for pid, a in latest.items() if pid in keys}

    def unanswered_incident_question(self, week: IsoWeek, facts: WeekFacts | None = None) -> list[Person]:
        """Owners asked the incident question who have not answered it (nobody away all week), in team order;
        `facts`: the week's, when the caller has them already."""
        if not self.ctx.team.incidents.ask_in_prompt:
            return []
        answered, away = self.incident_answers(week), (facts or self.facts(week)).away
        return [self.ctx.team.person_by_id[pid] for pid in self.ctx.team.owners()
                if pid not in answered and pid not in away]

    # ----- the published report ------------------------------------------------

    def is_published(self, week: IsoWeek) -> bool:
        """Whether `week`'s report has been posted (its first publish is recorded)."""
        if week.label in self._published:
            return True
        with transaction(self.ctx.db) as s:
            published = Reports(s).published_at(self.ctx.team_id, week.label) is not None
        if published:
            self._published.add(week.label)
        return published


def _text(facts: WeekFacts, item: Item) -> str | None:
    answer = facts.answer(item)
    return answer.text if answer else None
