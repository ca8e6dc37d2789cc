"""The week's key points (本周要点): what a model is shown, what it is asked for, and how its answer is read.

Pure code. The model sees the week's compiled facts as a numbered sheet of sources (`FactSheet`), each with
an id (`P1.2`, `O1.3`, `I12`, `S.next`…); it answers with lines that cite those ids. Whether a line may be
shown is decided by `bot/domain/digest_check.py`, never by the model.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bot.domain import report as r
from bot.domain.team import EDITOR_SECTIONS, INCIDENTS_SECTION, Team

# Section ids of the editor's parts; "last_next" is last week's 下周工作及目标 (plan against actual).
SECTION_IDS = {"other": "S.other", "reflection": "S.reflection", "next_week": "S.next"}
LAST_WEEK_PLAN = "S.last_next"
_PLAN_TITLE = {"zh-CN": "上周的下周工作及目标", "en": "Last week's plan for this week"}
_LANGUAGE = {"zh-CN": "Simplified Chinese (zh-CN)", "en": "English"}
PSEUDONYM = re.compile(r"\bperson-(\d+)\b")


@dataclass(frozen=True)
class Source:
    """One thing the model may cite: an answered item, bank line, metric, incident or editor section."""

    id: str
    title: str  # where it sits in the report: "聚合收单 · 业务 · 建行"
    owner: str | None  # who said it (display name), None for figures the bot computes
    text: str
    details: tuple[tuple[str, str], ...] = ()  # ("progress", "45%"), ("stage", "联调"), …

    def fact_text(self) -> str:
        """Everything a line citing this source may take its numbers, dates and names from."""
        parts = [self.title, self.owner or "", self.text, *(v for _, v in self.details)]
        return "\n".join(p for p in parts if p)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "title": self.title}
        if self.owner:
            out["owner"] = self.owner
        out["text"] = self.text
        out.update(dict(self.details))
        return out


@dataclass(frozen=True)
class FactSheet:
    """The week's facts as the model sees them, and as the check reads them."""

    week: str
    locale: str
    sources: tuple[Source, ...]
    names: tuple[str, ...] = ()  # people and banks: a line naming one must cite a source that names it

    def by_id(self) -> dict[str, Source]:
        return {s.id: s for s in self.sources}

    def digest_hash(self) -> str:
        """A hash of exactly what the model is given, stored beside the digest so it can be explained later."""
        blob = json.dumps([s.as_json() for s in self.sources], ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def section(self, prefix: str) -> FactSheet:
        """Only the sources whose id starts with `prefix` (one chunk of a sheet too big for one request)."""
        return FactSheet(self.week, self.locale, tuple(s for s in self.sources if s.id.startswith(prefix)),
                         self.names)


@dataclass(frozen=True)
class KeyLine:
    """One line of the digest: its words and the ids of the sources it comes from."""

    text: str
    cites: tuple[str, ...]


@dataclass(frozen=True)
class Dropped:
    """A line the check refused, and why: `reason` is one of `DROP_REASONS`, `detail` the values at fault
    (ids, numbers, months, names) as written, so the text layer can say it in the team's locale."""

    text: str
    cites: tuple[str, ...]
    reason: str
    detail: str = ""


# empty: no words; too_long: past MAX_LINE_CHARS; no_cite: cites nothing; unknown_id: cites an id not in the week; number / month / name: a
# value not in the cited sources' facts; over_limit: past the digest's line limit; repeat: said already.
DROP_REASONS = ("empty", "too_long", "no_cite", "unknown_id", "number", "month", "name", "over_limit", "repeat")


class AnswerError(ValueError):
    """The model's answer is not the JSON asked for."""


def _pct(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f") + "%"


def _entry_source(sid: str, title: str, entry: r.Entry, *, owner: str | None = None) -> Source | None:
    if not entry.answered or not entry.text.strip():
        return None
    details: list[tuple[str, str]] = []
    if (p := _pct(entry.progress)) is not None:
        details.append(("progress", p))
    if (p := _pct(entry.previous_progress)) is not None:
        details.append(("last_week_progress", p))
    if entry.main_problem:
        details.append(("main_problem", entry.main_problem))
    return Source(sid, title, entry.author or owner, entry.text, tuple(details))


def fact_sheet(team: Team, report: r.Report, last_plan: r.Entry | None = None) -> FactSheet:
    """The sources of `report` that have something to say (unanswered items are left out), in report order,
    with last week's 下周工作及目标 (`last_plan`) as `S.last_next` so a line can set plan against actual."""
    locale = report.locale
    names = {p.id: p.name for p in team.people}
    sep = " · "
    out: list[Source] = []

    def add(source: Source | None) -> None:
        if source is not None:
            out.append(source)

    for i, (pr, tp) in enumerate(zip(report.projects, team.projects, strict=True), start=1):
        if pr.prose is not None:
            add(_entry_source(f"P{i}", pr.name, pr.prose, owner=names.get(tp.owner or "")))
        for j, (part, tpart) in enumerate(zip(pr.parts, tp.parts, strict=True), start=1):
            title = f"{pr.name}{sep}{part.name}"
            add(_entry_source(f"P{i}.{j}", title, part.entry, owner=names.get(tpart.owner)))
            for k, (bank, tbank) in enumerate(zip(part.banks, tpart.banks, strict=True), start=1):
                if bank.status is not r.Status.ANSWERED:
                    continue
                details = tuple((key, v) for key, v in (("stage", bank.stage), ("last_week_stage", bank.previous_stage))
                                if v)
                out.append(Source(f"P{i}.{j}.{k}", f"{title}{sep}{bank.name}",
                                  names.get(tbank.owner or tpart.owner), bank.note, details))
        if pr.note:
            out.append(Source(f"P{i}.note", pr.name, None, pr.note))
    for group in report.okr_groups:
        for n, item in enumerate(group.items, start=1):
            add(_entry_source(f"{group.id}.{n}", f"{group.id} {group.name}{sep}{item.name}", item.entry))
        if group.note:
            out.append(Source(f"{group.id}.note", f"{group.id} {group.name}", None, group.note))
    for g, (mg, tmg) in enumerate(zip(report.metric_groups, team.metrics, strict=True), start=1):
        for n, (metric, tm) in enumerate(zip(mg.metrics, tmg.metrics, strict=True), start=1):
            if metric.status is r.Status.ANSWERED and metric.value:
                out.append(Source(f"M{g}.{n}", f"{mg.name}{sep}{metric.name}",
                                  names.get(tm.owner) if tm.source != "availability" else None, metric.value))
        if mg.incident_counts:
            counts = "; ".join(f"{'/'.join(c.severities)}: {c.count_text}" for c in mg.incident_counts)
            out.append(Source(f"M{g}.c", mg.name, None, counts))
        if mg.note:
            out.append(Source(f"M{g}.note", mg.name, None, mg.note))
    for inc in report.incidents:
        happened = [("started", f"{inc.started_at:%Y-%m-%d %H:%M}")]
        if inc.recovered_at is not None:
            happened.append(("recovered", f"{inc.recovered_at:%Y-%m-%d %H:%M}"))
        happened += [(k, v) for k, v in (("severity", inc.severity), ("cause", inc.cause), ("impact", inc.impact))
                     if v]
        if inc.weight != 1:  # a shared-responsibility incident counts 0.5
            happened.append(("weight", format(inc.weight.normalize(), "f")))
        out.append(Source(f"I{inc.number}", f"{INCIDENTS_SECTION[locale]} #{inc.number}", None, inc.headline,
                          tuple(happened)))
    if report.incidents_note:
        out.append(Source("I.note", INCIDENTS_SECTION[locale], None, report.incidents_note))
    for key, sid in SECTION_IDS.items():
        add(_entry_source(sid, EDITOR_SECTIONS[key][locale], getattr(report, key)))
    if last_plan is not None:
        add(_entry_source(LAST_WEEK_PLAN, _PLAN_TITLE[locale], last_plan))
    banks = {b.name for p in team.projects for part in p.parts for b in part.banks}
    return FactSheet(report.week, locale, tuple(out), tuple(sorted({p.name for p in team.people} | banks)))


# ----- pseudonyms ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pseudonyms:
    """People's names as stable pseudonyms (`person-17`, from their row id) in what is sent, and back."""

    by_name: Mapping[str, str] = field(default_factory=dict)

    def hide(self, text: str) -> str:
        for name in sorted(self.by_name, key=len, reverse=True):  # 张伟明 before 张伟
            text = text.replace(name, self.by_name[name])
        return text

    def reveal(self, text: str) -> str:
        back = {v: k for k, v in self.by_name.items()}
        return PSEUDONYM.sub(lambda m: back.get(m.group(0), m.group(0)), text)

    def sheet(self, sheet: FactSheet) -> FactSheet:
        """`sheet` as it is sent: every name in titles, owners and texts replaced."""
        if not self.by_name:
            return sheet
        hidden = tuple(Source(s.id, self.hide(s.title), self.hide(s.owner) if s.owner else None, self.hide(s.text),
                              tuple((k, self.hide(v)) for k, v in s.details)) for s in sheet.sources)
        return FactSheet(sheet.week, sheet.locale, hidden, sheet.names)


# ----- the request and the answer --------------------------------------------------------------------

INSTRUCTIONS = """\
You write the key points of a team's weekly report, for readers who want the point first.
You are given the week's facts as JSON sources, each with an id. Use nothing else.
Pick at most {max_lines} points, most important first: items that went live, big progress changes, banks that \
changed stage, risks and blockers, incidents that matter, and this week's results against last week's plan \
(source {plan}).
Rules:
- Every point cites the ids of the sources it comes from, and only those.
- Copy every number, percentage, date and name exactly from the cited sources; never compute, round or guess one.
- One short sentence per point, in {language}. Do not put ids, owners or titles in the text.
Answer with JSON only, in this shape: {{"lines": [{{"text": "...", "cites": ["P1.2"]}}]}}"""


def request_messages(sheet: FactSheet, max_lines: int, language_locale: str | None = None) -> list[dict[str, str]]:
    """The chat messages sent for `sheet` (already pseudonymised when the team asks for it)."""
    locale = language_locale or sheet.locale
    system = INSTRUCTIONS.format(max_lines=max_lines, plan=LAST_WEEK_PLAN, language=_LANGUAGE[locale])
    facts = {"week": sheet.week, "sources": [s.as_json() for s in sheet.sources]}
    return [{"role": "system", "content": system},
            {"role": "user", "content": json.dumps(facts, ensure_ascii=False, separators=(",", ":"))}]


_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(?P<body>.*)\n\s*```\s*$", re.DOTALL)


def parse_answer(content: str | None) -> list[KeyLine]:
    """The lines of the model's answer; AnswerError when it is not `{"lines": [{"text", "cites"}]}`.

    A fenced ```json block is read as its body (some local models fence even when asked for JSON only)."""
    if not content or not content.strip():
        raise AnswerError("the answer is empty")
    fenced = _FENCE.match(content)
    try:
        data = json.loads(fenced.group("body") if fenced else content)
    except json.JSONDecodeError as exc:
        raise AnswerError(f"the answer is not JSON ({exc.msg} at character {exc.pos})") from None
    lines = data.get("lines") if isinstance(data, dict) else None
    if not isinstance(lines, list):
        raise AnswerError('the answer has no "lines" list')
    out = []
    for line in lines:
        if not isinstance(line, dict) or not isinstance(line.get("text"), str):
            raise AnswerError('a line is not {"text": …, "cites": […]}')
        cites = line.get("cites", [])
        if isinstance(cites, str):
            cites = [cites]
        if not isinstance(cites, list) or not all(isinstance(c, str) for c in cites):
            raise AnswerError('a line\'s "cites" is not a list of ids')
        out.append(KeyLine(" ".join(line["text"].split()), tuple(c.strip() for c in cites)))
    return out


def key_points(lines: Iterable[KeyLine], sheet: FactSheet) -> tuple[r.KeyPoint, ...]:
    """The digest's lines as the report shows them: each with who said it and where it comes from."""
    sources = sheet.by_id()
    out = []
    for line in lines:
        cited = [sources[c] for c in line.cites if c in sources]
        origins = tuple(dict.fromkeys(
            " · ".join(x for x in (s.owner, s.title) if x) for s in cited))
        out.append(r.KeyPoint(line.text, origins))
    return tuple(out)


# ----- weeks too big for one request -----------------------------------------------------------------


def estimate_tokens(messages: list[dict[str, str]]) -> int:
    """A deliberately high estimate of a request's tokens: one per three UTF-8 bytes (a Chinese character is
    three bytes and about one token in Qwen's and DeepSeek's tokenizers; English runs about four characters a
    token), plus a few per message."""
    return sum(len(m["content"].encode("utf-8")) // 3 + 8 for m in messages)


def _section_of(source_id: str) -> str:
    """The report section a source belongs to: `P1` for P1.2.3, `O1` for O1.4, `M` for metrics, `I`, `S`."""
    head = source_id.split(".", 1)[0]
    return head if head[:1] in "PO" else head[:1]


def chunks(sheet: FactSheet, max_lines: int, budget_tokens: int) -> list[FactSheet]:
    """`sheet` as one request when it fits `budget_tokens`; else whole report sections (a project, an OKR
    group, the metrics, the incidents, the editor's sections) packed in order into as few requests as fit,
    and a section too big for one request alone in runs of sources that fit. Each chunk's lines cite only
    its own sources, so the check needs no change."""
    if estimate_tokens(request_messages(sheet, max_lines)) <= budget_tokens:
        return [sheet]
    base = estimate_tokens(request_messages(FactSheet(sheet.week, sheet.locale, ()), max_lines))
    sections: dict[str, list[tuple[Source, int]]] = {}
    for s in sheet.sources:
        # Its share of the request: its compact JSON and a comma (one token over, against rounding).
        cost = (len(json.dumps(s.as_json(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")) + 1) // 3 + 1
        sections.setdefault(_section_of(s.id), []).append((s, cost))
    out: list[FactSheet] = []
    run: list[Source] = []
    used = base

    def flush() -> None:
        nonlocal run, used
        if run:
            out.append(FactSheet(sheet.week, sheet.locale, tuple(run), sheet.names))
        run, used = [], base

    for members in sections.values():
        size = sum(cost for _, cost in members)
        if used + size > budget_tokens:
            flush()  # a section starts a new request rather than being split across two
        for s, cost in members:
            if run and used + cost > budget_tokens:
                flush()  # only a section too big for one request on its own gets here
            run.append(s)
            used += cost
    flush()
    return out
