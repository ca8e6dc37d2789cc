"""Trends over a window of recent weeks: metrics, availability, incidents, progress, bank stages, participation.

The window is a fixed number of weeks found through the (team, label) index, and every series is read
through the (team, week) indexes for those weeks only, so the page costs the same with 26 or 260 weeks stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from bot.domain.calendar import publish_at
from bot.domain.compile import severity_counts
from bot.domain.reliability import Outage, budget
from bot.domain.team import Item, ItemKind
from bot.domain.weeks import IsoWeek
from bot.services.context import Context
from storage.action_items import ActionItems
from storage.db import transaction
from storage.history import History
from storage.incidents import Incidents

DEFAULT_WEEKS = 26
MAX_WEEKS = 104
WEEK_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float | None, ...]  # one per week of the window, None when nothing was stored
    key: str | None = None  # the item it belongs to, for a link to the item's page
    group: str = ""  # a metric's group in the team file (支付成功率, 系统可用性): one chart per group
    unit: str = ""  # a metric's unit ("%": its axis stops at 100)


@dataclass(frozen=True)
class StageRow:
    name: str
    key: str
    stages: tuple[str | None, ...]  # one per week


@dataclass(frozen=True)
class Participation:
    person: str  # display name
    owned: int  # items per week
    answer_rate: float  # percent of owned items answered, over the window
    late: int  # answers last changed after the week's publish time


@dataclass(frozen=True)
class Trends:
    weeks: tuple[str, ...]  # labels, oldest first
    metrics: tuple[Series, ...]
    availability: Series
    incidents: tuple[Series, ...]  # per severity, weights summed (0.5 shows)
    progress: tuple[Series, ...]  # per OKR item / prose project that states a %
    banks: tuple[StageRow, ...]
    participation: tuple[Participation, ...]
    # issue 23: per system with an objective, the share of its error budget left at each week's end; the
    # week's incidents by cause class (weights summed); action items opened and closed each week
    budget_left: tuple[Series, ...] = ()
    by_cause: tuple[Series, ...] = ()
    actions: tuple[Series, ...] = ()


class TrendsService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def trends(self, weeks: int = DEFAULT_WEEKS) -> Trends:
        team, team_id = self.ctx.team, self.ctx.team_id
        weeks = min(max(1, weeks), MAX_WEEKS)
        with transaction(self.ctx.db) as s:
            h = History(s)
            window = list(reversed(h.latest_weeks(team_id, weeks)))
            ids = [i for i, _ in window]
            summaries = h.summaries(team_id, window)
            metric_rows = h.metric_values(team_id, ids)
            progress_rows = h.progress(team_id, ids)
            bank_rows = h.bank_stages(team_id, ids)
            downtime_rows = h.downtime(team_id, ids)
            answered = h.answered(team_id, self._deadlines(window))
        reliability = self._reliability([IsoWeek.parse(label) for _, label in window])
        col = {week_id: n for n, week_id in enumerate(ids)}
        labels = tuple(label for _, label in window)

        def series(rows: list[tuple[int, str, Decimal | None]], keys: list[tuple[str, str]]) -> tuple[Series, ...]:
            grid: dict[str, list[float | None]] = {k: [None] * len(ids) for k, _ in keys}
            for week_id, key, value in rows:
                if key in grid and value is not None:
                    grid[key][col[week_id]] = float(value)
            items = team.item_by_key
            return tuple(Series(name, tuple(grid[k]), k, group=_group(items[k]) if k in items else "",
                                unit=items[k].unit if k in items else "") for k, name in keys)

        metric_keys = [(it.key, it.name) for it in team.items if it.kind is ItemKind.METRIC]
        progress_keys = [(it.key, it.title) for it in team.items if it.kind in (ItemKind.OKR, ItemKind.PROSE)]
        down = [0.0] * len(ids)
        for week_id, start, end in downtime_rows:
            down[col[week_id]] += max(0.0, (end - start).total_seconds())
        availability = Series("availability", tuple(round(100 * (1 - d / WEEK_SECONDS), 4) for d in down))
        # per count group, by the report's own rule (`compile.severity_counts`: a stated figure wins)
        stated: dict[int, dict[str, Decimal]] = {w: {} for w in ids}
        for week_id, key, value in metric_rows:
            if key.startswith("figure:incidents:") and value is not None:
                stated[week_id][key] = value
        counted = [severity_counts(team, sm.incidents, stated[sm.week_id]) for sm in summaries]
        incidents = tuple(Series("/".join(group), tuple(float(c[n].count) for c in counted))
                          for n, group in enumerate(team.incidents.count_groups))
        stage_grid: dict[str, list[str | None]] = {it.key: [None] * len(ids)
                                                   for it in team.items if it.kind is ItemKind.BANK}
        for week_id, key, stage in bank_rows:
            if key in stage_grid:
                stage_grid[key][col[week_id]] = stage or "·"
        # a bank named with its project (two projects may both work with 建行)
        banks = tuple(StageRow(_bank_name(team.item_by_key[k]), k, tuple(v)) for k, v in stage_grid.items())
        return Trends(labels, series(metric_rows, metric_keys), availability, incidents,
                      series([(w, k, p) for w, k, p in progress_rows], progress_keys), banks,
                      self._participation(len(ids), answered), *reliability)

    def _reliability(self, weeks: list[IsoWeek]) -> tuple[tuple[Series, ...], ...]:
        """Budget left per system, incidents by cause and action items opened/closed, one value per week."""
        team, zone = self.ctx.team, self.ctx.team.zone
        if not weeks:
            return (), (), ()
        first, end = weeks[0].start(zone), weeks[-1].end(zone)
        longest = max((o.window_days for o in team.incidents.systems), default=0)
        with transaction(self.ctx.db) as s:
            rows = Incidents(s).started_between(self.ctx.team_id, first - timedelta(days=longest), end)
            changes = ActionItems(s).opened_and_closed(self.ctx.team_id, first, end)
        budget_left = tuple(Series(o.name, tuple(
            float(budget(o.slo, w.end(zone), timedelta(days=o.window_days),
                         [Outage(r.started_at, r.recovered_at, r.cause_class) for r in rows
                          if r.counts_toward_availability and team.objective_of(r.system) == o]).left_share)
            for w in weeks)) for o in team.incidents.systems)
        book = team.cause_book
        causes = [c.id for c in book.classes] + [""]
        grid = {c: [0.0] * len(weeks) for c in causes}
        index = {w.label: n for n, w in enumerate(weeks)}
        for r in rows:
            n = index.get(IsoWeek.of(r.started_at.astimezone(zone)).label)
            if n is not None and r.started_at >= first:
                grid[r.cause_class if r.cause_class in grid else ""][n] += float(r.weight)
        # shown once somebody attributes an incident; unattributed ones then stand beside the rest as "—"
        by_cause = tuple(Series(book.name(c) if c else "—", tuple(v)) for c, v in grid.items() if any(v)) \
            if any(any(v) for c, v in grid.items() if c) else ()
        opened, closed = [0.0] * len(weeks), [0.0] * len(weeks)
        for created, done in changes:
            for moment, counts in ((created, opened), (done, closed)):
                n = index.get(IsoWeek.of(moment.astimezone(zone)).label) if moment is not None else None
                if n is not None:
                    counts[n] += 1
        actions = (Series("opened", tuple(opened)), Series("closed", tuple(closed))) if any(opened + closed) else ()
        return budget_left, by_cause, actions

    def _deadlines(self, window: list[tuple[int, str]]) -> dict[int, datetime]:
        """Each week's publish time (a minute's grace): an answer last changed after it came late."""
        schedule, zone = self.ctx.team.schedule, self.ctx.team.zone
        return {week_id: publish_at(schedule, IsoWeek.parse(label), zone) + timedelta(minutes=1)
                for week_id, label in window}

    def _participation(self, n_weeks: int, answered: dict[str, tuple[int, int]]) -> tuple[Participation, ...]:
        team = self.ctx.team
        owned: dict[str, int] = {}
        done: dict[str, int] = {}
        late: dict[str, int] = {}
        for it in team.items:
            if it.kind is ItemKind.EDITOR:
                continue
            owned[it.owner] = owned.get(it.owner, 0) + 1
            n, n_late = answered.get(it.key, (0, 0))
            done[it.owner] = done.get(it.owner, 0) + n
            late[it.owner] = late.get(it.owner, 0) + n_late
        out = []
        for p in team.people:
            if p.id not in owned:
                continue
            rate = 100 * done[p.id] / (owned[p.id] * n_weeks) if n_weeks else 0.0
            out.append(Participation(p.name, owned[p.id], round(min(rate, 100.0), 1), late[p.id]))
        return tuple(out)


def _group(item: Item) -> str:
    """A metric's group: its title is "<group> · <metric>" (`Team.items`)."""
    return item.title.split(" · ")[0] if item.kind is ItemKind.METRIC else ""


def _bank_name(item: Item) -> str:
    """"聚合收单 · 建行" from the bank item's title "聚合收单 · 银行 · 建行"."""
    parts = item.title.split(" · ")
    return f"{parts[0]} · {parts[-1]}" if len(parts) >= 2 else item.name
