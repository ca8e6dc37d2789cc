"""Reading a weekly report written in the house Markdown (REPORT.md's shape) back into its parts.

Pure and team-agnostic: it knows the report's layout, not the team's items (`import_plan.py` maps
what it finds onto the team file). Tolerant of what wikis do to Markdown: blank and whitespace-only
lines, trailing spaces (hard line breaks), tabs, non-breaking spaces, half- and full-width colons,
`1、` and `1)` numbering, `**bold**` titles. No line is dropped: what fits no construct is returned
with its line number, for the caller to keep as a note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from bot.domain.parsed_report import (
    Block,
    Named,
    ParsedIncident,
    ParsedMetricGroup,
    ParsedOkrGroup,
    ParsedPart,
    ParsedProject,
    ParsedReport,
    SeverityFigure,
    Stray,
    Vocabulary,
)

# ----- lines ----------------------------------------------------------------------------------------

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*$")
_BOLD = re.compile(r"^\*\*(.+)\*\*$|^__(.+)__$")
_BRACKETED = re.compile(r"^【(.+)】$")
_WEEK = re.compile(r"(\d{4})-?W(\d{1,2})", re.IGNORECASE)
_CREATED = re.compile(r"^(?:\*\*)?(\S+?)(?:\*\*)?\s*[:：]\s*(.+)$")
# `- 【name】`, or in English (whose headings have no brackets) a bare `- name` at the margin of the head.
_PROJECT = re.compile(r"^[-*+•]\s+(?:\*\*)?(?:【(.+?)】|([^【】:：*]+?))(?:\*\*)?\s*[:：]?$")
_NUMBERED = re.compile(r"^(\d{1,3})\s*[.、)）]\s*(.*)$")
_BULLET = re.compile(r"^[-*+•]\s+(.*)$")
_OKR_TITLE = re.compile(r"^([A-Za-z]{0,4}\d{1,3})\s+(.+)$")
_STAMP = re.compile(r"^(?:\d{4}[-/.])?\d{1,2}[/.-]\d{1,2}\s+\d{1,2}:\d{2}(?!\d)")
_ZH_COUNTS = re.compile(r"^[^A-Za-z0-9]*?((?:[A-Za-z0-9]+级\d+(?:\.\d+)?次[，,、；;\s]*)+)$")
_ZH_COUNT = re.compile(r"([A-Za-z0-9]+)级(\d+(?:\.\d+)?)次")
_EN_COUNTS = re.compile(r"^[A-Za-z ]+:\s*((?:[A-Za-z0-9/]+\s+\d+(?:\.\d+)?(?:,\s*)?)+)$")
_EN_COUNT = re.compile(r"([A-Za-z0-9/]+)\s+(\d+(?:\.\d+)?)")
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                       "nov", "dec"), start=1)}
_WHEN = (
    re.compile(r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日\s*(?P<H>\d{1,2})[:：](?P<M>\d{2})"),
    re.compile(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})"),
    re.compile(r"(?P<mon>[A-Za-z]{3})[a-z]*\.? (?P<d>\d{1,2}),? (?P<y>\d{4}),? (?P<H>\d{1,2}):(?P<M>\d{2})"),
)


def clean_lines(source: str) -> list[str]:
    """The file's lines as the parser reads them: no trailing whitespace, tabs as 4 spaces, NBSP as space."""
    text = source.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\ufeff")
    return [line.replace("\t", "    ").replace("\u00a0", " ").replace("\u3000", "  ").rstrip()
            for line in text.split("\n")]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def unbold(text: str) -> str:
    """`**【O1 业务服务】**` -> `【O1 业务服务】`."""
    m = _BOLD.match(text.strip())
    return (m.group(1) or m.group(2)).strip() if m else text.strip()


def split_named(text: str) -> tuple[str, str]:
    """`跨境收款：一期已上线` -> ("跨境收款", "一期已上线"); ("", text) when there is no colon."""
    m = re.search(r"[：:]", text)
    if not m:
        return "", text
    name = unbold(text[:m.start()].strip())
    value = text[m.end():]
    return name, value[1:] if value.startswith(" ") and m.group(0) == ":" else value


