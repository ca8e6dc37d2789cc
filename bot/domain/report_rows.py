"""A compiled report as table rows: one row per item, bank, metric, incident and action item of the week.

What a 多维表格 (or any table a report is published into) holds. Each row has a `key` that stays the same
when the report is compiled again, so a later publish of the same week finds the row it wrote before and
updates it instead of adding a second one.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from bot.domain.report import Entry, Report

RowKind = Literal["item", "bank", "metric", "incident", "action"]


@dataclass(frozen=True)
class ReportRow:
    key: str  # stable across compiles of one week: "part:聚合收单/业务", "incident:3"
    kind: RowKind
    title: str  # where it sits in the report: "聚合收单 · 银行 · 建行"
    status: str  # answered / not_updated / away, a bank's stage, an action's state
    text: str = ""
    progress: Decimal | None = None
    owner: str = ""  # display name of who wrote it (an action item: who owns it)


def _entry(key: str, title: str, entry: Entry) -> ReportRow:
    return ReportRow(key, "item", title, entry.status.value, entry.text, entry.progress, entry.author or "")


def report_rows(report: Report) -> tuple[ReportRow, ...]:
    """Every row of `report`, in report order."""
    rows: list[ReportRow] = []
    for project in report.projects:
        if project.prose is not None:
            rows.append(_entry(f"project:{project.name}", project.name, project.prose))
        for part in project.parts:
            title = f"{project.name} · {part.name}"
            rows.append(_entry(f"part:{project.name}/{part.name}", title, part.entry))
            for bank in part.banks:
                rows.append(ReportRow(f"bank:{project.name}/{part.name}/{bank.name}", "bank",
                                      f"{title} · {bank.name}", bank.stage or bank.status.value, bank.note))
    for group in report.okr_groups:
        for item in group.items:
            rows.append(_entry(f"okr:{group.id}/{item.name}", f"{group.id} {group.name} · {item.name}", item.entry))
    for mgroup in report.metric_groups:
        for metric in mgroup.metrics:
            rows.append(ReportRow(f"metric:{mgroup.name}/{metric.name}", "metric", f"{mgroup.name} · {metric.name}",
                                  metric.status.value, metric.value))
    for incident in report.incidents:
        detail = "\n".join(x for x in (incident.cause, incident.impact) if x)
        rows.append(ReportRow(f"incident:{incident.number}", "incident",
                              f"{incident.started_at:%m/%d %H:%M} {incident.headline}", incident.severity or "",
                              detail))
    for action in report.actions:
        rows.append(ReportRow(f"action:A{action.number}", "action", f"A{action.number} {action.text}", action.state,
                              f"#{action.incident} · {action.due.isoformat()}", owner=action.owner))
    return tuple(rows)
