"""Forms as the core understands them, whatever widget a platform shows: typed values in, typed values out.

A platform adapter maps its widgets (a Slack modal, a Feishu card form, the console) to an `AnswerForm`
per item or an `IncidentForm`, and hands them to the core; the core checks them here. A problem is a
`FormProblem` naming a catalogue key, so every platform says the same sentence for the same mistake.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from bot.domain.incidents import (
    IncidentDraft,
    IncidentSyntaxError,
    read_attribution,
    read_recovered,
    read_severity,
    read_start,
    read_weight,
)
from bot.domain.reliability import CauseBook
from bot.domain.replies import normalize_text
from bot.domain.team import ItemKind


@dataclass(frozen=True)
class AnswerForm:
    """One item's part of an answer form."""

    item_key: str
    text: str = ""
    progress: str = ""  # as typed ("60", "60%"); the core checks it is a number from 0 to 100
    main_problem: str = ""


@dataclass(frozen=True)
class QuestionForm:
    """The incident question's part of an answer form: what was typed, or the one-click "nothing to add"."""

    text: str = ""  # answered like a message: 无 / an incident line / anything else (kept and asked about)
    nothing_to_add: bool = False


@dataclass(frozen=True)
class IncidentForm:
    """The incident form: every field as typed; empty means "not given"."""

    start: str = ""  # empty: now
    system: str = ""
    what: str = ""
    cause: str = ""
    impact: str = ""
    recovered: str = ""
    severity: str = ""
    weight: str = ""  # empty: 1
    counts_toward_availability: bool | None = None  # None: not said (a new incident counts)
    attribution: str = ""  # whose cause (`归因`): a cause class or a bank, as typed
    number: int | None = None  # an edit of incident #number: only the fields given change


@dataclass(frozen=True)
class FormProblem(Exception):
    """What is wrong with a form, as a catalogue key and the values its sentence names."""

    key: str
    values: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.key} {self.values}"


_PROGRESS = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*[%％]?")


def read_progress(value: str) -> Decimal | None:
    """A progress percentage from 0 to 100 (`60`, `60%`, `60.5`); None when empty; FormProblem otherwise."""
    text = normalize_text(value).strip()
    if not text:
        return None
    m = _PROGRESS.fullmatch(text)
    try:
        number = Decimal(m.group(1)) if m else None
    except InvalidOperation:  # pragma: no cover - the pattern only admits decimals
        number = None
    if number is None or not 0 <= number <= 100:
        raise FormProblem("answer.bad_progress", {"value": text})
    return number


def _clean(value: str) -> str:
    return " ".join(normalize_text(value).split())


def _fields(form: IncidentForm, now: datetime, severities: tuple[str, ...] | list[str],
            *, start: datetime | None, causes: CauseBook | None) -> dict[str, object]:
    """The fields given, typed; the start is read by the caller (it decides what a missing one means)."""
    out: dict[str, object] = {}
    for name in ("system", "what", "cause", "impact"):
        if _clean(getattr(form, name)):
            out[name] = _clean(getattr(form, name))
    if _clean(form.recovered):
        try:
            out["recovered_at"] = read_recovered(_clean(form.recovered), start=start, now=now)
        except IncidentSyntaxError:
            raise FormProblem("incident.bad_recovered", {"value": _clean(form.recovered)}) from None
    if _clean(form.severity):
        try:
            out["severity"] = read_severity(_clean(form.severity), severities)
        except IncidentSyntaxError:
            raise FormProblem("incident.bad_severity", {"value": _clean(form.severity),
                                                        "known": ", ".join(severities) or "—"}) from None
    if _clean(form.weight):
        try:
            out["weight"] = read_weight(_clean(form.weight))
        except IncidentSyntaxError:
            raise FormProblem("incident.bad_weight", {"value": _clean(form.weight)}) from None
    if form.counts_toward_availability is not None:
        out["counts_toward_availability"] = form.counts_toward_availability
    if _clean(form.attribution):
        try:
            out["cause_class"], out["cause_bank"] = read_attribution(_clean(form.attribution), causes or CauseBook(()))
        except IncidentSyntaxError as exc:
            raise FormProblem("incident.syntax.cause_class", exc.values) from None
    return out


def _start(form: IncidentForm, now: datetime) -> datetime:
    try:
        return read_start(_clean(form.start), now=now)
    except IncidentSyntaxError:
        raise FormProblem("incident.bad_start", {"value": _clean(form.start)}) from None


def incident_draft(form: IncidentForm, *, now: datetime, severities: tuple[str, ...] | list[str],
                   causes: CauseBook | None = None) -> IncidentDraft:
    """The incident a filled-in form describes; FormProblem for the first field that cannot be read."""
    start = _start(form, now)
    values = _fields(form, now, severities, start=start, causes=causes)
    what = str(values.pop("what", ""))
    if not what:
        raise FormProblem("incident.no_what")
    return IncidentDraft(started_at=start, what=what, **values)  # type: ignore[arg-type]


def incident_changes(form: IncidentForm, *, now: datetime, severities: tuple[str, ...] | list[str],
                     causes: CauseBook | None = None) -> dict[str, object]:
    """The fields an edit form changes, keyed and typed as in IncidentDraft; FormProblem if none or unreadable."""
    start = _start(form, now) if _clean(form.start) else None
    changes = _fields(form, now, severities, start=start, causes=causes)
    if start is not None:
        changes["started_at"] = start
    if not changes:
        raise FormProblem("incident.no_fields")
    return changes


def asks_progress(kind: ItemKind) -> bool:
    """Whether an answer form offers progress % and main problem for an item of this kind (on every
    platform): project parts, prose projects and OKR items state them; banks, metrics and the
    editor's sections do not."""
    return kind in (ItemKind.PART, ItemKind.PROSE, ItemKind.OKR)
