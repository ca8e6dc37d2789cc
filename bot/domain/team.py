"""The team file as typed models, and the flat list of report items it defines.

The YAML loading (with file/line/key in errors) lives in `team_file.py`; this
module only knows the shape and the cross-references.
"""

from __future__ import annotations

import re
from datetime import time
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.domain.reliability import CauseBook, CauseClass

Locale = Literal["zh-CN", "en"]
# Where a team (or a department's roll-up) is served when several are in one process (docs/department.md).
Platform = Literal["slack", "feishu", "console"]
# The one weekday table: a weekday's short name, in ISO order (Monday is isoweekday 1).
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WHEN = re.compile(r"^\s*(mon|tue|wed|thu|fri|sat|sun)[a-z]*\s+(\d{1,2}):(\d{2})\s*$", re.IGNORECASE)


def known_zone(value: str) -> str:
    """`value` if it names an IANA time zone; else a ValueError saying what to write (the team file's and the
    department file's `timezone`)."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone '{value}' (use an IANA name like Asia/Shanghai)") from None
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class WeeklyTime(_Strict):
    """A day of the week and a time of day, written `thu 10:00`."""

    isoweekday: int
    at: time

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: object) -> object:
        if isinstance(value, str):
            return cls.read(value).model_dump()
        return value

    @classmethod
    def read(cls, text: str) -> WeeklyTime:
        """`thu 10:00` (any day name starting with its three letters) as a WeeklyTime; ValueError if it is not one."""
        m = _WHEN.match(text)
        if not m:
            raise ValueError(f"'{text}' is not a weekly time; write it like 'thu 10:00'")
        hour, minute = int(m.group(2)), int(m.group(3))
        if hour > 23 or minute > 59:
            raise ValueError(f"'{text}': no such time of day")
        return cls(isoweekday=WEEKDAYS.index(m.group(1).lower()[:3]) + 1, at=time(hour, minute))

    @property
    def day(self) -> str:
        """The weekday's short name (`thu`), as cron and the team file write it."""
        return WEEKDAYS[self.isoweekday - 1]

    def __str__(self) -> str:
        return f"{self.day} {self.at:%H:%M}"


class Person(_Strict):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
    name: Annotated[str, Field(min_length=1, max_length=64)]
    slack: str | None = None
    feishu: str | None = None
    email: str | None = None


class Bank(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=32)]
    owner: str | None = None  # defaults to the bank part's owner
    aliases: list[str] = []


