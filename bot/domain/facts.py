"""Plain, immutable records that repositories return: what was stored for one week.

No SQLAlchemy here, so the pure core (compile, templates) can use them freely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from bot.domain.team import Item, ItemKind


@dataclass(frozen=True)
class EntryFact:
    """The current answer for one text item (project part, prose project, OKR item, editor section)."""

    item_key: str
    text: str
    progress: Decimal | None = None
    main_problem: str | None = None
    author: str | None = None  # person id
    updated_at: datetime | None = None


@dataclass(frozen=True)
class BankStatusFact:
    item_key: str  # bank:<project>/<bank>
    note: str
    stage: str | None = None
    author: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class MetricFact:
    item_key: str  # metric:<name>
    value_text: str  # as the owner wrote the number, without unit: "99.993"
    value: Decimal | None = None
    author: str | None = None


@dataclass(frozen=True)
class IncidentFact:
    number: int  # the team's incident id shown to people (#12)
    started_at: datetime  # aware
    what: str
    system: str = ""
    cause: str = ""
    impact: str = ""
    recovered_at: datetime | None = None
    severity: str | None = None
    weight: Decimal = Decimal("1")
    counts_toward_availability: bool = True
    reporter: str | None = None  # the team member who filed it (person id), if a member did
    reporter_name: str | None = None  # the name of whoever filed it, member or not
    source: str = "console"
    cause_class: str = ""  # whose cause (`归因`): own, bank, … ("" when not said)
    cause_bank: str = ""  # for bank: which bank, by its team-file name
    postmortem: str | None = None  # the postmortem's link, once recorded
    detected_at: datetime | None = None  # when it was noticed, if said


@dataclass(frozen=True)
class ActionItemFact:
    """A postmortem action item (issue 23) as a week's report sees it."""

    number: int  # A<number>
    incident: int  # the incident's number
    text: str
    owner: str  # person id
    due: date
    created_at: datetime
    done_at: datetime | None = None


@dataclass(frozen=True)
class WeekFacts:
    """Everything stored for one (team, week)."""

    week: str  # "2024-W26"
    entries: dict[str, EntryFact] = field(default_factory=dict)
    banks: dict[str, BankStatusFact] = field(default_factory=dict)
    metrics: dict[str, MetricFact] = field(default_factory=dict)
    incidents: tuple[IncidentFact, ...] = ()
    away: frozenset[str] = frozenset()  # person ids away this week
    # downtime of availability-counting incidents from the start of the year to the week's end, in seconds
    year_downtime_seconds: float = 0.0
    # live incidents that started in the longest look-back the team file asks for (error-budget windows,
    # repeats) up to the week's end, this week's included; empty when the team file asks for none
    recent_incidents: tuple[IncidentFact, ...] = ()
    # action items made before the week's end that were open at its start or later (issue 23)
    action_items: tuple[ActionItemFact, ...] = ()

    @property
    def is_empty(self) -> bool:
        """Nothing stored for the week: no answer, bank status, metric value or incident (every item of its
        report would read as not updated)."""
        return not (self.entries or self.banks or self.metrics or self.incidents)

    def answer(self, item: Item) -> StoredAnswer | None:
        """What is stored for `item` this week, as its page, prompt, export and dashboard show it (a metric's
        number with its unit); None when nobody answered it (blank text counts as unanswered)."""
        if item.kind is ItemKind.BANK:
            b = self.banks.get(item.key)
            return StoredAnswer(b.note, b.author, b.updated_at) if b and b.note.strip() else None
        if item.kind is ItemKind.METRIC:
            m = self.metrics.get(item.key)
            return StoredAnswer(m.value_text + item.unit, m.author, None) if m else None
        e = self.entries.get(item.key)
        return StoredAnswer(e.text, e.author, e.updated_at, e.progress) if e and e.text.strip() else None


@dataclass(frozen=True)
class StoredAnswer:
    """An item's stored answer of one week."""

    text: str
    author: str | None = None  # person id
    updated_at: datetime | None = None
    progress: Decimal | None = None
