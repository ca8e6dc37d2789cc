"""Compiling a week's stored facts into the report model: a pure function, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Literal

from bot.domain import report as r
from bot.domain.action_items import is_overdue, needs_postmortem
from bot.domain.facts import IncidentFact, WeekFacts
from bot.domain.incidents import format_headline
from bot.domain.reliability import Outage, budget, floor_percent, merged_downtime, whole_minutes
from bot.domain.team import (
    EDITOR_SECTIONS,
    INCIDENTS_NOTE_KEY,
    Item,
    ItemKind,
    Metric,
    SystemObjective,
    Team,
    metrics_note_key,
    okr_note_key,
    project_note_key,
)
from bot.domain.weeks import IsoWeek


def compile_report(team: Team, facts: WeekFacts, previous: WeekFacts | None, *, compiled_at: datetime) -> r.Report:
    """The report for `facts.week` as it stands at `compiled_at`; unanswered items show as not updated."""
    zone = team.zone
    prev = previous or WeekFacts(week="")
    names = {p.id: p.name for p in team.people}

    def entry(key: str, owner: str) -> r.Entry:
        fact = facts.entries.get(key)
        if fact is not None and fact.text.strip():
            before = prev.entries.get(key)
            return r.Entry(r.Status.ANSWERED, fact.text, fact.progress,
                           before.progress if before else None, fact.main_problem,
                           names.get(fact.author or "", fact.author))
        return r.Entry(r.Status.AWAY if owner in facts.away else r.Status.NOT_UPDATED)

    def note(key: str) -> str:
        fact = facts.entries.get(key)
        return fact.text if fact is not None and fact.text.strip() else ""

    def bank(key: str, name: str, owner: str) -> r.BankLine:
        fact = facts.banks.get(key)
        before = prev.banks.get(key)
        if fact is not None and fact.note.strip():
            return r.BankLine(name, r.Status.ANSWERED, fact.note, fact.stage, before.stage if before else None)
        return r.BankLine(name, r.Status.AWAY if owner in facts.away else r.Status.NOT_UPDATED)

    projects = []
    for pr in team.projects:
        if not pr.parts:
            assert pr.owner is not None
            projects.append(r.Project(pr.name, prose=entry(f"project:{pr.name}", pr.owner),
                                      note=note(project_note_key(pr.name))))
            continue
        parts = []
        for part in pr.parts:
            banks = tuple(bank(f"bank:{pr.name}/{b.name}", b.name, b.owner or part.owner) for b in part.banks)
            parts.append(r.Part(part.name, entry(f"project:{pr.name}/{part.name}", part.owner), banks))
        projects.append(r.Project(pr.name, parts=tuple(parts), note=note(project_note_key(pr.name))))

    okrs = tuple(
        r.OkrGroup(g.id, g.name, tuple(r.OkrItem(it.name, entry(f"okr:{g.id}/{it.name}", it.owner))
                                       for it in g.items), note(okr_note_key(g.id)))
        for g in team.okrs
    )

    week = IsoWeek.parse(facts.week)
    metric_groups = []
    for mg in team.metrics:
        lines = tuple(_metric_line(m, facts, week, team) for m in mg.metrics)
        counts = _severity_counts(team, facts, mg.name) if mg.incident_counts else ()
        budgets = tuple(_budget_line(s, team, facts, week) for s in team.incidents.systems) \
            if mg.incident_counts else ()
        causes = _cause_counts(team, facts, week) if mg.incident_counts and team.incidents.show_causes else ()
        metric_groups.append(r.MetricGroup(mg.name, lines, counts, note(metrics_note_key(mg.name)),
                                           budgets, causes))

    incidents = tuple(
        r.Incident(number=i.number, started_at=i.started_at.astimezone(zone),
                   headline=format_headline(i.system, i.what), cause=i.cause, impact=i.impact,
                   recovered_at=i.recovered_at.astimezone(zone) if i.recovered_at else None,
                   severity=i.severity, weight=i.weight, postmortem=i.postmortem or "",
                   repeat_of=_repeat_of(i, team, facts))
        for i in sorted(facts.incidents, key=lambda i: (i.started_at, i.number))
    )
    spent = _spent_incidents(team, facts, week)
    rule = team.incidents.postmortem
    slow = {i.number for i in facts.incidents if rule.detection_minutes is not None and i.detected_at is not None
            and i.detected_at - i.started_at > timedelta(minutes=rule.detection_minutes)}
    postmortems_missing = tuple(
        i for i in incidents if not i.postmortem and needs_postmortem(
            i.severity, team.incidents.severities, rule.severity, i.number in spent, rule.budget_spent,
            i.number in slow))

    editor = team.editors[0]
    sections = {key: entry(f"editor:{key}", editor) for key in EDITOR_SECTIONS}

    report = r.Report(
        team=team.team.name, week=facts.week, locale=team.team.locale, created_at=compiled_at.astimezone(zone),
        projects=tuple(projects), okr_groups=okrs, metric_groups=tuple(metric_groups), incidents=incidents,
        incidents_note=note(INCIDENTS_NOTE_KEY), actions=_action_lines(team, facts, week, compiled_at),
        postmortems_missing=postmortems_missing,
        other=sections["other"], reflection=sections["reflection"], next_week=sections["next_week"],
    )
    return _with_missing(report, team, facts)


def availability_figure_key(metric: str) -> str:
    """Where an availability figure stated by an imported report is kept (it wins over computing it)."""
    return f"figure:availability:{metric}"


def incident_count_figure_key(group: str, severities: list[str] | tuple[str, ...]) -> str:
    """Where an incident count stated by an imported report is kept, per metric group and severity group."""
    return f"figure:incidents:{group}:{'/'.join(severities)}"


def _metric_line(m: Metric, facts: WeekFacts, week: IsoWeek, team: Team) -> r.MetricLine:
    if m.source == "availability":
        stated = facts.metrics.get(availability_figure_key(m.name))
        if stated is not None:
            return r.MetricLine(m.name, r.Status.ANSWERED, f"{stated.value_text}{m.unit}")
        return r.MetricLine(m.name, r.Status.ANSWERED, f"{_availability(m, facts, week, team)}{m.unit}")
    fact = facts.metrics.get(f"metric:{m.name}")
    if fact is None:
        return r.MetricLine(m.name, r.Status.AWAY if m.owner in facts.away else r.Status.NOT_UPDATED)
    return r.MetricLine(m.name, r.Status.ANSWERED, f"{fact.value_text}{m.unit}")


def _availability(m: Metric, facts: WeekFacts, week: IsoWeek, team: Team) -> str:
    end = week.end(team.zone)
    if m.period == "week":
        start = week.start(team.zone)
        down = sum(_downtime(i) for i in facts.incidents if i.counts_toward_availability)
    else:
        start = week.year_start(team.zone)
        down = facts.year_downtime_seconds
    total = (end - start).total_seconds() or 1.0
    down = min(down, total)  # an outage cannot take more than the whole period: never a negative availability
    ratio = Decimal(1) - Decimal(str(down)) / Decimal(str(total))
    percent = ratio * 100 if m.unit == "%" else ratio
    # Floor, not round: 99.9996% must not be shown as 100%.
    return str(percent.quantize(Decimal(1).scaleb(-m.digits), rounding=ROUND_FLOOR))


def _downtime(i: IncidentFact) -> float:
    if i.recovered_at is None:
        return 0.0
    return max(timedelta(0), i.recovered_at - i.started_at).total_seconds()


def _action_lines(team: Team, facts: WeekFacts, week: IsoWeek, compiled_at: datetime) -> tuple[r.ActionLine, ...]:
    """The action items as the week's report shows them: overdue ones first, then open, then those done this
    week; overdue as of the compile time, or the week's last day for a report compiled later."""
    start, end = week.start(team.zone), week.end(team.zone)
    on = min(compiled_at.astimezone(team.zone), end - timedelta(microseconds=1)).date()
    lines = []
    for a in facts.action_items:
        done = a.done_at is not None and a.done_at < end
        if a.done_at is not None and a.done_at < start:
            continue
        state: Literal["open", "overdue", "done"] = \
            "done" if done else "overdue" if is_overdue(a.due, None, on) else "open"
        owner = team.person_by_id.get(a.owner)
        lines.append(r.ActionLine(a.number, a.text, a.incident, owner.name if owner else a.owner, a.owner, a.due,
                                  state))
    order = {"overdue": 0, "open": 1, "done": 2}
    return tuple(sorted(lines, key=lambda line: (order[line.state], line.number)))


