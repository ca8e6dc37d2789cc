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
from bot.domain.team import Item, ItemKind
from bot.domain.weeks import IsoWeek
from bot.services.context import Context
from storage.db import transaction
from storage.history import History

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
                      self._participation(len(ids), answered))

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