def _block(lines: list[tuple[int, str]]) -> Block | None:
    """The lines (number, text) without outer blank lines, dedented by their common indentation."""
    while lines and not lines[0][1].strip():
        lines = lines[1:]
    while lines and not lines[-1][1].strip():
        lines = lines[:-1]
    if not lines:
        return None
    cut = min(_indent(t) for _, t in lines if t.strip())
    return Block("\n".join(t[cut:] if t.strip() else "" for _, t in lines), lines[0][0])


def _drop(text: str, width: int) -> str:
    """`text` without up to `width` leading spaces."""
    return text[min(width, _indent(text)):]


def parse_created(value: str) -> datetime | None:
    for pattern in _WHEN:
        m = pattern.search(value)
        if not m:
            continue
        groups = m.groupdict()
        month = _MONTHS.get(groups["mon"].lower()[:3]) if groups.get("mon") else int(groups["m"])
        if month is None:
            continue
        try:
            return datetime(int(groups["y"]), month, int(groups["d"]), int(groups["H"]), int(groups["M"]))
        except ValueError:
            return None
    return None


def parse_counts(text: str) -> tuple[SeverityFigure, ...]:
    """`事故数AB级0次，C级1次，D级0.5次` / `Incidents: A/B 0, C 1, D 0.5` -> figures; () if it is not one."""
    m = _ZH_COUNTS.match(text)
    if m:
        return tuple(SeverityFigure(s, Decimal(n)) for s, n in _ZH_COUNT.findall(m.group(1)))
    m = _EN_COUNTS.match(text)
    if m:
        return tuple(SeverityFigure(s, Decimal(n)) for s, n in _EN_COUNT.findall(m.group(1)))
    return ()


# ----- sections -------------------------------------------------------------------------------------


@dataclass
class _Reader:
    words: Vocabulary
    projects: list[ParsedProject] = field(default_factory=list)
    okrs: list[ParsedOkrGroup] = field(default_factory=list)
    metrics: list[ParsedMetricGroup] = field(default_factory=list)
    strays: list[Stray] = field(default_factory=list)
    sections: list[tuple[str, int]] = field(default_factory=list)

    def stray(self, lines: list[tuple[int, str]]) -> None:
        block = _block(lines)
        if block is not None:
            self.strays.append(Stray(block, len(self.sections) - 1))

    # -- focus projects --

    def project(self, name: str, line: int, heading: str, body: list[tuple[int, str]]) -> None:
        raw = _block([(line, heading), *body])
        block = _block(body)
        rows = [(block.line + i, t) for i, t in enumerate(block.text.split("\n"))] if block else []
        self.sections.append(("project", len(self.projects)))
        if block is None or not _heading_part(rows[0][1]):
            self.projects.append(ParsedProject(name, line, prose=block, raw=raw))
            return
        parts: list[ParsedPart] = []
        current: tuple[int, str, int] | None = None
        content: list[tuple[int, str]] = []
        note: list[tuple[int, str]] = []
        blank_before = False

        def close() -> None:
            if current is not None:
                body_block = _block(content) or Block("", current[2])
                parts.append(ParsedPart(current[0], current[1], current[2], body_block))

        for n, text in rows:
            if note:
                note.append((n, text))
            elif text and _indent(text) == 0 and _heading_part(text):
                close()
                m = _NUMBERED.match(text)
                assert m is not None
                current, content = (int(m.group(1)), split_named(m.group(2))[0], n), []
            elif text and _indent(text) == 0 and blank_before and not _BULLET.match(text):
                note.append((n, text))
            else:
                content.append((n, text))
            blank_before = not text
        close()
        self.projects.append(ParsedProject(name, line, parts=tuple(parts), note=_block(note), raw=raw))

    # -- OKR groups --

    def okr(self, group_id: str, name: str, line: int, body: list[tuple[int, str]], heading: str) -> None:
        items: list[Named] = []
        current: list[tuple[int, str]] = []
        note: list[tuple[int, str]] = []

        def close() -> None:
            if current:
                while current and not current[-1][1]:
                    current.pop()
                m = _NUMBERED.match(current[0][1])
                assert m is not None
                first_name, first_value = split_named(m.group(2))
                rest = [_drop(t, 3) for _, t in current[1:]]
                items.append(Named(first_name, "\n".join([first_value, *rest]), current[0][0],
                                   "\n".join(t for _, t in current), int(m.group(1))))
                current.clear()

        for n, text in body:
            if note:
                note.append((n, text))
            elif text and _indent(text) == 0 and _NUMBERED.match(text):
                close()
                current.append((n, text))
            elif text and _indent(text) == 0 or (not current and text):
                close()
                note.append((n, text))
            elif current:
                current.append((n, text))
        close()
        self.sections.append(("okr", len(self.okrs)))
        self.okrs.append(ParsedOkrGroup(group_id, name, line, tuple(items), _block(note),
                                        _block([(line, heading), *body])))

    # -- 【系统运行数据】 --

    def metric_section(self, body: list[tuple[int, str]]) -> None:
        starts = [i for i, (_, t) in enumerate(body) if _group_heading(body, i)]
        self.stray(body[:starts[0]] if starts else body)
        for k, start in enumerate(starts):
            end = starts[k + 1] if k + 1 < len(starts) else len(body)
            self.metric_group(body[start], body[start + 1:end])

    def metric_group(self, heading: tuple[int, str], body: list[tuple[int, str]]) -> None:
        name = split_named(heading[1])[0] or unbold(heading[1].rstrip("：:"))
        metrics: list[Named] = []
        counts: tuple[SeverityFigure, ...] = ()
        counts_line = 0
        note: list[tuple[int, str]] = []
        blank_before = False
        for n, text in body:
            if note:
                note.append((n, text))
                continue
            if not text:
                blank_before = True
                continue
            bullet = _BULLET.match(text) if _indent(text) == 0 else None
            if bullet:
                figures = parse_counts(bullet.group(1))
                if figures and not counts:
                    counts, counts_line = figures, n
                else:
                    k, v = split_named(bullet.group(1))
                    metrics.append(Named(k, v, n, text))
            elif metrics and _indent(text) > 0 and not blank_before:  # continues the metric above
                last = metrics[-1]
                metrics[-1] = Named(last.name, last.value + "\n" + _drop(text, 2), last.line,
                                    last.raw + "\n" + text)
            else:
                note.append((n, text))
            blank_before = False
        raw = _block([heading, *body])
        self.sections.append(("metrics", len(self.metrics)))
        self.metrics.append(ParsedMetricGroup(name, heading[0], tuple(metrics), counts, counts_line,
                                              _block(note), raw))


