"""Mapping a parsed report onto the team file: which item each piece of text answers, for one week.

Pure. The result is the week's facts as the bot would have stored them from chat (each answer
attributed to the item's owner), plus where each came from (file line) for `--dry-run`, and what
could not be mapped: that text is kept as the note of the nearest section, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation

from bot.domain.compile import availability_figure_key, incident_count_figure_key
from bot.domain.facts import BankStatusFact, EntryFact, IncidentFact, MetricFact, WeekFacts
from bot.domain.incidents import IncidentSyntaxError, parse_incident
from bot.domain.parsed_report import Block, Named, ParsedMetricGroup, ParsedProject, ParsedReport
from bot.domain.replies import bank_stage, normalize_text, parse_entry, parse_metric_value
from bot.domain.team import (
    EDITOR_SECTIONS,
    INCIDENTS_NOTE_KEY,
    Item,
    MetricGroup,
    OkrGroup,
    Project,
    Team,
    metrics_note_key,
    okr_note_key,
    project_note_key,
)
from bot.domain.weeks import IsoWeek

_STAMP = re.compile(r"^((?:\d{4}[-/.])?(\d{1,2})[/.-](\d{1,2})\s+(\d{1,2}):(\d{2}))\s*")
_BANK_LINE = re.compile(r"^[-*+•]\s+(.*)$")
# The recovery time `incident_line` appends after the last field: `，15:10 恢复`, `, recovered 06/27 01:00`.
_RECOVERED_TAIL = {
    "zh-CN": re.compile(r"，?(?:(\d{1,2})/(\d{1,2}) )?(\d{1,2}):(\d{2}) 恢复$"),
    "en": re.compile(r"(?:, )?recovered (?:(\d{1,2})/(\d{1,2}) )?(\d{1,2}):(\d{2})$"),
}
_NUMBERED = re.compile(r"^\d{1,3}\s*[.、)）]\s*(.*)$")

# The comma `incident_line` writes between an incident's fields, per locale.
_FIELD_COMMA: dict[str, str] = {"zh-CN": "，", "en": ","}


@dataclass(frozen=True)
class Mapped:
    """One stored fact and the file line it came from."""

    key: str  # item key, figure key, or "incident:<n>"
    title: str  # where it sits in the report
    line: int


@dataclass(frozen=True)
class Unmapped:
    """Text that matched no item, and the section note that keeps it."""

    line: int
    text: str  # its first line
    note_key: str
    note_title: str


@dataclass(frozen=True)
class PlanWarning:
    """Something the admin should check: `code` is by_position | away | incident_as_text | week_from_name."""

    line: int
    code: str
    subject: str
    detail: str = ""


@dataclass(frozen=True)
class ImportPlan:
    week: str
    created_at: datetime | None  # aware, the team's zone
    facts: WeekFacts
    mapped: tuple[Mapped, ...] = ()
    unmapped: tuple[Unmapped, ...] = ()
    warnings: tuple[PlanWarning, ...] = ()


def _same(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


@dataclass
class _Plan:
    team: Team
    week: IsoWeek
    unanswered: frozenset[str]
    away_words: frozenset[str]
    entries: dict[str, EntryFact] = field(default_factory=dict)
    banks: dict[str, BankStatusFact] = field(default_factory=dict)
    metrics: dict[str, MetricFact] = field(default_factory=dict)
    incidents: list[IncidentFact] = field(default_factory=list)
    notes: dict[str, list[Block]] = field(default_factory=dict)
    mapped: list[Mapped] = field(default_factory=list)
    unmapped: list[tuple[Block, str | None]] = field(default_factory=list)  # (block, section note key or None)
    warnings: list[PlanWarning] = field(default_factory=list)

    def answered(self, text: str, line: int, title: str) -> bool:
        """False for a status word (未更新, 休假) standing in for an answer."""
        word = text.strip()
        if word in self.away_words:
            self.warnings.append(PlanWarning(line, "away", title))
        return bool(word) and word not in self.unanswered

    def entry(self, item: Item, text: str, line: int) -> None:
        if not self.answered(text, line, item.title):
            return
        parsed = parse_entry(text)
        if parsed.text:
            self.entries[item.key] = EntryFact(item.key, parsed.text, parsed.progress, parsed.main_problem,
                                               item.owner)
            self.mapped.append(Mapped(item.key, item.title, line))

    def bank(self, item: Item, note: str, line: int) -> None:
        if not self.answered(note, line, item.title):
            return
        text = normalize_text(note)
        self.banks[item.key] = BankStatusFact(item.key, text, bank_stage(text), item.owner)
        self.mapped.append(Mapped(item.key, item.title, line))

    def note(self, key: str, block: Block | None) -> None:
        if block is not None and block.text.strip():
            self.notes.setdefault(key, []).append(block)
            self.mapped.append(Mapped(key, self.note_title(key), block.line))

    def lost(self, block: Block | None, key: str | None) -> None:
        """Text that fits no item: kept as the note of section `key` (None: the nearest, decided later)."""
        if block is not None and block.text.strip():
            self.unmapped.append((block, key))

    def note_title(self, key: str) -> str:
        return next(it.title for it in self.team.section_notes if it.key == key)

    # -- sections --

    def project(self, parsed: ParsedProject, pr: Project) -> None:
        key = project_note_key(pr.name)
        items = self.team.item_by_key
        if not pr.parts:
            if parsed.prose is not None:
                self.entry(items[f"project:{pr.name}"], parsed.prose.text, parsed.prose.line)
            else:
                self.lost(_parts_text(parsed), key)
        elif parsed.prose is not None:
            self.lost(parsed.prose, key)
        taken: set[str] = set()
        for part in parsed.parts if pr.parts else ():
            match = next((p for p in pr.parts if _same(p.name, part.name) and p.name not in taken), None)
            if match is None and 1 <= part.number <= len(pr.parts) and pr.parts[part.number - 1].name not in taken:
                match = pr.parts[part.number - 1]
                self.warnings.append(PlanWarning(part.line, "by_position", f"{pr.name} · {match.name}", part.name))
            if match is None:
                self.lost(Block(f"{part.number}. {part.name}：\n{_indent(part.body.text, 4)}".rstrip(), part.line), key)
                continue
            taken.add(match.name)
            own = self.part_banks(pr, match.name, part.body)
            part_item = items[f"project:{pr.name}/{match.name}"]
            if own is not None and own.text.strip() and own.text.strip() not in {f"- {w}" for w in self.unanswered}:
                self.entry(part_item, own.text, own.line)
            elif own is not None:
                self.answered(own.text.removeprefix("- "), own.line, part_item.title)
        self.note(key, parsed.note)

    def part_banks(self, pr: Project, part_name: str, body: Block) -> Block | None:
        """Store the part's bank lines; returns the rest (the owner's own list items)."""
        part = next(p for p in pr.parts if p.name == part_name)
        lines = body.text.split("\n") if body.text else []
        rest: list[tuple[int, str]] = []
        i = 0
        while i < len(lines):
            m = _BANK_LINE.match(lines[i]) if part.banks else None
            name, value = _split(m.group(1)) if m else ("", "")
            bank = next((b for b in part.banks if name and any(_same(name, n) for n in (b.name, *b.aliases))), None)
            if bank is None or f"bank:{pr.name}/{bank.name}" in self.banks:
                rest.append((body.line + i, lines[i]))
                i += 1
                continue
            end = i + 1
            while end < len(lines) and (not lines[end] or lines[end].startswith(" ")):
                end += 1
            while end > i + 1 and not lines[end - 1]:
                end -= 1
            note = "\n".join([value, *(ln[min(2, len(ln) - len(ln.lstrip(" "))):] for ln in lines[i + 1:end])])
            self.bank(self.team.item_by_key[f"bank:{pr.name}/{bank.name}"], note, body.line + i)
            i = end
        while rest and not rest[0][1].strip():
            rest.pop(0)
        return Block("\n".join(t for _, t in rest).rstrip(), rest[0][0]) if rest else None

    def okr(self, parsed_items: Sequence[Named], note: Block | None, g: OkrGroup) -> None:
        key = okr_note_key(g.id)
        taken: set[str] = set()
        for pos, named in enumerate(parsed_items, start=1):
            match = next((it for it in g.items if _same(it.name, named.name) and it.name not in taken), None)
            value = named.value
            if match is None:
                number = named.number or pos
                cand = g.items[number - 1] if 1 <= number <= len(g.items) else None
                if cand is not None and cand.name not in taken \
                        and not any(_same(n.name, cand.name) for n in parsed_items):
                    match = cand
                    self.warnings.append(PlanWarning(named.line, "by_position", f"{g.id} {g.name} · {cand.name}",
                                                 named.name))
                    # The line's own name is not the item's: keep the whole line as the answer.
                    first = _NUMBERED.match(named.raw.split("\n")[0])
                    value = "\n".join([first.group(1) if first else named.value.split("\n")[0],
                                       *named.value.split("\n")[1:]])
            if match is None:
                self.lost(Block(named.raw, named.line), key)
                continue
            taken.add(match.name)
            self.entry(self.team.item_by_key[f"okr:{g.id}/{match.name}"], value, named.line)
        self.note(key, note)

    def metric_group(self, parsed: ParsedMetricGroup, mg: MetricGroup) -> None:
        key = metrics_note_key(mg.name)
        for named in parsed.metrics:
            m = next((m for m in mg.metrics if _same(m.name, named.name)), None)
            value = named.value.strip()
            if m is None or "\n" in value:
                self.lost(Block(named.raw, named.line), key)
                continue
            title = f"{mg.name} · {m.name}"
            if not self.answered(value, named.line, title):
                continue
            if m.unit and not value.endswith(m.unit) or len(value) - len(m.unit) > 64:
                self.lost(Block(named.raw, named.line), key)
                continue
            written = value[:len(value) - len(m.unit)] if m.unit else value
            number = parse_metric_value(written, "")
            amount = _decimal(number[0]) if number and number[0] == written.strip() else None
            fkey = availability_figure_key(m.name) if m.source == "availability" else f"metric:{m.name}"
            self.metrics[fkey] = MetricFact(fkey, written, amount, m.owner)
            self.mapped.append(Mapped(fkey, title, named.line))
        if parsed.counts:
            groups = self.team.incidents.count_groups
            found: dict[str, Decimal] = {}
            for fig in parsed.counts:
                g = next((g for g in groups if fig.severities in ("".join(g), "/".join(g))), None)
                if g is None:
                    break
                found[incident_count_figure_key(mg.name, g)] = fig.count
            if mg.incident_counts and len(found) == len(parsed.counts) == len(groups):
                for fkey, count in found.items():
                    self.metrics[fkey] = MetricFact(fkey, format(count.normalize(), "f"), count)
                self.mapped.append(Mapped(f"figure:incidents:{mg.name}", f"{mg.name} · incident counts",
                                          parsed.counts_line))
            else:
                raw = parsed.raw.text.split("\n")[parsed.counts_line - parsed.raw.line] if parsed.raw else ""
                self.lost(Block(raw, parsed.counts_line), key)
        self.note(key, parsed.note)

    def incident(self, text: str, line: int, n: int) -> None:
        zone = self.team.zone
        # "Now" a week after the report's week: a date without a year then lands in the right year.
        now = self.week.end(zone) + timedelta(days=7)
        severities = self.team.incidents.severities
        try:
            d = parse_incident(text, now=now, severities=severities)
            fields = {"what": d.what, "impact": d.impact, "cause": d.cause}
            recovered = d.recovered_at
            last = "cause" if d.cause else "impact" if d.impact else ""
            tail = _RECOVERED_TAIL[self.team.team.locale].search(fields[last]) if last and recovered is None else None
            if tail is not None:
                recovered = _recovered(tail, d.started_at)
                if recovered is not None:
                    fields[last] = fields[last][:tail.start()]
            # `incident_line` puts a comma between fields, so a field followed by another keeps none of its own.
            order, sep = ["what", "impact", "cause"], _FIELD_COMMA[self.team.team.locale]
            shown = recovered is not None and f"{recovered:%H:%M}" not in "".join(fields.values())
            for i, k in enumerate(order):
                followed = shown or any(fields[later] for later in order[i + 1:])
                fields[k] = fields[k].rstrip()
                if followed and fields[k].endswith(sep):
                    fields[k] = fields[k][:-1].rstrip()
            fact = IncidentFact(number=n, started_at=d.started_at, what=fields["what"], system=d.system,
                                cause=fields["cause"], impact=fields["impact"], recovered_at=recovered,
                                severity=d.severity, weight=d.weight,
                                counts_toward_availability=d.counts_toward_availability, source="import")
        except IncidentSyntaxError as exc:
            m = _STAMP.match(text)
            assert m is not None
            start = _start(m, self.week, zone)
            if start is None:
                self.lost(Block(text, line), INCIDENTS_NOTE_KEY)
                return
            self.warnings.append(PlanWarning(line, "incident_as_text", text.split("\n")[0], exc.key))
            fact = IncidentFact(number=n, started_at=start, what=text[m.end():], source="import")
        self.incidents.append(fact)
        self.mapped.append(Mapped(f"incident:{n}", f"#{n} {fact.started_at:%m/%d %H:%M}", line))

    def editor(self, key: str, block: Block | None) -> None:
        if block is not None:
            self.entry(self.team.item_by_key[f"editor:{key}"], block.text, block.line)


def _split(text: str) -> tuple[str, str]:
    m = re.search(r"[：:]", text)
    if not m:
        return "", text
    value = text[m.end():]
    return text[:m.start()].strip(), value[1:] if value.startswith(" ") and m.group(0) == ":" else value


def _indent(text: str, width: int) -> str:
    return "\n".join(" " * width + ln if ln.strip() else "" for ln in text.split("\n"))


def _parts_text(parsed: ParsedProject) -> Block | None:
    if parsed.raw is None:
        return None
    body = parsed.raw.text.split("\n", 1)
    return Block(body[1].strip("\n"), parsed.raw.line + 1) if len(body) > 1 else None


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None


def _recovered(m: re.Match[str], start: datetime) -> datetime | None:
    """The recovery moment a `_RECOVERED_TAIL` match states: on the start's day, or the date given."""
    month, day, hour, minute = m.groups()
    try:
        moment = start.replace(hour=int(hour or 0), minute=int(minute or 0))
        if month is not None:
            moment = moment.replace(month=int(month), day=int(day or 1))
            if moment < start:
                moment = moment.replace(year=moment.year + 1)
    except ValueError:
        return None
    return moment if moment >= start else None


