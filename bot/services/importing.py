"""Importing past weekly reports: each item's text stored as its owner's answer for that week.

An imported answer is an answer message like one typed in chat, with platform `import` and the file
name in its source id, so history shows where it came from; the current values are set from it, and
incidents are stored with source `import`. Importing the same file again changes nothing; a week
that holds answers collected in chat is left alone unless the caller asks to replace it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.domain.fact_checks import week_problems
from bot.domain.facts import IncidentFact, WeekFacts
from bot.domain.facts_json import FORMAT, FactsJsonError, week_from_json
from bot.domain.house_markdown import parse_report, split_reports
from bot.domain.import_plan import ImportPlan, Mapped, PlanWarning, plan_import
from bot.domain.parsed_report import Vocabulary
from bot.domain.weeks import IsoWeek, WeekLabelError
from bot.services.context import Context
from bot.services.week_report import WeekReport
from bot.text import i18n
from storage.answers import Answers, NewMessage
from storage.db import one_transaction, transaction
from storage.directory import Directory
from storage.incidents import Incidents, NewIncident
from storage.models import AnswerMessageRow, IncidentRow
from storage.reports import Reports

PLATFORM = "import"
_WEEK_IN_NAME = re.compile(r"(\d{4})-?W(\d{1,2})", re.IGNORECASE)
# The largest file read: years of a team's reports are a few MB; 64 MiB leaves room for exports with long
# answers while a file read whole (a str of up to ~4 bytes a character) stays within a few hundred MB.
MAX_FILE_BYTES = 64 * 1024 * 1024
# An export nests 4 deep ({"weeks": [{"entries": [{…}]}]}); the standard library's parser recurses once per
# level and raises RecursionError near 1,000, so the depth is checked before it parses.
MAX_JSON_DEPTH = 32
# A JSON string (escapes included), or one bracket: what decides the nesting depth.
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


class ImportRefused(Exception):
    """The file cannot be imported as it stands; str() says why and what to do."""


@dataclass(frozen=True)
class Stored:
    week: str
    changes: int  # rows added, changed or retired; 0 when the week already held exactly this
    replaced_chat: bool = False


def vocabulary() -> Vocabulary:
    """The report's own words in every locale, for reading reports written in any of them."""
    every = [i18n.labels(loc) for loc in i18n.LOCALES]
    return Vocabulary(
        created=frozenset(lb.created for lb in every) | {"创建时间", "发布时间"},
        metrics=frozenset(lb.metrics for lb in every), incidents=frozenset(lb.incidents for lb in every),
        other=frozenset(lb.other for lb in every), reflection=frozenset(lb.reflection for lb in every),
        next_week=frozenset(lb.next_week for lb in every), none=frozenset(lb.none for lb in every))


def json_depth_over(source: str, limit: int) -> bool:
    """Whether `source` nests arrays and objects more than `limit` deep (brackets inside strings aside)."""
    depth = 0
    for m in _JSON_TOKEN.finditer(source):
        token = m.group()
        if token in ("[", "{"):
            depth += 1
            if depth > limit:
                return True
        elif token in ("]", "}"):
            depth -= 1
    return False


@dataclass(frozen=True)
class ImportFile:
    """One file read within the bounds, as its units not yet read as weeks: the reports of a Markdown file
    (first line, text) or the exported weeks of a JSON file. Each unit is read into a plan when needed, so a
    large file is never held as plans all at once."""

    name: str
    units: list[Any]
    is_json: bool


def week_from_name(name: str) -> IsoWeek | None:
    m = _WEEK_IN_NAME.search(name)
    if not m:
        return None
    try:
        return IsoWeek.parse(f"{m.group(1)}-W{m.group(2)}")
    except WeekLabelError:
        return None


def _ref(name: str, week: str, key: str) -> str:
    """A stable source id for (file, week, item), within the 128 characters the column holds."""
    digest = hashlib.blake2b(f"{week}\0{key}".encode(), digest_size=8).hexdigest()
    return f"{name[-100:]}#{digest}"