def _same_system(team: Team, a: str, b: str) -> bool:
    """Two incidents' systems are one: the same objective's names, or the same label (case aside)."""
    objective = team.objective_of(a)
    return objective is not None and objective == team.objective_of(b) or \
        bool(a.strip()) and a.strip().casefold() == b.strip().casefold()


def _repeat_of(i: IncidentFact, team: Team, facts: WeekFacts) -> r.Repeat | None:
    """The latest earlier incident, within the team's `repeat_weeks`, of the same system and cause class."""
    weeks = team.incidents.repeat_weeks
    if not weeks or not i.cause_class or not i.system.strip():
        return None
    since = i.started_at - timedelta(weeks=weeks)
    earlier = [e for e in facts.recent_incidents
               if since <= e.started_at < i.started_at and e.number != i.number
               and e.cause_class == i.cause_class and _same_system(team, e.system, i.system)]
    if not earlier:
        return None
    last = max(earlier, key=lambda e: (e.started_at, e.number))
    return r.Repeat(last.number, last.started_at.astimezone(team.zone))


def recent_since(team: Team, week: IsoWeek) -> datetime | None:
    """How far back before `week`'s end the report looks at incidents (the longest objective window, or
    the repeats' look-back from the week's start); None when the team file asks for neither."""
    days = max([s.window_days for s in team.incidents.systems]
               + ([team.incidents.repeat_weeks * 7 + 7] if team.incidents.repeat_weeks else []), default=0)
    return week.end(team.zone) - timedelta(days=days) if days else None


