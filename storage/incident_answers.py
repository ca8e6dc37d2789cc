"""Answers to the weekly prompt's incident question, week-scoped; the latest live one per person counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import IncidentAnswerRow


@dataclass(frozen=True)
class NewIncidentAnswer:
    team_id: int
    week_id: int
    person_id: int
    kind: str  # none | incident | unclear
    text: str
    platform: str
    source_id: str
    at: datetime
    incident_id: int | None = None


class IncidentAnswers:
    def __init__(self, session: Session) -> None:
        self.s = session

    def by_source(self, team_id: int, platform: str, source_id: str) -> IncidentAnswerRow | None:
        return self.s.scalars(select(IncidentAnswerRow).where(
            IncidentAnswerRow.team_id == team_id, IncidentAnswerRow.platform == platform,
            IncidentAnswerRow.source_id == source_id)).first()

    def add(self, n: NewIncidentAnswer) -> IncidentAnswerRow:
        row = IncidentAnswerRow(team_id=n.team_id, week_id=n.week_id, person_id=n.person_id, kind=n.kind,
                                text=n.text, incident_id=n.incident_id, platform=n.platform,
                                source_id=n.source_id, created_at=n.at)
        self.s.add(row)
        self.s.flush()
        return row

    def latest(self, team_id: int, week_id: int) -> dict[int, IncidentAnswerRow]:
        """Each person's latest live answer of the week that settles the question (none or incident)."""
        rows = self.s.scalars(select(IncidentAnswerRow).where(
            IncidentAnswerRow.team_id == team_id, IncidentAnswerRow.week_id == week_id,
            IncidentAnswerRow.deleted_at.is_(None), IncidentAnswerRow.kind.in_(("none", "incident")))
            .order_by(IncidentAnswerRow.created_at, IncidentAnswerRow.id))
        return {r.person_id: r for r in rows}

    def of_week(self, team_id: int, week_id: int) -> list[IncidentAnswerRow]:
        """Every answer of the week, unclear and withdrawn ones too, oldest first."""
        return list(self.s.scalars(select(IncidentAnswerRow).where(
            IncidentAnswerRow.team_id == team_id, IncidentAnswerRow.week_id == week_id)
            .order_by(IncidentAnswerRow.created_at, IncidentAnswerRow.id)))

    def withdraw(self, team_id: int, platform: str, source_id: str, at: datetime) -> IncidentAnswerRow | None:
        """The answer a deleted message gave no longer counts; returns it (None if there was none)."""
        row = self.by_source(team_id, platform, source_id)
        if row is not None and row.deleted_at is None:
            row.deleted_at = at
        return row