def _heading_part(text: str) -> bool:
    """`1. 业务：` — a part heading: numbered, ending in a colon, nothing after it."""
    m = _NUMBERED.match(text.strip())
    if not m:
        return False
    body = unbold(m.group(2))
    return bool(re.search(r"[：:]$", body)) or bool(re.search(r"[：:]\*\*$", m.group(2)))


def _group_heading(body: list[tuple[int, str]], i: int) -> bool:
    """`支付成功率：` at the margin, followed (after blank lines) by a list."""
    text = body[i][1]
    if not text or _indent(text) or _BULLET.match(text) or not re.search(r"[：:](?:\*\*)?$", text):
        return False
    for _, nxt in body[i + 1:]:
        if nxt:
            return bool(_BULLET.match(nxt)) and _indent(nxt) == 0
    return False


def _section_kind(title: str, words: Vocabulary) -> tuple[str, str, str]:
    """("metrics"|"incidents"|"other"|"reflection"|"next_week"|"okr"|"unknown", okr id, okr name)."""
    inner = unbold(title)
    m = _BRACKETED.match(inner)
    inner = unbold(m.group(1)) if m else inner
    for kind in ("metrics", "incidents", "other", "reflection", "next_week"):
        if inner.casefold() in {w.casefold() for w in getattr(words, kind)}:
            return kind, "", ""
    okr = _OKR_TITLE.match(inner)
    if okr:  # `## 【O1 业务服务】`, or `## O1 Business services` in English
        return "okr", okr.group(1), okr.group(2).strip()
    return "unknown", "", ""


def _heading(text: str) -> tuple[int, str] | None:
    """(level, title) for `## 【…】` or a bare `【…】` / `**【…】**` line at the margin."""
    m = _HEADING.match(text)
    if m:
        return len(m.group(1)), m.group(2)
    if text and not _indent(text) and _BRACKETED.match(unbold(text)):
        return 2, text
    return None


_WEEK_TITLE = re.compile(r"^#\s+(?:\*\*)?\d{4}-?W\d{1,2}\b", re.IGNORECASE)


