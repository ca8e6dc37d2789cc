"""Production incidents: numbered per team, week-scoped reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import IncidentRow, TeamRow

# What an incident's owner may change after filing it (`/incident edit`, a form, an import).
FIELDS = frozenset({"started_at", "what", "system", "cause", "impact", "recovered_at", "severity", "weight",
                    "counts_toward_availability", "cause_class", "cause_bank", "detected_at"})


@dataclass(frozen=True)
class NewIncident:
    team_id: int
    week_id: int
    started_at: datetime
    what: str
    system: str
    cause: str
    impact: str
    recovered_at: datetime | None
    severity: str | None
    weight: Decimal
    counts_toward_availability: bool
    reporter_id: int | None
    source: str
    source_ref: str | None
    at: datetime
    reporter_user: str | None = None
    reporter_name: str | None = None
    cause_class: str = ""
    cause_bank: str = ""
    detected_at: datetime | None = None


class Incidents:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, n: NewIncident) -> IncidentRow:
        # The counter row is updated in the same transaction, so two instances never share a number.
        number = self.s.execute(update(TeamRow).where(TeamRow.id == n.team_id)
                                .values(incident_seq=TeamRow.incident_seq + 1)
                                .returning(TeamRow.incident_seq)).scalar_one()
        row = IncidentRow(team_id=n.team_id, week_id=n.week_id, number=number, started_at=n.started_at,
                          recovered_at=n.recovered_at, system=n.system, what=n.what, cause=n.cause,
                          impact=n.impact, severity=n.severity, weight=n.weight,
                          counts_toward_availability=n.counts_toward_availability, reporter_id=n.reporter_id,
                          cause_class=n.cause_class, cause_bank=n.cause_bank, detected_at=n.detected_at,
                          reporter_user=n.reporter_user, reporter_name=n.reporter_name, source=n.source, source_ref=n.source_ref, created_at=n.at, updated_at=n.at)
        self.s.add(row)
        self.s.flush()
        return row

    def update(self, row: IncidentRow, changes: Mapping[str, object], at: datetime, *,
               week_id: int | None = None) -> None:
        """Change the incident's `FIELDS` named in `changes` (and its week); a deleted one counts again."""
        unknown = set(changes) - FIELDS
        if unknown:
            raise ValueError(f"not an incident field: {', '.join(sorted(unknown))}")
        for name, value in changes.items():
            setattr(row, name, value)
        if week_id is not None:
            row.week_id = week_id
        row.deleted_at, row.updated_at = None, at
        self.s.flush()

    def resolve(self, row: IncidentRow, recovered_at: datetime, at: datetime) -> None:
        """The incident recovered at `recovered_at` (said at `at`)."""
        row.recovered_at, row.updated_at = recovered_at, at
        self.s.flush()

    def withdraw(self, row: IncidentRow, at: datetime) -> None:
        """The incident no longer counts (deleted, or replaced by an import); the row stays in history."""
        row.deleted_at = row.updated_at = at
        self.s.flush()

    def by_source(self, team_id: int, source: str, source_ref: str) -> IncidentRow | None:
        return self.s.scalars(select(IncidentRow).where(
            IncidentRow.team_id == team_id, IncidentRow.source == source,
            IncidentRow.source_ref == source_ref)).first()

    def get(self, team_id: int, number: int) -> IncidentRow | None:
        return self.s.scalars(select(IncidentRow).where(
            IncidentRow.team_id == team_id, IncidentRow.number == number,
            IncidentRow.deleted_at.is_(None))).first()

    def of_week(self, team_id: int, week_id: int, *, source: str | None = None) -> list[IncidentRow]:
        """The week's live incidents, by start; only those from `source` when it is given."""
        query = select(IncidentRow).where(
            IncidentRow.team_id == team_id, IncidentRow.week_id == week_id, IncidentRow.deleted_at.is_(None))
        if source is not None:
            query = query.where(IncidentRow.source == source)
        return list(self.s.scalars(query.order_by(IncidentRow.started_at, IncidentRow.number)))

    def started_between(self, team_id: int, since: datetime, until: datetime) -> list[IncidentRow]:
        """Live incidents that started in [since, until), by start (an error budget's window, repeats)."""
        return list(self.s.scalars(select(IncidentRow).where(
            IncidentRow.team_id == team_id, IncidentRow.started_at >= since, IncidentRow.started_at < until,
            IncidentRow.deleted_at.is_(None)).order_by(IncidentRow.started_at, IncidentRow.number)))

    def numbers(self, team_id: int) -> dict[int, int]:
        """Row id -> the team's number, for every incident of the team."""
        rows = self.s.execute(select(IncidentRow.id, IncidentRow.number).where(IncidentRow.team_id == team_id))
        return {row_id: number for row_id, number in rows}

    def number_of(self, incident_id: int) -> int:
        """The team's number (#3) of the incident with row id `incident_id`."""
        return int(self.s.scalars(select(IncidentRow.number).where(IncidentRow.id == incident_id)).one())

    def set_postmortem(self, row: IncidentRow, link: str, at: datetime) -> None:
        """Record the incident's postmortem (its link, as written)."""
        row.postmortem, row.updated_at = link, at
        self.s.flush()

    def downtime_seconds(self, team_id: int, since: datetime, until: datetime) -> float:
        """Recovered, availability-counting downtime of incidents that started in [since, until)."""
        rows = self.s.execute(select(IncidentRow.started_at, IncidentRow.recovered_at).where(
            IncidentRow.team_id == team_id, IncidentRow.started_at >= since, IncidentRow.started_at < until,
            IncidentRow.counts_toward_availability.is_(True), IncidentRow.recovered_at.is_not(None),
            IncidentRow.deleted_at.is_(None)))
        # Counted up to `until`: an outage still running past the period takes only its part of it.
        return sum((max(0.0, (min(rec, until) - start).total_seconds()) for start, rec in rows if rec is not None), 0.0)
