"""Whether a week's facts keep the rules chat and the `/incident` grammar keep, as pure checks.

Chat cannot store a negative weight, an unknown severity or a recovery before its start: the grammar
refuses them. An imported file can say anything, so the importer checks each week it read with
`week_problems` before it writes, and refuses the file when the list is not empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bot.domain.compile import availability_figure_key, incident_count_figure_key
from bot.domain.facts import IncidentFact, WeekFacts
from bot.domain.incidents import IncidentSyntaxError, check_recovery, read_severity, weight_allowed
from bot.domain.team import Team
from bot.domain.weeks import IsoWeek, WeekLabelError, WeekWindow, check_week_in_window


@dataclass(frozen=True)
class FactProblem:
    """One value the rules refuse: where it is (`2024-W26 incident #3`) and why, in a sentence."""

    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


def _when(moment: datetime | None) -> str:
    # isoformat, not %Y: strftime writes the year 1 as "1"
    return f"{moment.date().isoformat()} {moment:%H:%M}" if moment is not None else "—"


def availability_allowed(value: Decimal, unit: str) -> bool:
    """Whether an availability figure is possible: 0 to 100 in percent, 0 to 1 as a ratio."""
    return value.is_finite() and 0 <= value <= (100 if unit == "%" else 1)


def incident_problems(week: str, incident: IncidentFact, team: Team, window: WeekWindow) -> list[FactProblem]:
    """What is wrong with one incident: its start outside the window, a recovery before its start,
    a severity the team does not have, a weight the grammar would refuse."""
    where = f"{week} incident #{incident.number}"
    out: list[FactProblem] = []
    started = IsoWeek.of(incident.started_at)
    if started not in window:
        out.append(FactProblem(where, f"starts {_when(incident.started_at)} ({started.label}), outside "
                                      f"the weeks this team can use: {window.first.label} to {window.last.label}"))
    try:
        check_recovery(incident.started_at, incident.recovered_at)
    except IncidentSyntaxError:
        out.append(FactProblem(where, f"recovered {_when(incident.recovered_at)}, before its start "
                                      f"{_when(incident.started_at)}"))
    if incident.severity is not None:
        try:
            read_severity(incident.severity, team.incidents.severities)
        except IncidentSyntaxError:
            out.append(FactProblem(where, f"severity '{incident.severity}' is not one of "
                                          f"{', '.join(team.incidents.severities)}"))
    if incident.cause_class and incident.cause_class not in {c.id for c in team.cause_book.classes}:
        out.append(FactProblem(where, f"attribution '{incident.cause_class}' is not one of "
                                      f"{', '.join(c.id for c in team.cause_book.classes)}"))
    if not weight_allowed(incident.weight):
        out.append(FactProblem(where, f"weight {incident.weight} is not above 0 and at most 10 with two decimals"))
    return out


def figure_problems(facts: WeekFacts, team: Team) -> list[FactProblem]:
    """Stated figures that cannot be: an availability outside 0–100 % (0–1 as a ratio), a negative
    incident count."""
    out: list[FactProblem] = []
    for group in team.metrics:
        for m in group.metrics:
            if m.source != "availability":
                continue
            fact = facts.metrics.get(availability_figure_key(m.name))
            if fact is not None and (fact.value is None or not availability_allowed(fact.value, m.unit)):
                bounds = "0 to 100 %" if m.unit == "%" else "0 to 1"
                out.append(FactProblem(f"{facts.week} {m.name}", f"availability '{fact.value_text}' is not {bounds}"))
        for severities in team.incidents.count_groups:
            fact = facts.metrics.get(incident_count_figure_key(group.name, severities))
            if fact is not None and fact.value is not None and not (fact.value.is_finite() and fact.value >= 0):
                out.append(FactProblem(f"{facts.week} {group.name} {'/'.join(severities)}",
                                       f"incident count '{fact.value_text}' is negative"))
    return out


def week_problems(facts: WeekFacts, team: Team, window: WeekWindow) -> list[FactProblem]:
    """Everything in one week's facts that chat or the grammar would have refused (empty: all kept):
    the week outside the team's window, each incident's problems, impossible stated figures."""
    out: list[FactProblem] = []
    try:
        check_week_in_window(IsoWeek.parse(facts.week), window)
    except WeekLabelError as exc:
        out.append(FactProblem(facts.week, str(exc)))
    for incident in facts.incidents:
        out += incident_problems(facts.week, incident, team, window)
    return out + figure_problems(facts, team)
