"""Answers to the weekly prompt's incident question, from a message, a form or the one-click button.

"Nothing to add" is recorded; an incident line is filed through the incident desk with the owner as
reporter and the prompt as its source; anything else is kept and the owner asked which it is. Nothing
typed is lost: a message is stored by the inbox before it comes here, and every answer is a row.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.incident_question import read_answer
from bot.domain.team import Person
from bot.domain.weeks import IsoWeek
from bot.services.chat import Reply
from bot.services.context import Context
from bot.services.cycle import WeeklyCycle
from bot.services.incident_desk import IncidentDesk
from bot.text.catalogue import say
from storage.db import transaction
from storage.directory import Directory
from storage.incident_answers import IncidentAnswers, NewIncidentAnswer
from storage.incidents import Incidents
from storage.models import IncidentRow

SOURCE = "prompt"  # an incident filed from an answer to the prompt has the prompt as its source


class IncidentQuestion:
    def __init__(self, ctx: Context, cycle: WeeklyCycle, desk: IncidentDesk | None = None) -> None:
        self.ctx = ctx
        self.week_report = cycle.week_report
        self.desk = desk or IncidentDesk(ctx, cycle)

    def answer(self, person: Person, week: IsoWeek, text: str, platform: str, source_id: str,
               at: datetime) -> Reply:
        """Record `person`'s answer `text` to `week`'s incident question (`source_id`: the message or form
        it came from, so a redelivery records nothing twice); the Reply says what it was taken as."""
        loc = self.ctx.locale
        if not self.week_report.asks_incidents(person.id):
            return Reply(say(loc, "question.off"), ok=False)
        with transaction(self.ctx.db) as s:
            if IncidentAnswers(s).by_source(self.ctx.team_id, platform, source_id) is not None:
                return Reply("", ok=True)
        now = at.astimezone(self.ctx.team.zone)
        read = read_answer(text, now=now, severities=self.ctx.team.incidents.severities,
                           causes=self.ctx.team.cause_book)
        if read.kind == "none":
            self._record(person, week, "none", text, platform, source_id, at)
            return Reply(say(loc, "question.none_stored"))
        if read.kind == "unclear" or read.draft is None:
            self._record(person, week, "unclear", text, platform, source_id, at)
            problem = say(loc, f"incident.syntax.{read.problem.key}", **read.problem.values) if read.problem else ""
            return Reply("\n".join(p for p in (problem, say(loc, "question.unclear")) if p), ok=False)
        outcome = self.desk.add(read.draft, person.id, SOURCE, f"{platform}:{source_id}"[:128], now)
        with transaction(self.ctx.db) as s:
            filed = Incidents(s).get(self.ctx.team_id, outcome.number or 0)
            incident_id = filed.id if filed is not None else None
        self._record(person, week, "incident", text, platform, source_id, at, incident_id)
        self.desk.announce(outcome)
        return Reply(f"{outcome.reply.text}\n{say(loc, 'question.filed_hint', number=outcome.number)}")

    def nothing_to_add(self, person: Person, week: IsoWeek, platform: str, source_id: str, at: datetime) -> Reply:
        """The one-click "nothing to add" of a form or prompt card."""
        if not self.week_report.asks_incidents(person.id):
            return Reply(say(self.ctx.locale, "question.off"), ok=False)
        with transaction(self.ctx.db) as s:
            if IncidentAnswers(s).by_source(self.ctx.team_id, platform, source_id) is not None:
                return Reply(say(self.ctx.locale, "question.none_stored"))
        self._record(person, week, "none", "", platform, source_id, at)
        return Reply(say(self.ctx.locale, "question.none_stored"))

    def filed(self, person: Person, week: IsoWeek, number: int | None, platform: str, source_id: str,
              at: datetime) -> None:
        """An incident form opened from the question filed incident `number`: that answers the question."""
        if number is None or not self.week_report.asks_incidents(person.id):
            return
        with transaction(self.ctx.db) as s:
            if IncidentAnswers(s).by_source(self.ctx.team_id, platform, source_id) is not None:
                return
            filed = Incidents(s).get(self.ctx.team_id, number)
            incident_id = filed.id if filed is not None else None
        self._record(person, week, "incident", "", platform, source_id, at, incident_id)

    def withdraw(self, platform: str, source_id: str, at: datetime) -> Reply | None:
        """A deleted message's answer no longer counts; an incident it filed stays (the reply says how to
        remove it). None when the message answered nothing."""
        loc = self.ctx.locale
        with transaction(self.ctx.db) as s:
            row = IncidentAnswers(s).withdraw(self.ctx.team_id, platform, source_id, at)
            if row is None:
                return None
            incident = s.get(IncidentRow, row.incident_id) if row.incident_id else None
            number = incident.number if incident is not None and incident.deleted_at is None else None
        if number is not None:
            return Reply(say(loc, "question.withdrawn_kept", number=number))
        return Reply(say(loc, "question.withdrawn"))

    def _record(self, person: Person, week: IsoWeek, kind: str, text: str, platform: str, source_id: str,
                at: datetime, incident_id: int | None = None) -> None:
        with transaction(self.ctx.db) as s:
            week_id = Directory(s).ensure_week(self.ctx.team_id, week.label).id
            IncidentAnswers(s).add(NewIncidentAnswer(
                team_id=self.ctx.team_id, week_id=week_id, person_id=self.ctx.person_ids[person.id], kind=kind,
                text=text, platform=platform, source_id=source_id, at=at, incident_id=incident_id))
