"""A week's stored facts as JSON-ready values and back: what `zhoubao export --format json` writes
and `zhoubao import` reads, so a team can move its history between databases.

Decimals travel as strings (45.5 must not become 45.499999), datetimes as ISO 8601 with their offset.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.domain.facts import BankStatusFact, EntryFact, IncidentFact, MetricFact, WeekFacts

FORMAT = "zhoubao.weeks.v1"


class FactsJsonError(ValueError):
    """A JSON document that is not an export of weeks; str() names the week and field."""


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def _when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def week_to_json(facts: WeekFacts, created_at: datetime | None) -> dict[str, Any]:
    """The week's facts (answers, bank statuses, metric values and stated figures, incidents) as plain values."""
    return {
        "week": facts.week,
        "created_at": _when(created_at),
        "entries": [{"item": e.item_key, "text": e.text, "progress": _dec(e.progress),
                     "main_problem": e.main_problem, "author": e.author} for e in facts.entries.values()],
        "banks": [{"item": b.item_key, "note": b.note, "stage": b.stage, "author": b.author}
                  for b in facts.banks.values()],
        "metrics": [{"item": m.item_key, "value_text": m.value_text, "value": _dec(m.value), "author": m.author}
                    for m in facts.metrics.values()],
        "incidents": [{"number": i.number, "started_at": _when(i.started_at), "what": i.what, "system": i.system,
                       "cause": i.cause, "impact": i.impact, "recovered_at": _when(i.recovered_at),
                       "severity": i.severity, "weight": _dec(i.weight),
                       "counts_toward_availability": i.counts_toward_availability, "reporter": i.reporter,
                       "source": i.source, "cause_class": i.cause_class, "cause_bank": i.cause_bank}
                      for i in facts.incidents],
    }


def week_from_json(data: Any) -> tuple[WeekFacts, datetime | None]:
    """The facts and publish time of one exported week; FactsJsonError says what is wrong."""
    if not isinstance(data, dict) or not isinstance(data.get("week"), str):
        raise FactsJsonError("each week needs a \"week\" label like \"2024-W26\"")
    week = data["week"]

    def get(row: dict[str, Any], name: str, kind: type, required: bool = False) -> Any:
        value = row.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, kind):
            raise FactsJsonError(f"{week}: \"{name}\" should be {kind.__name__}, not {value!r}")
        return value

    def dec(row: dict[str, Any], name: str) -> Decimal | None:
        text = get(row, name, str)
        try:
            return None if text is None else Decimal(text)
        except InvalidOperation:
            raise FactsJsonError(f"{week}: \"{name}\" is not a number: {text!r}") from None

    def when(row: dict[str, Any], name: str, required: bool = False) -> datetime | None:
        text = get(row, name, str, required)
        if text is None:
            return None
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise FactsJsonError(f"{week}: \"{name}\" is not an ISO date and time: {text!r}") from None
        if moment.tzinfo is None:
            raise FactsJsonError(f"{week}: \"{name}\" needs a UTC offset: {text!r}")
        return moment

    def rows(name: str) -> list[dict[str, Any]]:
        value = data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
            raise FactsJsonError(f"{week}: \"{name}\" should be a list of objects")
        return value

    entries = {r["item"]: EntryFact(get(r, "item", str, True), get(r, "text", str, True), dec(r, "progress"),
                                    get(r, "main_problem", str), get(r, "author", str)) for r in rows("entries")}
    banks = {r["item"]: BankStatusFact(get(r, "item", str, True), get(r, "note", str, True), get(r, "stage", str),
                                       get(r, "author", str)) for r in rows("banks")}
    metrics = {r["item"]: MetricFact(get(r, "item", str, True), get(r, "value_text", str, True), dec(r, "value"),
                                     get(r, "author", str)) for r in rows("metrics")}
    incidents = []
    for r in rows("incidents"):
        started = when(r, "started_at", True)
        assert started is not None
        counts = r.get("counts_toward_availability", True)
        incidents.append(IncidentFact(
            number=int(get(r, "number", int) or 0), started_at=started, what=get(r, "what", str, True),
            system=get(r, "system", str) or "", cause=get(r, "cause", str) or "", impact=get(r, "impact", str) or "",
            recovered_at=when(r, "recovered_at"), severity=get(r, "severity", str),
            weight=dec(r, "weight") or Decimal(1), counts_toward_availability=bool(counts),
            reporter=get(r, "reporter", str), source="import",
            cause_class=get(r, "cause_class", str) or "", cause_bank=get(r, "cause_bank", str) or ""))
    return WeekFacts(week=week, entries=entries, banks=banks, metrics=metrics,
                     incidents=tuple(incidents)), when(data, "created_at")
