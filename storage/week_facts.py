"""Loading everything stored for one (team, week) as `WeekFacts`, through the (team, week) indexes only."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.facts import ActionItemFact, BankStatusFact, EntryFact, IncidentFact, MetricFact, WeekFacts
from storage.action_items import ActionItems
from storage.away import Away
from storage.incidents import Incidents
from storage.models import BankStatusRow, EntryRow, IncidentRow, MetricValueRow, PersonRow


def load_week_facts(s: Session, team_id: int, week_id: int | None, label: str, *,
                    year_start: datetime | None = None, week_end: datetime | None = None,
                    away_span: tuple[date, date] | None = None, with_incidents: bool = True,
                    recent_since: datetime | None = None, week_start: datetime | None = None) -> WeekFacts:
    """The week's facts; an unknown week (week_id None) has none. Downtime is summed from year_start to week_end.
    People away on every day of `away_span` are in `away`; incidents that started from `recent_since` to
    week_end are `recent_incidents`; action items current from week_start to week_end are `action_items`."""
    away = Away(s).away_throughout(team_id, *away_span) if away_span else frozenset()
    if week_id is None:
        return WeekFacts(week=label, away=away)
    keys: dict[int | None, str] = {
        pid: key for pid, key in s.execute(select(PersonRow.id, PersonRow.key).where(PersonRow.team_id == team_id))}
    entries = {
        r.item_key: EntryFact(item_key=r.item_key, text=r.text, progress=r.progress, main_problem=r.main_problem,
                              author=keys.get(r.author_id), updated_at=r.updated_at)
        for r in s.scalars(select(EntryRow).where(EntryRow.team_id == team_id, EntryRow.week_id == week_id))
    }
    banks = {
        r.item_key: BankStatusFact(item_key=r.item_key, note=r.note, stage=r.stage, author=keys.get(r.author_id),
                                   updated_at=r.updated_at)
        for r in s.scalars(select(BankStatusRow).where(BankStatusRow.team_id == team_id,
                                                        BankStatusRow.week_id == week_id))
    }
    metrics = {
        r.item_key: MetricFact(item_key=r.item_key, value_text=r.value_text, value=r.value,
                               author=keys.get(r.author_id))
        for r in s.scalars(select(MetricValueRow).where(MetricValueRow.team_id == team_id,
                                                         MetricValueRow.week_id == week_id))
    }
    repo = Incidents(s)

    def fact(r: IncidentRow) -> IncidentFact:
        return IncidentFact(number=r.number, started_at=r.started_at, what=r.what, system=r.system, cause=r.cause,
                            impact=r.impact, recovered_at=r.recovered_at, severity=r.severity, weight=r.weight,
                            counts_toward_availability=r.counts_toward_availability,
                            reporter=keys.get(r.reporter_id), reporter_name=r.reporter_name, source=r.source,
                            cause_class=r.cause_class, cause_bank=r.cause_bank, postmortem=r.postmortem,
                            detected_at=r.detected_at)

    incidents = tuple(fact(r) for r in repo.of_week(team_id, week_id)) if with_incidents else ()
    recent = tuple(fact(r) for r in repo.started_between(team_id, recent_since, week_end)) \
        if with_incidents and recent_since and week_end else ()
    downtime = repo.downtime_seconds(team_id, year_start, week_end) if year_start and week_end else 0.0
    actions = tuple(
        ActionItemFact(number=a.number, incident=repo.number_of(a.incident_id), text=a.text,
                       owner=keys.get(a.owner_id) or "", due=a.due, created_at=a.created_at, done_at=a.done_at)
        for a in ActionItems(s).current(team_id, week_start, week_end)
    ) if with_incidents and week_start and week_end else ()
    return WeekFacts(week=label, entries=entries, banks=banks, metrics=metrics, incidents=incidents,
                     away=away, year_downtime_seconds=downtime, recent_incidents=recent, action_items=actions)