def _start(m: re.Match[str], week: IsoWeek, zone: tzinfo) -> datetime | None:
    """The start an incident line states, in the report's week's year (or the neighbouring one at new year)."""
    month, day, hour, minute = (int(m.group(i)) for i in range(2, 6))
    year = week.day(4).year
    if month == 12 and week.week == 1:
        year -= 1
    elif month == 1 and week.week >= 52:
        year += 1
    try:
        return datetime(year, month, day, hour, minute, tzinfo=zone)
    except ValueError:
        return None


def plan_import(parsed: ParsedReport, team: Team, week: IsoWeek, *, unanswered: frozenset[str],
                away_words: frozenset[str]) -> ImportPlan:
    """What importing `parsed` as `week` would store, attributed to the team file's owners.

    `unanswered` are the words a report shows for an item nobody answered (未更新, 休假 …); such items
    are not stored. Text matching no item is kept as the nearest section's note and listed in `unmapped`.
    """
    plan = _Plan(team, week, unanswered, away_words)
    # The team-file note key of each note-capable section of the file, in file order (None: no match).
    section_keys: list[str | None] = []
    for kind, index in parsed.sections:
        if kind == "project":
            pp = parsed.projects[index]
            pr = next((p for p in team.projects if _same(p.name, pp.name)), None)
            section_keys.append(project_note_key(pr.name) if pr else None)
            if pr is not None:
                plan.project(pp, pr)
            else:
                plan.lost(pp.raw, None)
        elif kind == "okr":
            pg = parsed.okr_groups[index]
            g = next((g for g in team.okrs if _same(g.id, pg.id)), None) or next(
                (g for g in team.okrs if _same(g.name, pg.name)), None)
            section_keys.append(okr_note_key(g.id) if g else None)
            if g is not None:
                plan.okr(pg.items, pg.note, g)
            else:
                plan.lost(pg.raw, None)
        elif kind == "metrics":
            pm = parsed.metric_groups[index]
            mg = next((m for m in team.metrics if _same(m.name, pm.name)), None)
            section_keys.append(metrics_note_key(mg.name) if mg else None)
            if mg is not None:
                plan.metric_group(pm, mg)
            else:
                plan.lost(pm.raw, None)
        else:
            section_keys.append(INCIDENTS_NOTE_KEY)
            for n, inc in enumerate(parsed.incidents, start=1):
                plan.incident(inc.text, inc.line, n)
            plan.note(INCIDENTS_NOTE_KEY, parsed.incidents_note)
    for key, block in (("other", parsed.other), ("reflection", parsed.reflection), ("next_week", parsed.next_week)):
        if key in EDITOR_SECTIONS:
            plan.editor(key, block)

    # Unplaced text: the note of the section it sits in or follows, else the next one, else 生产事件.
    placed: list[tuple[Block, str]] = []
    pending = [(b, k, _position(parsed, b.line)) for b, k in plan.unmapped]
    pending += [(s.block, None, s.after) for s in parsed.strays]
    for block, given, after in pending:
        placed.append((block, given or _nearest(section_keys, after)))
    unmapped = []
    for block, note_key in sorted(placed, key=lambda p: p[0].line):
        plan.notes.setdefault(note_key, []).append(block)
        unmapped.append(Unmapped(block.line, block.text.split("\n")[0], note_key, plan.note_title(note_key)))
    for key, blocks in plan.notes.items():
        text = "\n\n".join(b.text for b in sorted(blocks, key=lambda b: b.line))
        item = next(it for it in team.section_notes if it.key == key)
        plan.entries[key] = EntryFact(key, text, author=item.owner)

    created = parsed.created.replace(tzinfo=team.zone) if parsed.created else None
    incidents = tuple(plan.incidents)
    facts = WeekFacts(week=week.label, entries=plan.entries, banks=plan.banks, metrics=plan.metrics,
                      incidents=incidents)
    return ImportPlan(week.label, created, facts, tuple(sorted(plan.mapped, key=lambda m: m.line)),
                      tuple(unmapped), tuple(plan.warnings))


def _position(parsed: ParsedReport, line: int) -> int:
    """The index in `parsed.sections` of the section holding `line`."""
    starts = []
    for kind, index in parsed.sections:
        if kind == "project":
            starts.append(parsed.projects[index].line)
        elif kind == "okr":
            starts.append(parsed.okr_groups[index].line)
        elif kind == "metrics":
            starts.append(parsed.metric_groups[index].line)
        else:
            starts.append(parsed.incidents_line)
    return max((i for i, s in enumerate(starts) if s <= line), default=-1)


def _nearest(keys: list[str | None], after: int) -> str:
    for i in range(min(after, len(keys) - 1), -1, -1):
        if keys[i] is not None:
            return keys[i]  # type: ignore[return-value]
    for k in keys[max(after, 0):]:
        if k is not None:
            return k
    return INCIDENTS_NOTE_KEY