def split_reports(source: str) -> list[tuple[int, str]]:
    """A file holding several reports (an export of many weeks) as (first line number, text) per report."""
    lines = source.split("\n")
    starts = [i for i, line in enumerate(lines) if _WEEK_TITLE.match(line)]
    if len(starts) < 2:
        return [(1, source)]
    starts[0] = 0
    return [(a + 1, "\n".join(lines[a:b])) for a, b in zip(starts, [*starts[1:], len(lines)], strict=True)]


def parse_report(source: str, words: Vocabulary, first_line: int = 1) -> ParsedReport:
    """The parts of one report in the house Markdown; never raises on odd input, keeps every line.
    Line numbers count from `first_line` (a report that starts further down a file)."""
    lines = clean_lines(source)
    numbered = list(enumerate(lines, start=first_line))
    reader = _Reader(words)
    week: str | None = None
    created: datetime | None = None
    created_line = 0

    # Split into a head (title, Created, focus projects) and headed sections.
    sections: list[tuple[int, str, list[tuple[int, str]]]] = []
    head: list[tuple[int, str]] = []
    for n, text in numbered:
        h = _heading(text)
        if h is not None and week is None and not sections and h[0] == 1 and _WEEK.search(h[1]):
            m = _WEEK.search(h[1])
            assert m is not None
            week = f"{m.group(1)}-W{int(m.group(2)):02d}"
            continue
        if h is not None and not _PROJECT.match(text):
            sections.append((n, h[1], []))
        elif sections:
            sections[-1][2].append((n, text))
        else:
            head.append((n, text))

    # The head: Created, then `- 【project】` blocks.
    current: tuple[str, int, str] | None = None
    body: list[tuple[int, str]] = []
    loose: list[tuple[int, str]] = []
    for n, text in head:
        c = _CREATED.match(text) if current is None and created is None else None
        if c and unbold(c.group(1)).casefold() in {w.casefold() for w in words.created}:
            created, created_line = parse_created(c.group(2)), n
            if created is None:
                loose.append((n, text))
            continue
        p = _PROJECT.match(text)
        if p:
            if current is not None:
                reader.project(*current, body)
            else:
                reader.stray(loose)
            current, body = (unbold(p.group(1) or p.group(2)), n, text), []
        elif current is not None:
            body.append((n, text))
        else:
            loose.append((n, text))
    if current is not None:
        reader.project(*current, body)
    else:
        reader.stray(loose)

    incidents: list[ParsedIncident] = []
    incidents_line = 0
    incidents_note: Block | None = None
    editor: dict[str, Block | None] = {}
    for n, title, rows in sections:
        kind, okr_id, okr_name = _section_kind(title, words)
        if kind == "okr":
            reader.okr(okr_id, okr_name, n, rows, lines[n - first_line])
        elif kind == "metrics":
            reader.metric_section(rows)
        elif kind == "incidents" and not incidents_line:
            incidents_line = n
            reader.sections.append(("incidents", 0))
            incidents, incidents_note = _incidents(rows, words)
        elif kind in ("other", "reflection", "next_week") and kind not in editor:
            editor[kind] = _block(rows)
        else:
            reader.stray([(n, lines[n - first_line]), *rows])
    return ParsedReport(
        week=week, created=created, created_line=created_line, projects=tuple(reader.projects),
        okr_groups=tuple(reader.okrs), metric_groups=tuple(reader.metrics), incidents=tuple(incidents),
        incidents_line=incidents_line, incidents_note=incidents_note, other=editor.get("other"),
        reflection=editor.get("reflection"), next_week=editor.get("next_week"), strays=tuple(reader.strays),
        sections=tuple(reader.sections))


def _incidents(rows: list[tuple[int, str]], words: Vocabulary) -> tuple[list[ParsedIncident], Block | None]:
    """Incident lines (a line starting `MM/DD HH:MM`; an unblanked line after one continues it), then the note."""
    found: list[ParsedIncident] = []
    note: list[tuple[int, str]] = []
    none_seen = False
    after_incident = False
    for n, text in rows:
        if note:
            note.append((n, text))
        elif not text:
            after_incident = False
        elif _STAMP.match(text.strip()) and not _indent(text):
            found.append(ParsedIncident(text.strip(), n))
            after_incident = True
        elif after_incident:
            last = found[-1]
            found[-1] = ParsedIncident(last.text + "\n" + text.strip(), last.line)
        elif text.strip() in words.none and not found and not none_seen:
            none_seen = True
        else:
            note.append((n, text))
    return found, _block(note)