class Importer:
    def __init__(self, ctx: Context, week_report: WeekReport) -> None:
        self.ctx = ctx
        self.week_report = week_report

    # ----- reading -------------------------------------------------------------------------

    def read(self, path: Path) -> ImportFile:
        """The file at `path`, Markdown or (by its `.json` suffix) an export; ImportRefused naming the file when
        it cannot be read, is empty, is larger than MAX_FILE_BYTES or nests deeper than MAX_JSON_DEPTH."""
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                raise ImportRefused(f"{path}: {size:,} bytes, larger than the {MAX_FILE_BYTES // 2**20} MiB an "
                                    "import file may be; split it (an export by --from/--to)")
            source = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise ImportRefused(f"{path}: cannot read it: {exc}") from None
        if not source.strip():
            raise ImportRefused(f"{path}: the file is empty")
        if path.suffix.lower() == ".json":
            return self.json_file(path.name, source)
        return ImportFile(path.name, split_reports(source), is_json=False)

    def json_file(self, name: str, source: str) -> ImportFile:
        """An export's weeks, its depth checked before it is parsed; ImportRefused when it is no export."""
        if json_depth_over(source, MAX_JSON_DEPTH):
            raise ImportRefused(f"{name}: JSON nested deeper than {MAX_JSON_DEPTH} levels; an export nests 4")
        try:
            data = json.loads(source)
        except json.JSONDecodeError as exc:
            raise ImportRefused(f"{name}:{exc.lineno}: not valid JSON: {exc.msg}") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("weeks"), list):
            raise ImportRefused(f"{name}: not a `zhoubao export --format json` file (format {FORMAT})")
        return ImportFile(name, data["weeks"], is_json=True)

    def checked(self, file: ImportFile, week: IsoWeek | None = None) -> list[tuple[IsoWeek, int]]:
        """The file's (week, unit index) in week order (older weeks first: last week's progress is known), after every
        week was read and checked (`fact_checks.week_problems`); ImportRefused listing every problem."""
        window = self.ctx.week_window()
        weeks: list[tuple[IsoWeek, int]] = []
        problems: list[str] = []
        for index in range(len(file.units)):
            plan = self.plan(file, index, week)  # one week held at a time
            problems += [str(p) for p in week_problems(plan.facts, self.ctx.team, window)]
            weeks.append((IsoWeek.parse(plan.week), index))
        if problems:
            raise ImportRefused(f"{file.name}: " + "; ".join(problems))
        return sorted(weeks)

    def plans(self, file: ImportFile, week: IsoWeek | None = None) -> Iterator[ImportPlan]:
        """The file's weeks as plans, checked, in week order, one at a time."""
        for _, index in self.checked(file, week):
            yield self.plan(file, index, week)

    def plan(self, file: ImportFile, index: int, week: IsoWeek | None = None) -> ImportPlan:
        """What importing the file's `index`-th unit would store (not checked); ImportRefused when it names no
        week, or a week that is no week."""
        if file.is_json:
            return self._json_plan(file.name, file.units[index])
        first_line, text = file.units[index]
        return self._markdown_plan(file.name, first_line, text, week)

    def plan_markdown(self, name: str, source: str, week: IsoWeek | None = None) -> list[ImportPlan]:
        """What importing a Markdown file would store, one plan per report in it (an export may hold
        many). A report's week comes from its title, else the file name, else `week`; ImportRefused
        when none says which week it is."""
        return list(self.plans(ImportFile(name, split_reports(source), is_json=False), week))

    def _markdown_plan(self, name: str, first_line: int, text: str, week: IsoWeek | None) -> ImportPlan:
        every = [i18n.labels(loc) for loc in i18n.LOCALES]
        away = frozenset(lb.away for lb in every)
        unanswered = frozenset(lb.not_updated for lb in every) | away
        parsed = parse_report(text, vocabulary(), first_line)
        iso: IsoWeek | None = None
        if parsed.week:
            try:
                iso = IsoWeek.parse(parsed.week)
            except WeekLabelError as exc:
                raise ImportRefused(f"{name}:{first_line}: the title's week is not a week: {exc}") from None
        iso = iso or week_from_name(name) or week
        if iso is None:
            raise ImportRefused(f"{name}: no `# YYYY-Www` title and no week in the file name; pass --week")
        return plan_import(parsed, self.ctx.team, iso, unanswered=unanswered, away_words=away)

    def plan_json(self, name: str, source: str) -> list[ImportPlan]:
        """The weeks of a `zhoubao export --format json` document, each as a plan to store."""
        return list(self.plans(self.json_file(name, source)))

    def _json_plan(self, name: str, raw: Any) -> ImportPlan:
        try:
            facts, created = week_from_json(raw)
            IsoWeek.parse(facts.week)
        except (FactsJsonError, WeekLabelError) as exc:
            raise ImportRefused(f"{name}: {exc}") from None
        titles = {it.key: it.title for it in (*self.ctx.team.items, *self.ctx.team.section_notes)}
        keys = [*facts.entries, *facts.banks, *facts.metrics]
        mapped = [Mapped(k, titles.get(k, k), 0) for k in keys]
        mapped += [Mapped(f"incident:{n}", f"#{n} {i.started_at:%m/%d %H:%M}", 0)
                   for n, i in enumerate(facts.incidents, start=1)]
        unknown = [PlanWarning(0, "unknown_item", k) for k in keys if k not in titles and not k.startswith("figure:")]
        return ImportPlan(facts.week, created, facts, tuple(mapped), (), tuple(unknown))

    def chat_answers(self, week: IsoWeek) -> int:
        """How many answers and incidents collected in chat the week holds."""
        with transaction(self.ctx.db) as s:
            row = Directory(s).week(self.ctx.team_id, week.label)
            if row is None:
                return 0
            return len(self._chat_messages(Answers(s), row.id)) + len(self._chat_incidents(Incidents(s), row.id))

    # ----- storing -------------------------------------------------------------------------

    def store_file(self, file: ImportFile, week: IsoWeek | None = None, *, replace_chat: bool = False,
                   each: Callable[[ImportPlan, Stored], None] | None = None) -> int:
        """Store every week of `file` in one transaction: all of them, or (ImportRefused, or any error) none;
        returns how many weeks. The whole file is read and checked first, then read again week by week as it
        is written, `each` told of every week stored (the plans are not kept)."""
        order = self.checked(file, week)
        with one_transaction(self.ctx.db) as db:
            ctx = replace(self.ctx, db=db)
            joined = Importer(ctx, WeekReport(ctx))
            for _, index in order:
                plan = joined.plan(file, index, week)
                stored = joined.store(plan, file.name, replace=replace_chat)
                if each is not None:
                    each(plan, stored)
        return len(order)

    def store(self, plan: ImportPlan, name: str, *, replace: bool = False) -> Stored:
        """Store `plan` as the answers of its week, attributed to the owners, with source `import`."""
        week = IsoWeek.parse(plan.week)
        created = plan.created_at or self.week_report.deadline(week)
        now = self.ctx.now()
        changes = 0
        with transaction(self.ctx.db) as s:
            answers, incidents = Answers(s), Incidents(s)
            week_id = Directory(s).ensure_week(self.ctx.team_id, week.label).id
            chat, chat_incidents = self._chat_messages(answers, week_id), self._chat_incidents(incidents, week_id)
            if (chat or chat_incidents) and not replace:
                raise ImportRefused(
                    f"{name}: {week.label} already holds {len(chat)} answer(s) and {len(chat_incidents)} "
                    "incident(s) collected in chat; nothing imported. Use --replace to replace that week.")
            if replace:
                changes += self._retire_chat(answers, incidents, week_id, chat, chat_incidents, now)
            changes += self._answers(answers, week_id, plan, name, created, now)
            changes += self._incidents(incidents, week_id, plan.facts.incidents, name, week.label, now)
        changes += self._report(week, created, now)
        return Stored(week.label, changes, replaced_chat=bool(replace and (chat or chat_incidents)))

    def _chat_messages(self, answers: Answers, week_id: int) -> list[AnswerMessageRow]:
        return [m for m in answers.messages_of_week(self.ctx.team_id, week_id)
                if m.platform != PLATFORM and m.deleted_at is None]

    def _chat_incidents(self, incidents: Incidents, week_id: int) -> list[IncidentRow]:
        return [i for i in incidents.of_week(self.ctx.team_id, week_id) if i.source != PLATFORM]

    def _retire_chat(self, answers: Answers, incidents: Incidents, week_id: int, chat: list[AnswerMessageRow],
                     chat_incidents: list[IncidentRow], now: datetime) -> int:
        """--replace: what chat said that week stops counting (the messages stay in history)."""
        for m in chat:
            answers.supersede_message(m.id, now)
        for i in chat_incidents:
            incidents.withdraw(i, now)
        answers.clear_week(self.ctx.team_id, week_id)
        return len(chat) + len(chat_incidents)

    def _answers(self, answers: Answers, week_id: int, plan: ImportPlan, name: str, created: datetime,
                 now: datetime) -> int:
        facts = plan.facts
        pids = self.ctx.person_ids
        wanted: dict[str, tuple[str, str | None]] = {}  # source id -> (item key, author)
        texts: dict[str, str] = {}
        for key, e in facts.entries.items():
            texts[key], wanted[_ref(name, plan.week, key)] = e.text, (key, e.author)
        for key, b in facts.banks.items():
            texts[key], wanted[_ref(name, plan.week, key)] = b.note, (key, b.author)
        for key, m in facts.metrics.items():
            texts[key], wanted[_ref(name, plan.week, key)] = m.value_text, (key, m.author)
        changes = 0
        # Every earlier import of this week is matched against this file: the last import of a week wins.
        mine = {m.source_id: m for m in answers.messages_of_week(self.ctx.team_id, week_id)
                if m.platform == PLATFORM}
        for source_id, (key, author) in wanted.items():
            text = texts[key]
            row = mine.pop(source_id, None)
            author_id = pids.get(author or "")
            if row is None:
                row = answers.add_message(NewMessage(
                    team_id=self.ctx.team_id, week_id=week_id, person_id=author_id or pids[self.ctx.team.editors[0]],
                    platform=PLATFORM, source_id=source_id, text=text, at=created, via=PLATFORM, target_item=key))
                answers.replace_contributions(row, [(key, text)])
                changes += 1
            elif row.text != text or row.deleted_at is not None:
                answers.restore_message(row, text, now)
                answers.replace_contributions(row, [(key, text)])
                changes += 1
            changes += self._current(answers, week_id, key, facts, author_id, now)
        for row in mine.values():  # items this file does not state (an earlier version, another file)
            if row.deleted_at is None:
                answers.delete_message(row, now)
                key = row.target_item or ""
                changes += 1 + self._current(answers, week_id, key, facts, None, now)
        return changes

    def _current(self, answers: Answers, week_id: int, key: str, facts: WeekFacts, author_id: int | None,
                 now: datetime) -> int:
        """Set the item's current value to the imported one; 1 if that changed anything."""
        tid = self.ctx.team_id
        if key in facts.entries:
            e = facts.entries[key]
            new: tuple[object, ...] | None = (e.text, e.progress, e.main_problem, author_id)
            row = answers.entry(tid, week_id, key)
            old = (row.text, row.progress, row.main_problem, row.author_id) if row else None
            if _differs(old, new):
                answers.set_entry(tid, week_id, key, e.text, progress=e.progress, main_problem=e.main_problem,
                                  author_id=author_id, at=now)
                return 1
            return 0
        if key in facts.banks:
            b = facts.banks[key]
            brow = answers.bank(tid, week_id, key)
            if _differs((brow.note, brow.stage, brow.author_id) if brow else None, (b.note, b.stage, author_id)):
                answers.set_bank(tid, week_id, key, b.note, stage=b.stage, author_id=author_id, at=now)
                return 1
            return 0
        if key in facts.metrics:
            m = facts.metrics[key]
            mrow = answers.metric(tid, week_id, key)
            if _differs((mrow.value_text, mrow.value, mrow.author_id) if mrow else None,
                        (m.value_text, m.value, author_id)):
                # Stored as stated: a figure stated in words ("暂无") is kept with no numeric value.
                answers.set_metric(tid, week_id, key, (m.value_text, m.value), author_id=author_id, at=now)
                return 1
            return 0
        # no longer stated: remove whatever the import had set
        return 1 if answers.clear_item(tid, week_id, key) else 0

    def _incidents(self, repo: Incidents, week_id: int, incidents: tuple[IncidentFact, ...], name: str, week: str,
                   now: datetime) -> int:
        changes = 0
        prefix = f"{name[-100:]}#{week}#"
        for n, i in enumerate(incidents, start=1):
            ref = f"{prefix}{n}"
            row = repo.by_source(self.ctx.team_id, PLATFORM, ref)
            reporter = self.ctx.person_ids.get(i.reporter or "")
            if row is None:
                repo.add(NewIncident(
                    team_id=self.ctx.team_id, week_id=week_id, reporter_id=reporter, source=PLATFORM, source_ref=ref,
                    at=now, started_at=i.started_at, recovered_at=i.recovered_at, system=i.system, what=i.what,
                    cause=i.cause, impact=i.impact, severity=i.severity, weight=i.weight,
                    counts_toward_availability=i.counts_toward_availability, cause_class=i.cause_class,
                    cause_bank=i.cause_bank))
                changes += 1
                continue
            fields = {"started_at": i.started_at, "recovered_at": i.recovered_at, "system": i.system, "what": i.what,
                      "cause": i.cause, "impact": i.impact, "severity": i.severity, "weight": i.weight,
                      "counts_toward_availability": i.counts_toward_availability,
                      "cause_class": i.cause_class, "cause_bank": i.cause_bank}
            if row.deleted_at is not None or row.week_id != week_id or any(
                    _differs(getattr(row, k), v) for k, v in fields.items()):
                repo.update(row, fields, now, week_id=week_id)
                changes += 1
        for row in repo.of_week(self.ctx.team_id, week_id, source=PLATFORM):
            ref = row.source_ref or ""
            number = ref.rsplit("#", 1)[-1]
            if not ref.startswith(prefix) or not number.isdigit() or int(number) > len(incidents):
                repo.withdraw(row, now)
                changes += 1
        return changes

    def _report(self, week: IsoWeek, created: datetime, now: datetime) -> int:
        """Mark the week's report published at the file's `Created` time. No rendering is kept: what it would
        hold is the compile of the answers just stored, which every reader makes when a published week has no
        stored rendering (`Exporter.report`). Kept, the three renderings tripled what a large file stores
        (issue 20 item 12: 50 MB of reports grew the database by 420 MB, 150 MB of it these copies)."""
        with transaction(self.ctx.db) as s:
            week_id = Directory(s).ensure_week(self.ctx.team_id, week.label).id
            reports = Reports(s)
            row = reports.get(self.ctx.team_id, week_id)
            if row is not None and row.published_at == created and not (row.markdown or row.slack or row.feishu):
                return 0
            row = reports.save(self.ctx.team_id, week_id, markdown="", slack="", feishu="", at=created)
            reports.set_published(row, created)
        return 1


def _differs(old: object, new: object) -> bool:
    """Whether a stored value differs from the imported one (datetimes compared as instants)."""
    return bool(old != new)
