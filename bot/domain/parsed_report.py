"""What reading a report in the house Markdown gives: its parts, each with the file line it came from.

`house_markdown.py` fills these; `import_plan.py` maps them onto the team file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class Block:
    """Lines of the file as the report shows them (indentation relative to the block), from line `line`."""

    text: str
    line: int


@dataclass(frozen=True)
class Named:
    """A `name：value` line (an OKR item, a metric, a bank) with its continuation lines."""

    name: str  # "" when the line has no colon
    value: str
    line: int
    raw: str  # the line(s) as written, relative to the list, for keeping it as a note
    number: int | None = None  # the `1.` of a numbered item


@dataclass(frozen=True)
class ParsedPart:
    number: int
    name: str
    line: int
    body: Block  # the part's lines: bank lines and the owner's list items, relative to the part


@dataclass(frozen=True)
class ParsedProject:
    name: str
    line: int
    prose: Block | None = None  # a project written as prose (a note after it cannot be told apart)
    parts: tuple[ParsedPart, ...] = ()
    note: Block | None = None
    raw: Block | None = None  # the whole project as written


@dataclass(frozen=True)
class ParsedOkrGroup:
    id: str
    name: str
    line: int
    items: tuple[Named, ...] = ()
    note: Block | None = None
    raw: Block | None = None  # the whole group as written (heading included)


@dataclass(frozen=True)
class SeverityFigure:
    severities: str  # as written: "AB" (zh-CN) or "A/B" (en)
    count: Decimal


@dataclass(frozen=True)
class ParsedMetricGroup:
    name: str
    line: int
    metrics: tuple[Named, ...] = ()
    counts: tuple[SeverityFigure, ...] = ()
    counts_line: int = 0
    note: Block | None = None
    raw: Block | None = None  # the whole group as written (heading included)


@dataclass(frozen=True)
class ParsedIncident:
    text: str  # `06/24 09:12 …` as written, continuation lines joined with "\n"
    line: int


@dataclass(frozen=True)
class Stray:
    """Lines that fit no construct, with the number of note-capable sections seen before them."""

    block: Block
    after: int  # index into ParsedReport.sections (-1: before any)


@dataclass(frozen=True)
class ParsedReport:
    week: str | None = None
    created: datetime | None = None  # naive, the team's wall clock
    created_line: int = 0
    projects: tuple[ParsedProject, ...] = ()
    okr_groups: tuple[ParsedOkrGroup, ...] = ()
    metric_groups: tuple[ParsedMetricGroup, ...] = ()
    incidents: tuple[ParsedIncident, ...] = ()
    incidents_line: int = 0  # 0: the report has no 【生产事件】 heading
    incidents_note: Block | None = None
    other: Block | None = None
    reflection: Block | None = None
    next_week: Block | None = None
    strays: tuple[Stray, ...] = ()
    # note-capable sections in file order, as ("project"|"okr"|"metrics"|"incidents", index)
    sections: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Vocabulary:
    """The report's own words in every locale, which the renderer's catalogue owns."""

    created: frozenset[str]
    metrics: frozenset[str]
    incidents: frozenset[str]
    other: frozenset[str]
    reflection: frozenset[str]
    next_week: frozenset[str]
    none: frozenset[str]  # "无" under 【生产事件】: no incidents
