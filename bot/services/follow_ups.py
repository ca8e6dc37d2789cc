"""What follows an incident (issue 23): its postmortem link and its action items, from `/incident` and from
the weekly prompt's `[n] 完成` / `[n] 延期 7/15 …` answers. Bad input stores nothing and says why."""

from __future__ import annotations

from datetime import date, datetime

from bot.domain.action_items import (
    ActionAnswer,
    FollowUp,
    parse_follow_up,
    read_action_answer,
)
from bot.domain.incidents import IncidentSyntaxError
from bot.services.chat import Reply
from bot.services.context import Context
from bot.services.cycle import WeeklyCycle
from bot.text import messages
from bot.text.catalogue import say
from storage.action_items import ActionItems
from storage.db import transaction
from storage.incidents import Incidents
from storage.models import ActionItemRow


class FollowUps:
    def __init__(self, ctx: Context, cycle: WeeklyCycle) -> None:
        self.ctx = ctx
        self.cycle = cycle

    def parse(self, body: str, now: datetime) -> FollowUp | None:
        """The follow-up an `/incident` body asks for (None: another command); IncidentSyntaxError."""
        def person(who: str) -> str | None:
            found = self.ctx.team.find_person(who)
            return found.id if found else None

        return parse_follow_up(body, today=now.astimezone(self.ctx.team.zone).date(), person=person)

    def run(self, cmd: FollowUp, person_id: str | None, user: str, now: datetime) -> Reply:
        """Record a postmortem, open an action item or close one, for a team member (`person_id`)."""
        loc = self.ctx.locale
        if person_id is None:
            return Reply(messages.not_member(loc), ok=False)
        if cmd.kind == "done":
            assert cmd.item is not None
            return self._close(cmd.item, person_id, user, now)
        with transaction(self.ctx.db) as s:
            incident = Incidents(s).get(self.ctx.team_id, cmd.incident or 0)
            if incident is None:
                return Reply(say(loc, "incident.no_such", number=cmd.incident), ok=False)
            if cmd.kind == "postmortem":
                Incidents(s).set_postmortem(incident, cmd.link, now)
                text = say(loc, "followup.postmortem", incident=incident.number, link=cmd.link)
            else:
                assert cmd.due is not None
                row = ActionItems(s).add(self.ctx.team_id, incident.id, cmd.text, self.ctx.person_ids[cmd.owner],
                                         cmd.due, now, user)
                text = say(loc, "followup.action_added", number=row.number, incident=incident.number,
                           text=cmd.text, owner=self.ctx.team.person_by_id[cmd.owner].name, due=_day(cmd.due))
        self.cycle.refresh_if_published(self.ctx.week_of(now), now)
        return Reply(text)

    def answer(self, person_id: str, number: int, text: str, user: str, at: datetime) -> Reply:
        """A prompt's answer to action item A<number>: `完成`, or `延期 7/15 <why>`."""
        loc = self.ctx.locale
        try:
            read = read_action_answer(text, today=at.astimezone(self.ctx.team.zone).date())
        except IncidentSyntaxError as exc:
            problem = say(loc, f"incident.syntax.{exc.key}", **exc.values)
            return Reply(f"{problem}\n{say(loc, 'followup.answer_usage')}", ok=False)
        if read.kind == "done":
            return self._close(number, person_id, user, at)
        return self._postpone(number, read, person_id, user, at)

    def _mine(self, row: ActionItemRow | None, person_id: str) -> bool:
        return row is not None and (row.owner_id == self.ctx.person_ids.get(person_id)
                                    or self.ctx.team.is_editor(person_id))

    def _not_open(self, row: ActionItemRow | None, number: int, person_id: str, *, done_ok: bool) -> Reply | None:
        """Why action item `number` cannot be closed or postponed by `person_id` (None: it can): unknown, not
        theirs, or already done (`done_ok`: saying so is no error, as for a second 完成)."""
        loc = self.ctx.locale
        if row is None:
            return Reply(say(loc, "followup.no_such", number=number), ok=False)
        if not self._mine(row, person_id):
            return Reply(messages.refused(loc), ok=False)
        if row.done_at is not None:
            return Reply(say(loc, "followup.already_done", number=number), ok=done_ok)
        return None

    def _close(self, number: int, person_id: str, user: str, at: datetime) -> Reply:
        loc = self.ctx.locale
        with transaction(self.ctx.db) as s:
            repo = ActionItems(s)
            row = repo.get(self.ctx.team_id, number)
            refused = self._not_open(row, number, person_id, done_ok=True)
            if refused is not None:
                return refused
            assert row is not None
            repo.close(row, at, user)
            text = say(loc, "followup.done", number=number, text=row.text)
        self.cycle.refresh_if_published(self.ctx.week_of(at), at)
        return Reply(text)

    def _postpone(self, number: int, read: ActionAnswer, person_id: str, user: str, at: datetime) -> Reply:
        loc = self.ctx.locale
        assert read.due is not None
        with transaction(self.ctx.db) as s:
            repo = ActionItems(s)
            row = repo.get(self.ctx.team_id, number)
            refused = self._not_open(row, number, person_id, done_ok=False)
            if refused is not None:
                return refused
            assert row is not None
            repo.postpone(row, read.due, read.why, at, user)
            text = say(loc, "followup.postponed", number=number, due=_day(read.due), why=read.why)
        self.cycle.refresh_if_published(self.ctx.week_of(at), at)
        return Reply(text)


def _day(d: date) -> str:
    return f"{d:%m/%d}"