def _outage(i: IncidentFact) -> Outage:
    return Outage(i.started_at, i.recovered_at, i.cause_class)


def _spent_incidents(team: Team, facts: WeekFacts, week: IsoWeek) -> set[int]:
    """Numbers of the week's incidents that took downtime from a system whose budget is now spent."""
    this_week = {i.number for i in facts.incidents}
    out: set[int] = set()
    for system in team.incidents.systems:
        counted = [i for i in facts.recent_incidents
                   if i.counts_toward_availability and team.objective_of(i.system) == system]
        b = budget(system.slo, week.end(team.zone), timedelta(days=system.window_days),
                   [_outage(i) for i in counted])
        if b.spent:
            out |= {i.number for i in counted
                    if i.number in this_week and merged_downtime([_outage(i)], b.start, b.end)}
    return out


def _budget_line(system: SystemObjective, team: Team, facts: WeekFacts, week: IsoWeek) -> r.BudgetLine:
    incidents = [i for i in facts.recent_incidents
                 if i.counts_toward_availability and team.objective_of(i.system) == system]
    b = budget(system.slo, week.end(team.zone), timedelta(days=system.window_days),
               [_outage(i) for i in incidents])
    digits = max(2, -int(system.slo.normalize().as_tuple().exponent))
    attributed = any(i.cause_class for i in incidents if i.recovered_at is not None and i.recovered_at > b.start)
    return r.BudgetLine(
        system=system.name, availability=floor_percent(b.availability, digits),
        objective=format(system.slo.normalize(), "f"), left_share=int(b.left_share),
        left_minutes=whole_minutes(b.left), over_minutes=whole_minutes(-b.left), spent=b.spent,
        own_minutes=whole_minutes(b.own_downtime) if attributed and b.downtime else None)