class Part(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    owner: str
    banks: list[Bank] = []


class Project(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    owner: str | None = None  # a project written as prose has an owner and no parts
    parts: list[Part] = []
    notes: bool = False  # ask for a note at the end of the section in the weekly prompt

    @model_validator(mode="after")
    def _owner_or_parts(self) -> Project:
        if not self.parts and not self.owner:
            raise ValueError(f"project '{self.name}' needs either an owner or parts")
        return self


class OkrItem(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    owner: str


class OkrGroup(_Strict):
    id: Annotated[str, Field(min_length=1, max_length=16)]
    name: Annotated[str, Field(min_length=1, max_length=64)]
    items: list[OkrItem] = []
    notes: bool = False


class Metric(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    owner: str
    unit: str = ""
    # "reported": the owner answers the value; "availability": computed from incident downtime
    source: Literal["reported", "availability"] = "reported"
    period: Literal["week", "year"] = "year"
    digits: int = 3


class MetricGroup(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    metrics: list[Metric] = []
    incident_counts: bool = False
    notes: bool = False


class Cause(_Strict):
    """A class of cause an incident is attributed to (`归因：银行`): `id` is stored, `name` shown."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")]
    name: Annotated[str, Field(min_length=1, max_length=32)]
    aliases: list[str] = []


# Grammar, not display words: what people type after `归因：` / `attribution:` when the team file lists no
# causes of its own (either locale's word is read; the team's locale names the class in the report). The
# ids `own` and `bank` mean something to the core: own spend is named in the budget line, and a bank's
# name stands for `bank`.
DEFAULT_CAUSES: dict[str, dict[str, str]] = {
    "own": {"zh-CN": "自身", "en": "own"},
    "bank": {"zh-CN": "银行", "en": "bank"},
    "third-party": {"zh-CN": "第三方", "en": "third-party"},
    "infrastructure": {"zh-CN": "基础设施", "en": "infrastructure"},
}


def _percent(value: object) -> object:
    """`99.95%`, `99.95` or 99.95 as a Decimal (YAML reads a bare number as a float; its text is kept)."""
    text = str(value).strip().removesuffix("%").strip()
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"'{value}' is not a percentage; write it like 99.95%") from None


class SystemObjective(_Strict):
    """A system's availability objective over a rolling window (`slo: 99.95%`, `window_days: 28`)."""

    name: Annotated[str, Field(min_length=1, max_length=64)]  # as the report names it (支付网关)
    aliases: list[str] = []  # what `/incident` writes as its system (gateway-api)
    slo: Decimal
    window_days: Annotated[int, Field(ge=1, le=366)] = 28

    @field_validator("slo", mode="before")
    @classmethod
    def _read_slo(cls, value: object) -> object:
        return _percent(value)

    @field_validator("slo")
    @classmethod
    def _slo_range(cls, value: Decimal) -> Decimal:
        if not 0 < value < 100:
            raise ValueError(f"slo {value}% must be above 0% and below 100% (100% leaves no budget)")
        return value

    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


class PostmortemRule(_Strict):
    """Which incidents need a postmortem (issue 23): at or above a severity (the severities run from the
    most severe), any that spent a system's error budget, any noticed (`发现：`) more than `detection_minutes`
    after it started. None set: none is asked for."""

    severity: str | None = None
    budget_spent: bool = False
    detection_minutes: Annotated[int, Field(ge=1)] | None = None


class Incidents(_Strict):
    severities: list[str] = ["A", "B", "C", "D"]
    count_groups: list[list[str]] = [["A", "B"], ["C"], ["D"]]
    post_to_channel: bool = True
    # The weekly prompt and reminders ask every owner whether an incident went unlogged (issue 14).
    ask_in_prompt: bool = True
    # Who may file, list and edit their own `/incident`: anyone in the workspace (whoever saw it), or
    # only the people in this file. Editing others' incidents stays with editors either way.
    reporters: Literal["anyone", "team"] = "anyone"
    notes: bool = False
    # Issue 23: classes of cause (`归因：`); empty means DEFAULT_CAUSES. `show_causes` adds the split of the
    # week's incidents by cause to the report; `systems` give availability objectives (the budget lines).
    causes: list[Cause] = []
    show_causes: bool = False
    systems: list[SystemObjective] = []
    postmortem: PostmortemRule = PostmortemRule()
    # An incident whose system and cause class match one in the last `repeat_weeks` weeks is a repeat
    # (0: not looked for).
    repeat_weeks: Annotated[int, Field(ge=0, le=52)] = 0

    @model_validator(mode="after")
    def _groups_known(self) -> Incidents:
        for group in self.count_groups:
            for sev in group:
                if sev not in self.severities:
                    raise ValueError(f"count group names severity '{sev}', not one of {self.severities}")
        if self.postmortem.severity is not None and self.postmortem.severity not in self.severities:
            raise ValueError(f"postmortem.severity '{self.postmortem.severity}' is not one of {self.severities}")
        ids = [c.id for c in self.causes]
        for i, c in enumerate(self.causes):
            if c.id in ids[:i]:
                raise ValueError(f"causes[{i}]: cause id '{c.id}' is listed twice")
        names = [n.casefold() for s in self.systems for n in s.names()]
        for i, system in enumerate(self.systems):
            if any(names.count(n.casefold()) > 1 for n in system.names()):
                raise ValueError(f"systems[{i}]: a name of '{system.name}' is used by another system too")
        return self


class Schedule(_Strict):
    prompt: WeeklyTime = WeeklyTime.model_validate("thu 10:00")
    remind: list[WeeklyTime] = [WeeklyTime.model_validate("fri 10:00")]
    publish: WeeklyTime = WeeklyTime.model_validate("fri 17:00")
    calendar: Literal["cn", "none"] = "cn"


class TeamInfo(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=128)]
    locale: Locale = "zh-CN"
    timezone: str = "Asia/Shanghai"
    report_channel: str = "weekly-report"
    # The chat app this team is on when one process serves a department; None: the one the environment
    # configures (Settings.platform), so a team file without it behaves as before.
    platform: Platform | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_zone(value)


class ItemKind(StrEnum):
    PART = "part"  # a numbered part of a focus project (业务 / 银行 / 产研)
    PROSE = "prose"  # a focus project written as prose
    BANK = "bank"  # one bank's status line under a bank part
    OKR = "okr"
    METRIC = "metric"
    EDITOR = "editor"  # the editor's own sections
    NOTE = "note"  # free lines at the end of a section; optional, never missing


# Grammar, not display words: the names below are what people type to target an item (`其他：…`, either
# locale's name routes; `Team.items` keeps the other locale's as an alias) and the headings an import reads,
# so the parser must accept them and they stay with the team model. The report's headings reuse them
# (`bot/text/i18n.py`), so a heading and the name people answer by cannot drift. Display words live in
# `bot/text/catalogue/`.
EDITOR_SECTIONS: dict[str, dict[str, str]] = {
    "other": {"zh-CN": "其他", "en": "Other"},
    "reflection": {"zh-CN": "收获与反思", "en": "Lessons and reflections"},
    "next_week": {"zh-CN": "下周工作及目标", "en": "Next week"},
}

# A section note's name and the one section the bot names itself (grammar too: `系统可用性备注：…` routes).
NOTE_WORD: dict[str, str] = {"zh-CN": "备注", "en": "Note"}
# How a note is named when answered as `name：text` ("系统可用性备注：…" / "System availability note: …").
NOTE_ALIAS: dict[str, str] = {"zh-CN": "{section}{word}", "en": "{section} {word}"}
INCIDENTS_SECTION: dict[str, str] = {"zh-CN": "生产事件", "en": "Production incidents"}
INCIDENTS_NOTE_KEY = "note:incidents"


def project_note_key(project: str) -> str:
    return f"note:project:{project}"


def okr_note_key(group_id: str) -> str:
    return f"note:okr:{group_id}"


def metrics_note_key(group: str) -> str:
    return f"note:metrics:{group}"


class Item(BaseModel):
    """One thing somebody answers each week; `key` is stable storage identity."""

    model_config = ConfigDict(frozen=True)

    key: str
    kind: ItemKind
    name: str  # what the owner calls it in a reply (`建行`, `跨境收款`, `业务`)
    title: str  # where it sits in the report (`聚合收单 · 银行 · 建行`)
    owner: str  # person id; for EDITOR items, the first editor
    aliases: tuple[str, ...] = ()
    parent: str | None = None  # a bank's part key
    unit: str = ""
    writers: tuple[str, ...] = ()  # for NOTE items: everyone who may write it (owners, then editors)


class FeishuDocument(_Strict):
    """Each published report as a Feishu document (docx), created in `folder_token` and shared with the
    team's people at `share` (view or edit)."""

    folder_token: Annotated[str, Field(min_length=1, max_length=64)]
    share: Literal["view", "edit"] = "view"


class FeishuBitable(_Strict):
    """The report's items, banks, incidents and action items as rows of one table of a 多维表格: one row per
    item per week, kept up to date when the report is edited."""

    app_token: Annotated[str, Field(min_length=1, max_length=64)]
    table_id: Annotated[str, Field(min_length=1, max_length=64)]


class Documents(_Strict):
    """Where a published report is also written, besides the chat post (all off unless set)."""

    feishu_doc: FeishuDocument | None = None
    feishu_bitable: FeishuBitable | None = None
    slack_canvas: bool = False  # the report as a Slack canvas, readable in the report channel

    @property
    def any(self) -> bool:
        return self.feishu_doc is not None or self.feishu_bitable is not None or self.slack_canvas


class Team(_Strict):
    """The validated team file."""

    team: TeamInfo
    people: list[Person]
    editors: list[str] = Field(min_length=1)
    admins: list[str] = []
    projects: list[Project] = []
    okrs: list[OkrGroup] = []
    metrics: list[MetricGroup] = []
    incidents: Incidents = Incidents()
    schedule: Schedule = Schedule()
    documents: Documents = Documents()

    @model_validator(mode="after")
    def _references(self) -> Team:
        seen: dict[str, str] = {}
        names: dict[str, str] = {}
        for i, p in enumerate(self.people):
            if p.id in seen:
                raise ValueError(f"people[{i}].id: person id '{p.id}' is listed twice")
            if p.name in names:
                raise ValueError(f"people[{i}].name: name '{p.name}' is used by '{names[p.name]}' too")
            seen[p.id] = p.name
            names[p.name] = p.id
            for attr in ("slack", "feishu", "email"):
                value = getattr(p, attr)
                if value and any(getattr(q, attr) == value for q in self.people[:i]):
                    raise ValueError(f"people[{i}].{attr}: {attr} '{value}' belongs to another person too")

        def need(who: str | None, where: str) -> None:
            if who is not None and who not in seen:
                raise ValueError(f"{where}: '{who}' is not in people (known: {', '.join(seen) or 'none'})")

        for i, e in enumerate(self.editors):
            need(e, f"editors[{i}]")
        for i, a in enumerate(self.admins):
            need(a, f"admins[{i}]")
        for i, pr in enumerate(self.projects):
            need(pr.owner, f"projects[{i}].owner")
            for j, part in enumerate(pr.parts):
                need(part.owner, f"projects[{i}].parts[{j}].owner")
                for k, bank in enumerate(part.banks):
                    need(bank.owner, f"projects[{i}].parts[{j}].banks[{k}].owner")
        for i, g in enumerate(self.okrs):
            for j, it in enumerate(g.items):
                need(it.owner, f"okrs[{i}].items[{j}].owner")
        for i, mg in enumerate(self.metrics):
            for j, m in enumerate(mg.metrics):
                need(m.owner, f"metrics[{i}].metrics[{j}].owner")
        keys: dict[str, int] = {}
        for item in self.items:
            keys[item.key] = keys.get(item.key, 0) + 1
        dupes = sorted(k for k, n in keys.items() if n > 1)
        if dupes:
            raise ValueError(f"two report items share a name: {', '.join(dupes)}")
        return self

    # ----- derived views -------------------------------------------------

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.team.timezone)

    @cached_property
    def cause_book(self) -> CauseBook:
        """The cause classes `归因：` reads (the team file's, else the defaults) and the banks it may name."""
        loc = self.team.locale
        if self.incidents.causes:
            classes = tuple(CauseClass(c.id, c.name, tuple(c.aliases)) for c in self.incidents.causes)
        else:
            classes = tuple(CauseClass(cid, words[loc], tuple(w for w in words.values() if w != words[loc]))
                            for cid, words in DEFAULT_CAUSES.items())
        banks = tuple((b.name, tuple(b.aliases)) for pr in self.projects for part in pr.parts for b in part.banks)
        return CauseBook(classes, banks)

    def objective_of(self, system: str) -> SystemObjective | None:
        """The objective whose name or alias is an incident's `system` (case aside), if any."""
        wanted = system.strip().casefold()
        return next((s for s in self.incidents.systems if wanted and wanted in (n.casefold() for n in s.names())),
                    None)

    @cached_property
    def person_by_id(self) -> dict[str, Person]:
        return {p.id: p for p in self.people}

    def find_person(self, who: str) -> Person | None:
        """By id, display name, Slack id, Feishu open_id or email (the first person, in file order, who has it)."""
        return self._person_by_any.get(who)

    # Indexes over the (immutable) team, built once: every inbound message asks who wrote it and what they
    # answer, and a scan of 1,000 people and 3,000 items per question was most of an answer's CPU (issue 21).
    @cached_property
    def _person_by_any(self) -> dict[str, Person]:
        index: dict[str, Person] = {}
        for p in self.people:
            for value in (p.id, p.name, p.slack, p.feishu, p.email):
                if value is not None:
                    index.setdefault(value, p)
        return index

    def is_editor(self, person_id: str) -> bool:
        return person_id in self.editors or person_id in self.admins

    def _note(self, key: str, section: str, owners: list[str]) -> Item:
        word = NOTE_WORD[self.team.locale]
        writers = tuple(dict.fromkeys([*owners, *self.editors]))
        joined = NOTE_ALIAS[self.team.locale].format(section=section, word=word.lower())
        return Item(key=key, kind=ItemKind.NOTE, name=joined, title=f"{section} · {word}", owner=writers[0],
                    aliases=(f"{section} · {word}",), writers=writers)

    @cached_property
    def section_notes(self) -> list[Item]:
        """The note of every section, asked for in chat or not (an import may fill any of them)."""
        return [it for it, _ in self.notes_switched]

    @cached_property
    def notes_switched(self) -> list[tuple[Item, bool]]:
        out: list[tuple[Item, bool]] = []
        for pr in self.projects:
            owners = [pr.owner] if pr.owner else [o for p in pr.parts for o in
                                                  (p.owner, *(b.owner for b in p.banks if b.owner))]
            out.append((self._note(project_note_key(pr.name), pr.name, owners), pr.notes))
        for g in self.okrs:
            out.append((self._note(okr_note_key(g.id), f"{g.id} {g.name}", [it.owner for it in g.items]), g.notes))
        for mg in self.metrics:
            out.append((self._note(metrics_note_key(mg.name), mg.name, [m.owner for m in mg.metrics]), mg.notes))
        out.append((self._note(INCIDENTS_NOTE_KEY, INCIDENTS_SECTION[self.team.locale], []), self.incidents.notes))
        return out

    @cached_property
    def items(self) -> list[Item]:
        """Every answerable item in report order (section notes only where the team file turns them on)."""
        notes = {it.key: it for it, on in self.notes_switched if on}
        out: list[Item] = []
        for pr in self.projects:
            if not pr.parts:
                assert pr.owner is not None
                out.append(Item(key=f"project:{pr.name}", kind=ItemKind.PROSE, name=pr.name,
                                title=pr.name, owner=pr.owner))
            for part in pr.parts:
                pkey = f"project:{pr.name}/{part.name}"
                out.append(Item(key=pkey, kind=ItemKind.PART, name=part.name,
                                title=f"{pr.name} · {part.name}", owner=part.owner))
                for bank in part.banks:
                    out.append(Item(key=f"bank:{pr.name}/{bank.name}", kind=ItemKind.BANK, name=bank.name,
                                    title=f"{pr.name} · {part.name} · {bank.name}",
                                    owner=bank.owner or part.owner, aliases=tuple(bank.aliases), parent=pkey))
            if project_note_key(pr.name) in notes:
                out.append(notes[project_note_key(pr.name)])
        for g in self.okrs:
            for it in g.items:
                out.append(Item(key=f"okr:{g.id}/{it.name}", kind=ItemKind.OKR, name=it.name,
                                title=f"{g.id} {g.name} · {it.name}", owner=it.owner))
            if okr_note_key(g.id) in notes:
                out.append(notes[okr_note_key(g.id)])
        for mg in self.metrics:
            for m in mg.metrics:
                if m.source == "reported":
                    out.append(Item(key=f"metric:{m.name}", kind=ItemKind.METRIC, name=m.name,
                                    title=f"{mg.name} · {m.name}", owner=m.owner, unit=m.unit))
            if metrics_note_key(mg.name) in notes:
                out.append(notes[metrics_note_key(mg.name)])
        if INCIDENTS_NOTE_KEY in notes:
            out.append(notes[INCIDENTS_NOTE_KEY])
        for key, label in EDITOR_SECTIONS.items():
            out.append(Item(key=f"editor:{key}", kind=ItemKind.EDITOR, name=label[self.team.locale],
                            title=label[self.team.locale], owner=self.editors[0],
                            aliases=tuple(v for v in label.values() if v != label[self.team.locale])))
        return out

    @cached_property
    def item_by_key(self) -> dict[str, Item]:
        return {it.key: it for it in self.items}

    def may_write(self, person_id: str, item: Item) -> bool:
        """Whether `item` is this person's to write, in chat, in a form and on the dashboard alike: its owner,
        a section note's listed writers (the section's owners, then the editors), and the editors for
        their own sections."""
        return (item.owner == person_id or person_id in item.writers
                or (item.kind is ItemKind.EDITOR and person_id in self.editors))

    def items_of(self, person_id: str) -> list[Item]:
        """What this person answers each week (the items they may write), in report order."""
        return list(self._items_by_writer.get(person_id, ()))

    @cached_property
    def _items_by_writer(self) -> dict[str, tuple[Item, ...]]:
        """`may_write`, indexed: each person's items in report order."""
        out: dict[str, list[Item]] = {}
        for it in self.items:
            for pid in dict.fromkeys((it.owner, *it.writers, *(self.editors if it.kind is ItemKind.EDITOR else ()))):
                if self.may_write(pid, it):
                    out.setdefault(pid, []).append(it)
        return {pid: tuple(items) for pid, items in out.items()}

    def owners(self) -> list[str]:
        """People who have something to answer, in team-file order."""
        return list(self._owners)

    def is_owner(self, person_id: str) -> bool:
        """Whether `person_id` is among `owners()`."""
        return person_id in self._owner_set

    @cached_property
    def _owners(self) -> tuple[str, ...]:
        having = {it.owner for it in self.items} | set(self.editors)
        return tuple(p.id for p in self.people if p.id in having)

    @cached_property
    def _owner_set(self) -> frozenset[str]:
        return frozenset(self._owners)
