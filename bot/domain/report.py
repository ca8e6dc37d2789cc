"""The compiled weekly report: the only thing templates see."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal


class Status(StrEnum):
    ANSWERED = "answered"
    NOT_UPDATED = "not_updated"  # 未更新
    AWAY = "away"  # 休假


@dataclass(frozen=True)
class Entry:
    """One answered (or not) text item."""

    status: Status
    text: str = ""  # the owner's text, structure kept, stripped of trailing blank lines
    progress: Decimal | None = None
    previous_progress: Decimal | None = None  # last week's, for "45% → 60%"
    main_problem: str | None = None
    author: str | None = None  # display name

    @property
    def answered(self) -> bool:
        return self.status is Status.ANSWERED

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n") if self.text else []


@dataclass(frozen=True)
class BankLine:
    name: str
    status: Status
    note: str = ""
    stage: str | None = None
    previous_stage: str | None = None


@dataclass(frozen=True)
class Part:
    name: str
    entry: Entry
    banks: tuple[BankLine, ...] = ()


@dataclass(frozen=True)
class Project:
    name: str
    prose: Entry | None = None  # a project written as prose
    parts: tuple[Part, ...] = ()
    note: str = ""  # free lines shown at the end of the section; "" shows nothing


@dataclass(frozen=True)
class OkrItem:
    name: str
    entry: Entry


@dataclass(frozen=True)
class OkrGroup:
    id: str
    name: str
    items: tuple[OkrItem, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class MetricLine:
    name: str
    status: Status
    value: str = ""  # "99.993%" with its unit, ready to print


@dataclass(frozen=True)
class SeverityCount:
    severities: tuple[str, ...]  # ("A", "B")
    count: Decimal  # weights summed; 0.5 is possible

    @property
    def count_text(self) -> str:
        text = format(self.count.normalize(), "f")
        return text


@dataclass(frozen=True)
class BudgetLine:
    """A system's availability over its window against its objective, and the error budget left (issue 23)."""

    system: str
    availability: str  # floored, ready to print without its "%": "99.93"
    objective: str  # as the team file wrote it: "99.9"
    left_share: int  # whole percent of the budget left, 0 once spent
    left_minutes: int
    over_minutes: int  # how far past the budget, once spent
    spent: bool
    own_minutes: int | None = None  # downtime of our own cause; None when no outage in the window says its cause


@dataclass(frozen=True)
class CauseCount:
    """The week's incidents of one cause class: weights summed, as the severity counts are, and downtime."""

    cause: str  # the class's shown name; "" for incidents nobody attributed
    count: Decimal
    minutes: int

    @property
    def count_text(self) -> str:
        return format(self.count.normalize(), "f")


@dataclass(frozen=True)
class MetricGroup:
    name: str
    metrics: tuple[MetricLine, ...] = ()
    incident_counts: tuple[SeverityCount, ...] = ()  # empty unless the group shows them
    note: str = ""
    budgets: tuple[BudgetLine, ...] = ()  # a group with incident counts shows the team file's objectives
    causes: tuple[CauseCount, ...] = ()  # and, with `show_causes`, the week's incidents by cause


@dataclass(frozen=True)
class Incident:
    number: int
    started_at: datetime  # team time zone
    headline: str  # system and what happened, as people typed them
    cause: str = ""
    impact: str = ""
    recovered_at: datetime | None = None
    severity: str | None = None
    weight: Decimal = Decimal("1")
    postmortem: str = ""  # its postmortem's link as written (a Markdown link stays one); "" when none
    repeat_of: Repeat | None = None  # the earlier incident it repeats (same system and cause class)


@dataclass(frozen=True)
class Repeat:
    number: int
    started_at: datetime  # team time zone


@dataclass(frozen=True)
class ActionLine:
    """A postmortem action item under the incidents: open, overdue, or done this week (issue 23)."""

    number: int  # A<number>
    text: str
    incident: int
    owner: str  # display name
    owner_id: str
    due: date
    state: Literal["open", "overdue", "done"]


@dataclass(frozen=True)
class Missing:
    """An item nobody answered, named to the editor before posting."""

    person: str  # display name
    person_id: str
    item_title: str
    item_key: str = ""


@dataclass(frozen=True)
class KeyPoint:
    """One line of the week's key points (本周要点): the words, then who said it and where (the sources)."""

    text: str
    sources: tuple[str, ...] = ()  # "张伟 · 聚合收单 · 业务"


@dataclass(frozen=True)
class MissingPerson:
    """One person's open items of the week (`compile.missing_by_person`), titles in report order."""

    person: str  # display name
    person_id: str
    item_titles: tuple[str, ...]
    item_keys: tuple[str, ...] = ()  # the same items' keys, in the same order (a reminder names them)

    @property
    def count(self) -> int:
        return len(self.item_titles)


@dataclass(frozen=True)
class Report:
    team: str
    week: str  # "2024-W26"
    locale: str  # "zh-CN" | "en"
    created_at: datetime  # team time zone
    projects: tuple[Project, ...] = ()
    okr_groups: tuple[OkrGroup, ...] = ()
    metric_groups: tuple[MetricGroup, ...] = ()
    incidents: tuple[Incident, ...] = ()
    incidents_note: str = ""
    actions: tuple[ActionLine, ...] = ()  # overdue first, then open, then done this week
    postmortems_missing: tuple[Incident, ...] = ()  # the week's incidents that need a postmortem and lack one
    other: Entry = field(default_factory=lambda: Entry(Status.NOT_UPDATED))
    reflection: Entry = field(default_factory=lambda: Entry(Status.NOT_UPDATED))
    next_week: Entry = field(default_factory=lambda: Entry(Status.NOT_UPDATED))
    missing: tuple[Missing, ...] = ()
    # The digest the editor approved (or the team's setting let through), shown on top; () shows nothing.
    key_points: tuple[KeyPoint, ...] = ()
