"""Postmortem action items: numbered per team (A1, A2, …), with their history of changes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from storage.models import ActionItemChangeRow, ActionItemRow, TeamRow


class ActionItems:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, team_id: int, incident_id: int, text: str, owner_id: int, due: date, at: datetime,
            by: str | None) -> ActionItemRow:
        """A new open action item, numbered from the team's counter (updated in the same transaction, so
        two instances never share a number), with its `opened` change."""
        number = self.s.execute(update(TeamRow).where(TeamRow.id == team_id)
                                .values(action_seq=TeamRow.action_seq + 1)
                                .returning(TeamRow.action_seq)).scalar_one()
        row = ActionItemRow(team_id=team_id, number=number, incident_id=incident_id, text=text, owner_id=owner_id,
                            due=due, created_at=at, created_by=by)
        self.s.add(row)
        self.s.flush()
        self._change(row, "opened", due, "", at, by)
        return row

    def get(self, team_id: int, number: int) -> ActionItemRow | None:
        return self.s.scalars(select(ActionItemRow).where(
            ActionItemRow.team_id == team_id, ActionItemRow.number == number)).first()

    def close(self, row: ActionItemRow, at: datetime, by: str | None) -> None:
        """The action item is done (at `at`)."""
        row.done_at = at
        self._change(row, "done", None, "", at, by)

    def postpone(self, row: ActionItemRow, due: date, why: str, at: datetime, by: str | None) -> None:
        """The action item is due later, for the reason given."""
        row.due = due
        self._change(row, "postponed", due, why, at, by)

    def _change(self, row: ActionItemRow, kind: str, due: date | None, note: str, at: datetime,
                by: str | None) -> None:
        self.s.add(ActionItemChangeRow(action_item_id=row.id, kind=kind, due=due, note=note, at=at, by=by))
        self.s.flush()

    def open_of(self, team_id: int, owner_id: int) -> list[ActionItemRow]:
        """The owner's open action items, oldest first."""
        return list(self.s.scalars(select(ActionItemRow).where(
            ActionItemRow.team_id == team_id, ActionItemRow.owner_id == owner_id,
            ActionItemRow.done_at.is_(None)).order_by(ActionItemRow.number)))

    def open_of_team(self, team_id: int) -> list[ActionItemRow]:
        """Every open action item of the team, oldest first (one query for a whole prompt run)."""
        return list(self.s.scalars(select(ActionItemRow).where(
            ActionItemRow.team_id == team_id, ActionItemRow.done_at.is_(None)).order_by(ActionItemRow.number)))

    def current(self, team_id: int, since: datetime, until: datetime) -> list[ActionItemRow]:
        """Action items created before `until` that were open then or were done from `since` on: what a
        week's report shows."""
        return list(self.s.scalars(select(ActionItemRow).where(
            ActionItemRow.team_id == team_id, ActionItemRow.created_at < until,
            or_(ActionItemRow.done_at.is_(None), ActionItemRow.done_at >= since)).order_by(ActionItemRow.number)))

    def opened_and_closed(self, team_id: int, since: datetime, until: datetime) -> list[tuple[datetime, datetime | None]]:
        """(created, done) of the action items created or done in [since, until)."""
        return [(a, b) for a, b in self.s.execute(select(ActionItemRow.created_at, ActionItemRow.done_at).where(
            ActionItemRow.team_id == team_id,
            or_(ActionItemRow.created_at.between(since, until), ActionItemRow.done_at.between(since, until))))]

    def history(self, row: ActionItemRow) -> list[ActionItemChangeRow]:
        return list(self.s.scalars(select(ActionItemChangeRow).where(
            ActionItemChangeRow.action_item_id == row.id).order_by(ActionItemChangeRow.at, ActionItemChangeRow.id)))