def _cause_counts(team: Team, facts: WeekFacts, week: IsoWeek) -> tuple[r.CauseCount, ...]:
    """The week's incidents by cause class, in the team file's order, unattributed last; classes with
    no incident this week are left out."""
    start, end = week.start(team.zone), week.end(team.zone)
    order = [c.id for c in team.cause_book.classes]
    found = sorted({i.cause_class for i in facts.incidents},
                   key=lambda c: order.index(c) if c in order else len(order) + (c == ""))
    out = []
    for cause in found:
        of_cause = [i for i in facts.incidents if i.cause_class == cause]
        down = merged_downtime([_outage(i) for i in of_cause if i.counts_toward_availability], start, end)
        out.append(r.CauseCount(team.cause_book.name(cause) if cause else "",
                                sum((i.weight for i in of_cause), Decimal(0)), whole_minutes(down)))
    return tuple(out)


def _severity_counts(team: Team, facts: WeekFacts, group_name: str) -> tuple[r.SeverityCount, ...]:
    weights: dict[str, Decimal] = {}
    for i in facts.incidents:
        weights[i.severity or ""] = weights.get(i.severity or "", Decimal(0)) + i.weight
    stated = {k: m.value for k, m in facts.metrics.items() if m.value is not None}
    return severity_counts(team, weights, stated, group_name)


def severity_counts(team: Team, weights: Mapping[str, Decimal], stated: Mapping[str, Decimal],
                    group_name: str | None = None) -> tuple[r.SeverityCount, ...]:
    """A week's incident counts per count group of the team, by the one rule the report, the history and the
    trends share: the figure an imported report stated for that week (`stated`, by
    `incident_count_figure_key`), else the summed `weights` of the week's incidents by severity ("" unset).
    `group_name`: the metric group that shows the counts (`counts_group`)."""
    group_name = counts_group(team) if group_name is None else group_name
    out = []
    for group in team.incidents.count_groups:
        figure = stated.get(incident_count_figure_key(group_name, group)) if group_name else None
        if figure is not None:
            out.append(r.SeverityCount(tuple(group), figure))
        else:
            out.append(r.SeverityCount(tuple(group), sum((w for sev, w in weights.items() if sev in group),
                                                         Decimal(0))))
    return tuple(out)


def counts_group(team: Team) -> str:
    """The metric group whose lines carry the incident counts ("" when none does)."""
    return next((mg.name for mg in team.metrics if mg.incident_counts), "")


def missing_items(team: Team, facts: WeekFacts) -> list[Item]:
    """The items still owed this week, in report order: the one count of "missing" that `/zhoubao missing`,
    the editors' reminder notice, the report and the dashboard share. Not owed: a bank part's own text (its
    banks are), a section note (optional), anything of someone away."""
    has_banks = {f"project:{pr.name}/{p.name}" for pr in team.projects for p in pr.parts if p.banks}
    return [it for it in team.items
            if it.key not in has_banks and it.kind is not ItemKind.NOTE and it.owner not in facts.away
            and facts.answer(it) is None]


def _with_missing(report: r.Report, team: Team, facts: WeekFacts) -> r.Report:
    """Name who has not answered what, for the editor."""
    missing = [r.Missing(team.person_by_id[it.owner].name, it.owner, it.title, it.key) for it in missing_items(team, facts)]
    return replace(report, missing=tuple(missing))


def missing_by_person(missing: Iterable[r.Missing]) -> tuple[r.MissingPerson, ...]:
    """Who still owes what, one entry per person, so a department of 1,000 owners is 1,000 lines, not 3,000:
    people in the order of their first open item in the report, each with their open items in report order.
    Every list of "missing" (`/zhoubao missing`, the editors' notice after a reminder, the dashboard)
    reads from this over `Report.missing` (from `missing_items`)."""
    titles: dict[str, list[str]] = {}
    keys: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for m in missing:
        titles.setdefault(m.person_id, []).append(m.item_title)
        keys.setdefault(m.person_id, []).append(m.item_key)
        names.setdefault(m.person_id, m.person)
    return tuple(r.MissingPerson(names[pid], pid, tuple(t), tuple(keys[pid])) for pid, t in titles.items())
