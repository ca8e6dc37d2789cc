"""Exporting stored weeks: the report as Markdown, the stored facts as JSON, and items × weeks as CSV rows.

Every method works on one week at a time, so a caller writing weeks out as it goes holds one week
in memory however many weeks it exports.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from bot.domain.facts import WeekFacts
from bot.domain.facts_json import week_to_json
from bot.domain.team import ItemKind
from bot.domain.weeks import IsoWeek, WeekLabelError
from bot.services.context import Context
from bot.services.cycle import WeeklyCycle
from storage.db import transaction
from storage.history import History
from storage.reports import Reports

CSV_HEADER = ("week", "item", "title", "owner", "text", "progress")


class Exporter:
    def __init__(self, ctx: Context, cycle: WeeklyCycle) -> None:
        self.ctx = ctx
        self.cycle = cycle

    def stored_weeks(self, first: IsoWeek, last: IsoWeek) -> Iterator[IsoWeek]:
        """The weeks from `first` to `last` (inclusive) that the database holds anything for, in order.

        One query for the labels rather than a look-up per calendar week: a range across centuries
        (a stored 0001-W01) costs what the stored weeks cost, not 500,000 transactions."""
        with transaction(self.ctx.db) as s:
            labels = [label for _, label in History(s).weeks_between(self.ctx.team_id, first.label, last.label)]
        for label in labels:
            try:
                yield IsoWeek.parse(label)
            except WeekLabelError:
                continue  # a label no week has (written by hand into the database) has nothing to export

    def created_at(self, week: IsoWeek) -> datetime:
        """When the week's report was published (or imported as published); else its publish deadline."""
        with transaction(self.ctx.db) as s:
            row = Reports(s).by_label(self.ctx.team_id, week.label)
            moment = (row.published_at or row.compiled_at) if row else None
        return moment.astimezone(self.ctx.team.zone) if moment else self.cycle.deadline(week)

    def markdown(self, week: IsoWeek) -> str:
        """The week's report in Markdown, as `zhoubao report --format md` prints it."""
        return self.ctx.renderer.markdown(self.cycle.compile(week, self.created_at(week)))

    def facts(self, week: IsoWeek) -> WeekFacts:
        return self.cycle.facts(week)

    def json_week(self, week: IsoWeek) -> dict[str, Any]:
        """The week's stored facts in the shape `zhoubao import` reads back."""
        return week_to_json(self.cycle.facts(week), self.created_at(week))

    def csv_rows(self, week: IsoWeek) -> Iterator[tuple[str, ...]]:
        """One row per item of the team file (and per note written): week, item key, title, owner, text, progress."""
        facts = self.cycle.facts(week)
        team = self.ctx.team
        names = {p.id: p.name for p in team.people}
        for it in [*team.items, *(n for n in team.section_notes if n not in team.items)]:
            progress = ""
            if it.kind is ItemKind.BANK:
                bank = facts.banks.get(it.key)
                text = bank.note if bank else ""
            elif it.kind is ItemKind.METRIC:
                metric = facts.metrics.get(it.key)
                text = f"{metric.value_text}{it.unit}" if metric else ""
            else:
                entry = facts.entries.get(it.key)
                text = entry.text if entry else ""
                if entry is not None and entry.progress is not None:
                    progress = format(entry.progress.normalize(), "f")
            if it.kind is ItemKind.NOTE and not text:
                continue
            yield week.label, it.key, it.title, names.get(it.owner, it.owner), text, progress
