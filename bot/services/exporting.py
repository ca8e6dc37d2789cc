"""Exporting stored weeks: the report as Markdown, the stored facts as JSON, and items × weeks as CSV rows.

Every method works on one week at a time, so a caller writing weeks out as it goes holds one week
in memory however many weeks it exports.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.domain.facts import WeekFacts
from bot.domain.facts_json import week_to_json
from bot.domain.incidents import format_headline
from bot.domain.team import ItemKind
from bot.domain.weeks import IsoWeek, WeekLabelError
from bot.services.context import Context
from bot.services.week_report import WeekReport
from bot.text.render import Format
from storage.db import transaction
from storage.history import History
from storage.reports import Reports

# The one row schema of every table export (`zhoubao export --format csv`, the dashboard's CSV and JSON):
# one row per item of the team file (and per section note written), then one per incident. People by name
# and by their team-file id; times in the team's zone with their offset, the zone named in `time_zone`.
# An incident's title is its headline (system and what happened), `severity` and `weight` its own columns,
# `updated_at` its start. Columns past `updated_at` were added later, so older readers keep their places.
CSV_HEADER = ("week", "kind", "item", "title", "owner", "text", "author", "progress", "updated_at",
              "severity", "weight", "owner_id", "author_id", "time_zone")


_WEEKS_PAGE = 8  # week labels read at once by `stored_weeks`

class Exporter:
    def __init__(self, ctx: Context, week_report: WeekReport) -> None:
        self.ctx = ctx
        self.week_report = week_report

    def stored_weeks(self, first: IsoWeek, last: IsoWeek) -> Iterator[IsoWeek]:
        """The weeks from `first` to `last` (inclusive) that the database holds anything for, in order.

        The labels are read a page at a time rather than looked up per calendar week (a range across
        centuries, from a stored 0001-W01, costs what the stored weeks cost, not 500,000 transactions) and
        rather than all at once (a range export holds one page of labels however many weeks it streams)."""
        after: str | None = None
        while True:
            with transaction(self.ctx.db) as s:
                page = [label for _, label in History(s).weeks_between(self.ctx.team_id, first.label, last.label,
                                                                       after=after, limit=_WEEKS_PAGE)]
            for label in page:
                try:
                    yield IsoWeek.parse(label)
                except WeekLabelError:
                    continue  # a label no week has (written by hand into the database) has nothing to export
            if len(page) < _WEEKS_PAGE:
                return
            after = page[-1]

    def created_at(self, week: IsoWeek) -> datetime:
        """When the week's report was published (or imported as published); else its publish deadline."""
        with transaction(self.ctx.db) as s:
            row = Reports(s).by_label(self.ctx.team_id, week.label)
            moment = (row.published_at or row.compiled_at) if row else None
        return moment.astimezone(self.ctx.team.zone) if moment else self.week_report.deadline(week)

    def report(self, week: IsoWeek, fmt: Format = "md", *, as_posted: bool = True) -> str:
        """The week's report, by the one rule every reader follows (the dashboard, `zhoubao report`, the export):
        as posted, which every later answer re-publishes; else compiled from what is stored, now. An imported
        week keeps no rendering (`Importer._report`): it is compiled with its Created time. `as_posted=False`
        compiles a posted week too (another language than the post's), with the post's Created time."""
        with transaction(self.ctx.db) as s:
            row = Reports(s).by_label(self.ctx.team_id, week.label)
            posted = (row.published_at, {"md": row.markdown, "slack": row.slack, "feishu": row.feishu}[fmt]) \
                if row is not None and row.published_at is not None else None
        if posted is not None and as_posted and posted[1]:
            return posted[1]
        return self.ctx.renderer.render(self.week_report.compile(week, posted[0] if posted else None), fmt)

    def markdown(self, week: IsoWeek) -> str:
        """The week's report in Markdown (`report`), as `zhoubao export` writes it."""
        return self.report(week, "md")

    def facts(self, week: IsoWeek) -> WeekFacts:
        return self.week_report.facts(week)

    def json_week(self, week: IsoWeek) -> dict[str, Any]:
        """The week's stored facts in the shape `zhoubao import` reads back (its own rows: `WeekReport.stored`)."""
        return week_to_json(self.week_report.stored(week), self.created_at(week))

    def csv_rows(self, week: IsoWeek) -> Iterator[tuple[str, ...]]:
        """The week's rows in `CSV_HEADER` order: every item of the team file (and every section note written),
        then every incident (its reporter as owner and author). Read from the week's stored rows only
        (`WeekReport.stored`): a row shows no availability, so none is summed for it."""
        facts = self.week_report.stored(week)
        team = self.ctx.team
        zone = team.zone
        zone_name = team.team.timezone
        names = {p.id: p.name for p in team.people}

        def local(moment: datetime | None) -> str:
            return moment.astimezone(zone).isoformat() if moment else ""

        for it in [*team.items, *(n for n in team.section_notes if n not in team.items)]:
            answer = facts.answer(it)
            if it.kind is ItemKind.NOTE and answer is None:
                continue
            progress = answer.progress if answer else None
            author = (answer.author or "") if answer else ""
            yield (week.label, str(it.kind), it.key, it.title, names.get(it.owner, it.owner),
                   answer.text if answer else "", names.get(author, author),
                   "" if progress is None else _number(progress), local(answer.updated_at if answer else None),
                   "", "", it.owner, author, zone_name)
        for inc in facts.incidents:
            reporter = inc.reporter_name or names.get(inc.reporter or "", inc.reporter or "")
            yield (week.label, "incident", f"incident:{inc.number}", format_headline(inc.system, inc.what), reporter,
                   " ".join(x for x in (inc.what, inc.cause, inc.impact) if x), reporter,
                   "", local(inc.started_at), inc.severity or "", _number(inc.weight),
                   inc.reporter or "", inc.reporter or "", zone_name)

    def rows(self, first: IsoWeek, last: IsoWeek) -> Iterator[dict[str, str]]:
        """Every stored week's `table` from `first` to `last`, one week at a time (so a caller writing rows
        out as they come holds one week in memory, however long the range)."""
        for week in self.stored_weeks(first, last):
            for row in self.csv_rows(week):
                yield dict(zip(CSV_HEADER, row, strict=True))

    def table(self, week: IsoWeek) -> list[dict[str, str]]:
        """`csv_rows` as dicts keyed by `CSV_HEADER` (the dashboard's CSV and JSON downloads)."""
        return [dict(zip(CSV_HEADER, row, strict=True)) for row in self.csv_rows(week)]


def _number(value: Decimal) -> str:
    """A stored number as people write it: `60`, not `6E+1`; `0.5`; `99.993`."""
    return format(value.normalize(), "f")
