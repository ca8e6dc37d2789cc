"""Reads across weeks for the dashboard: the week list, trends, an item's page, exports.

Every read is bounded: by a page of weeks (LIMIT on the (team, label) index), by the week ids of a
window (the (team, week) indexes), or by one item (the (team, item) indexes). Nothing loads all history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, select, type_coerce
from sqlalchemy.orm import Session

from storage.models import (
    TZ,
    BankStatusRow,
    EntryRow,
    IncidentRow,
    MetricValueRow,
    PersonRow,
    ReportRow,
    WeekRow,
)


@dataclass(frozen=True)
class WeekSummary:
    week_id: int
    label: str
    published_at: datetime | None
    answered: int  # items with a stored answer (entries, bank statuses, metric values)
    incidents: dict[str, Decimal]  # severity ("" when unset) -> summed weight


@dataclass(frozen=True)
class ItemValue:
    week: str
    text: str
    progress: Decimal | None = None
    stage: str | None = None
    value: Decimal | None = None
    author: str | None = None  # person key
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Answered:
    week: str
    item_key: str
    author: str | None  # person key
    updated_at: datetime


class History:
    def __init__(self, session: Session) -> None:
        self.s = session

    # ----- weeks -------------------------------------------------------------

    def week_count(self, team_id: int) -> int:
        return int(self.s.scalar(select(func.count()).select_from(WeekRow).where(WeekRow.team_id == team_id)) or 0)

    def latest_weeks(self, team_id: int, limit: int, offset: int = 0) -> list[tuple[int, str]]:
        """(week id, label) newest first."""
        return [(i, label) for i, label in self.s.execute(
            select(WeekRow.id, WeekRow.label).where(WeekRow.team_id == team_id)
            .order_by(WeekRow.label.desc()).limit(limit).offset(offset))]

    def weeks_between(self, team_id: int, first: str, last: str, *, after: str | None = None,
                      limit: int | None = None) -> list[tuple[int, str]]:
        """(week id, label) of the weeks from `first` to `last` inclusive, oldest first; with `after`, only
        those after that label, and at most `limit` of them (a page)."""
        query = select(WeekRow.id, WeekRow.label).where(WeekRow.team_id == team_id, WeekRow.label >= first,
                                                        WeekRow.label <= last)
        if after is not None:
            query = query.where(WeekRow.label > after)
        return [(i, label) for i, label in self.s.execute(query.order_by(WeekRow.label).limit(limit))]

    def summaries(self, team_id: int, weeks: Sequence[tuple[int, str]]) -> list[WeekSummary]:
        """One summary per given week, in the given order."""
        ids = [i for i, _ in weeks]
        if not ids:
            return []
        published = {w: at for w, at in self.s.execute(select(ReportRow.week_id, ReportRow.published_at).where(
            ReportRow.team_id == team_id, ReportRow.week_id.in_(ids)))}
        answered: dict[int, int] = dict.fromkeys(ids, 0)
        for model in (EntryRow, BankStatusRow, MetricValueRow):
            for week_id, n in self.s.execute(select(model.week_id, func.count()).where(
                    model.team_id == team_id, model.week_id.in_(ids)).group_by(model.week_id)):
                answered[week_id] += n
        incidents: dict[int, dict[str, Decimal]] = {i: {} for i in ids}
        for week_id, severity, weight in self.s.execute(
                select(IncidentRow.week_id, IncidentRow.severity, func.sum(IncidentRow.weight))
                .where(IncidentRow.team_id == team_id, IncidentRow.week_id.in_(ids),
                       IncidentRow.deleted_at.is_(None))
                .group_by(IncidentRow.week_id, IncidentRow.severity)):
            incidents[week_id][severity or ""] = Decimal(weight)
        return [WeekSummary(i, label, published.get(i), answered[i], incidents[i]) for i, label in weeks]

    def stated_figures(self, team_id: int, week_ids: Sequence[int], prefix: str) -> dict[int, dict[str, Decimal]]:
        """Per week, the figures an imported report stated (metric rows keyed `prefix…`, e.g. incident counts)."""
        out: dict[int, dict[str, Decimal]] = {w: {} for w in week_ids}
        if not week_ids:
            return out
        for week_id, key, value in self.s.execute(
                select(MetricValueRow.week_id, MetricValueRow.item_key, MetricValueRow.value).where(
                    MetricValueRow.team_id == team_id, MetricValueRow.week_id.in_(week_ids),
                    MetricValueRow.item_key.startswith(prefix, autoescape=True))):
            if value is not None:
                out[week_id][key] = value
        return out

    # ----- trends over a window of weeks ------------------------------------------

    def metric_values(self, team_id: int, week_ids: Sequence[int]) -> list[tuple[int, str, Decimal | None]]:
        """(week id, metric item key, value) for the given weeks."""
        return [(w, k, v) for w, k, v in self.s.execute(
            select(MetricValueRow.week_id, MetricValueRow.item_key, MetricValueRow.value).where(
                MetricValueRow.team_id == team_id, MetricValueRow.week_id.in_(week_ids)))]

    def progress(self, team_id: int, week_ids: Sequence[int]) -> list[tuple[int, str, Decimal]]:
        """(week id, item key, progress %) for entries that stated one."""
        return [(w, k, p) for w, k, p in self.s.execute(
            select(EntryRow.week_id, EntryRow.item_key, EntryRow.progress).where(
                EntryRow.team_id == team_id, EntryRow.week_id.in_(week_ids), EntryRow.progress.is_not(None)))
            if p is not None]

    def bank_stages(self, team_id: int, week_ids: Sequence[int]) -> list[tuple[int, str, str | None]]:
        return [(w, k, st) for w, k, st in self.s.execute(
            select(BankStatusRow.week_id, BankStatusRow.item_key, BankStatusRow.stage).where(
                BankStatusRow.team_id == team_id, BankStatusRow.week_id.in_(week_ids)))]

    def downtime(self, team_id: int, week_ids: Sequence[int]) -> list[tuple[int, datetime, datetime]]:
        """(week id, start, recovery) of recovered, availability-counting incidents in the given weeks."""
        return [(w, a, b) for w, a, b in self.s.execute(
            select(IncidentRow.week_id, IncidentRow.started_at, IncidentRow.recovered_at).where(
                IncidentRow.team_id == team_id, IncidentRow.week_id.in_(week_ids),
                IncidentRow.deleted_at.is_(None), IncidentRow.counts_toward_availability.is_(True),
                IncidentRow.recovered_at.is_not(None))) if b is not None]

    def answered(self, team_id: int, deadlines: Mapping[int, datetime]) -> dict[str, tuple[int, int]]:
        """item key -> (weeks answered, weeks last changed after that week's deadline), over the given weeks.

        Counted by the database (one row per item), not by loading every answer."""
        if not deadlines:
            return {}
        out: dict[str, tuple[int, int]] = {}
        for model in (EntryRow, BankStatusRow, MetricValueRow):
            deadline = case({w: type_coerce(d, TZ) for w, d in deadlines.items()}, value=model.week_id)
            late = func.sum(case((model.updated_at > deadline, 1), else_=0))
            # Grouped by an expression, not the bare column: given the column, SQLite walks the (team, item)
            # index to skip the sort, i.e. every week ever stored, instead of the window's (team, week) rows
            # (https://sqlite.org/optoverview.html, "Disqualifying … terms using unary +", the same idea).
            key = model.item_key.concat("")
            for item_key, n, n_late in self.s.execute(
                    select(key, func.count(), late)
                    .where(model.team_id == team_id, model.week_id.in_(list(deadlines)))
                    .group_by(key)):
                out[item_key] = (int(n), int(n_late or 0))
        return out

    # ----- one item -----------------------------------------------------------------

    def item(self, team_id: int, item_key: str, limit: int) -> list[ItemValue]:
        """The item's stored answers, newest week first, at most `limit`."""
        keys: dict[int | None, str] = {i: k for i, k in self.s.execute(
            select(PersonRow.id, PersonRow.key).where(PersonRow.team_id == team_id))}
        if item_key.startswith("bank:"):
            banks = self.s.execute(
                select(WeekRow.label, BankStatusRow).join(WeekRow, WeekRow.id == BankStatusRow.week_id)
                .where(BankStatusRow.team_id == team_id, BankStatusRow.item_key == item_key)
                .order_by(WeekRow.label.desc()).limit(limit)).all()
            return [ItemValue(label, r.note, stage=r.stage, author=keys.get(r.author_id), updated_at=r.updated_at)
                    for label, r in banks]
        if item_key.startswith("metric:"):
            metrics = self.s.execute(
                select(WeekRow.label, MetricValueRow).join(WeekRow, WeekRow.id == MetricValueRow.week_id)
                .where(MetricValueRow.team_id == team_id, MetricValueRow.item_key == item_key)
                .order_by(WeekRow.label.desc()).limit(limit)).all()
            return [ItemValue(label, r.value_text, value=r.value, author=keys.get(r.author_id),
                              updated_at=r.updated_at) for label, r in metrics]
        entries = self.s.execute(
            select(WeekRow.label, EntryRow).join(WeekRow, WeekRow.id == EntryRow.week_id)
            .where(EntryRow.team_id == team_id, EntryRow.item_key == item_key)
            .order_by(WeekRow.label.desc()).limit(limit)).all()
        return [ItemValue(label, r.text, progress=r.progress, author=keys.get(r.author_id), updated_at=r.updated_at)
                for label, r in entries]

    def published_markdown(self, team_id: int, week_id: int) -> tuple[str, datetime | None] | None:
        """The stored report's Markdown and publish time, if the week was compiled and stored."""
        row = self.s.execute(select(ReportRow.markdown, ReportRow.published_at).where(
            ReportRow.team_id == team_id, ReportRow.week_id == week_id)).first()
        return (row[0], row[1]) if row else None
