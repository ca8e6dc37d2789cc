"""People's time away: inclusive date ranges per (team, person)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import AwayRow, PersonRow


class Away:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, team_id: int, person_id: int, start: date, end: date, at: datetime) -> AwayRow:
        row = AwayRow(team_id=team_id, person_id=person_id, start=start, end=end, created_at=at)
        self.s.add(row)
        self.s.flush()
        return row

    def of_person(self, team_id: int, person_id: int, from_day: date) -> list[AwayRow]:
        """Periods that end on or after `from_day`, earliest first."""
        return list(self.s.scalars(select(AwayRow).where(
            AwayRow.team_id == team_id, AwayRow.person_id == person_id, AwayRow.end >= from_day)
            .order_by(AwayRow.start)))

    def cancel(self, team_id: int, person_id: int, today: date) -> int:
        """End the current period yesterday and drop future ones; returns how many periods changed."""
        changed = 0
        for row in self.of_person(team_id, person_id, today):
            if row.start < today:
                row.end = today - timedelta(days=1)
            else:
                self.s.execute(delete(AwayRow).where(AwayRow.id == row.id))
            changed += 1
        self.s.flush()
        return changed

    def away_throughout(self, team_id: int, first: date, last: date) -> frozenset[str]:
        """Person keys (team-file ids) away on every day from `first` to `last`, inclusive."""
        rows = self.s.execute(
            select(PersonRow.key, AwayRow.start, AwayRow.end).join(PersonRow, PersonRow.id == AwayRow.person_id)
            .where(AwayRow.team_id == team_id, AwayRow.start <= last, AwayRow.end >= first)).all()
        days = {first + timedelta(days=i) for i in range((last - first).days + 1)}
        covered: dict[str, set[date]] = {}
        for key, start, end in rows:
            covered.setdefault(key, set()).update(d for d in days if start <= d <= end)
        return frozenset(k for k, c in covered.items() if c >= days)
