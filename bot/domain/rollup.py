"""The department's roll-up: its teams' compiled reports composed into one, as a pure function.

Per team it keeps the key lines a director reads first (progress that moved, banks that changed stage,
risks), and sets the measures the teams share side by side in one table, team × measure (metric values,
incident counts per severity group, availability per system). A team that has not published is named,
never waited for. Templates (`templates/rollup.*.j2`) see only the `Rollup`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from bot.domain.report import Entry, Report, Status


@dataclass(frozen=True)
class TeamWeek:
    """What the roll-up is given for one team: its name, and its compiled report when it has published."""

    team: str
    report: Report | None  # None: the team has not published this week
    published_at: datetime | None = None


@dataclass(frozen=True)
class ProgressMove:
    title: str  # "聚合收单 · 业务", "O1 跨境收款"
    before: Decimal | None
    after: Decimal


@dataclass(frozen=True)
class BankMove:
    title: str  # "聚合收单 · 建行"
    before: str | None  # None: the bank's first stage
    after: str


@dataclass(frozen=True)
class Risk:
    title: str
    text: str


@dataclass(frozen=True)
class TeamSummary:
    team: str
    locale: str
    published_at: datetime | None
    progress: tuple[ProgressMove, ...] = ()
    banks: tuple[BankMove, ...] = ()
    risks: tuple[Risk, ...] = ()
    incidents: int = 0
    not_updated: int = 0  # items nobody answered (those the report names to the editor)


class MeasureKind(StrEnum):
    METRIC = "metric"
    SEVERITY = "severity"  # incidents of a severity group, weights summed
    AVAILABILITY = "availability"  # a system's availability over its window


@dataclass(frozen=True)
class Measure:
    kind: MeasureKind
    name: str  # the metric's name, the severity group ("A/B"), the system's name


@dataclass(frozen=True)
class TableRow:
    team: str
    cells: tuple[str | None, ...]  # one per measure, None where the team has no such measure


@dataclass(frozen=True)
class Rollup:
    department: str
    week: str
    locale: str
    created_at: datetime
    teams: tuple[TeamSummary, ...]  # the teams that published, in the department file's order
    measures: tuple[Measure, ...]
    rows: tuple[TableRow, ...]
    unpublished: tuple[str, ...]  # the teams that had not published when the roll-up was compiled

    @property
    def team_names(self) -> tuple[str, ...]:
        return tuple(t.team for t in self.teams) + self.unpublished


def compose_rollup(department: str, week: str, locale: str, at: datetime, teams: Sequence[TeamWeek]) -> Rollup:
    """The department's roll-up of `week`, compiled at `at`, from each team's published report (in order)."""
    published = [t for t in teams if t.report is not None]
    measures: dict[Measure, None] = {}
    values: list[dict[Measure, str]] = []
    for t in published:
        assert t.report is not None
        row = dict(_measures(t.report))
        measures.update(dict.fromkeys(row))
        values.append(row)
    order = tuple(measures)
    rows = tuple(TableRow(t.team, tuple(v.get(m) for m in order)) for t, v in zip(published, values, strict=True))
    return Rollup(department=department, week=week, locale=locale, created_at=at,
                  teams=tuple(_summary(t) for t in published), measures=order, rows=rows,
                  unpublished=tuple(t.team for t in teams if t.report is None))


def _summary(t: TeamWeek) -> TeamSummary:
    report = t.report
    assert report is not None
    progress, banks, risks = [], [], []
    for title, entry in _entries(report):
        if entry.progress is not None and entry.progress != entry.previous_progress:
            progress.append(ProgressMove(title, entry.previous_progress, entry.progress))
        if entry.main_problem:
            risks.append(Risk(title, entry.main_problem))
    for project in report.projects:
        for part in project.parts:
            for bank in part.banks:
                if bank.stage and bank.stage != bank.previous_stage:
                    banks.append(BankMove(f"{project.name} · {bank.name}", bank.previous_stage, bank.stage))
    for action in report.actions:
        if action.state == "overdue":
            risks.append(Risk(f"A{action.number}", f"{action.text} ({action.owner}, {action.due:%m/%d})"))
    return TeamSummary(team=t.team, locale=report.locale, published_at=t.published_at, progress=tuple(progress),
                       banks=tuple(banks), risks=tuple(risks), incidents=len(report.incidents),
                       not_updated=len(report.missing))


def _entries(report: Report) -> Iterator[tuple[str, Entry]]:
    """Every answerable entry of the report with where it sits, in report order."""
    for project in report.projects:
        if project.prose is not None:
            yield project.name, project.prose
        for part in project.parts:
            yield f"{project.name} · {part.name}", part.entry
    for group in report.okr_groups:
        for item in group.items:
            yield f"{group.id} {item.name}", item.entry


def _measures(report: Report) -> Iterator[tuple[Measure, str]]:
    """The report's comparable measures and their printed values; a metric nobody reported is left out,
    so its cell reads as missing rather than as a value."""
    for group in report.metric_groups:
        for metric in group.metrics:
            if metric.status is Status.ANSWERED:
                yield Measure(MeasureKind.METRIC, metric.name), metric.value
        for count in group.incident_counts:
            yield Measure(MeasureKind.SEVERITY, "/".join(count.severities)), count.count_text
        for budget in group.budgets:
            yield Measure(MeasureKind.AVAILABILITY, budget.system), f"{budget.availability}%"
