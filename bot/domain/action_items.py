"""After an incident (issue 23): its postmortem and action items, as commands and prompt answers read.

Pure: text in, typed value out, or an IncidentSyntaxError naming the catalogue sentence
(`incident.syntax.<key>`). Every entrance (the `/incident` command, a prompt's `[n]` answer) reads through
these functions, so a due date or an owner is checked in one place.

- `/incident action 3 补齐分页 负责人：刘洋 截止：7/15` (`行动项`), `/incident done A7` (`完成`),
  `/incident postmortem 3 [复盘](https://wiki/pm-3)` (`复盘`).
- In a prompt, an open action item is `[n] A7 …`; `[n] 完成` closes it, `[n] 延期 7/15 等待银行排期` moves it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from bot.domain.incidents import IncidentSyntaxError
from bot.domain.replies import normalize_text

KEY_PREFIX = "@action:"  # an action item among a prompt's item keys (no item key starts with "@")


def action_key(number: int) -> str:
    return f"{KEY_PREFIX}{number}"


def action_number(key: str) -> int | None:
    """The action item a prompt key stands for, or None for any other key."""
    return int(key.removeprefix(KEY_PREFIX)) if key.startswith(KEY_PREFIX) else None


@dataclass(frozen=True)
class FollowUp:
    """A `/incident` command about what follows an incident."""

    kind: Literal["action", "done", "postmortem"]
    incident: int | None = None  # for action and postmortem: the incident's number
    item: int | None = None  # for done: the action item's number (A7 -> 7)
    text: str = ""  # for action: what is to be done
    owner: str = ""  # for action: the owner's person id
    due: date | None = None  # for action
    link: str = ""  # for postmortem: as written (a Markdown link stays one)


@dataclass(frozen=True)
class OpenAction:
    """An open action item as its owner's prompt lists it (`[n] A7 …`)."""

    number: int  # A<number>
    incident: int  # the incident's number (#3)
    text: str
    due: date
    overdue: bool

    @property
    def key(self) -> str:
        return action_key(self.number)


@dataclass(frozen=True)
class ActionAnswer:
    """A prompt's answer about one action item: done, or postponed to `due` because of `why`."""

    kind: Literal["done", "postponed"]
    due: date | None = None
    why: str = ""


_ACTION = re.compile(r"(?:action|行动项|行动)\s*#?(?P<n>[0-9]{1,9})\s+(?P<rest>.+)", re.IGNORECASE | re.DOTALL)
_DONE = re.compile(r"(?:done|完成)\s*(?P<id>\S+)", re.IGNORECASE)
_POSTMORTEM = re.compile(r"(?:postmortem|复盘)\s*#?(?P<n>[0-9]{1,9})\s+(?P<link>\S.*)", re.IGNORECASE | re.DOTALL)
# English words are commands wherever they lead; Chinese ones only before a number (完成 A7, 复盘 3), so
# `/incident 完成率下跌…` stays an incident's description.
_WORD = re.compile(r"(?:action|done|postmortem)(?![A-Za-z])|(?:行动项|行动|完成|复盘)(?=\s*#?[Aa]?[0-9])",
                   re.IGNORECASE)
_ITEM_ID = re.compile(r"[Aa]([0-9]{1,9})")
_OWNER_DUE = re.compile(r"(?:^|(?<=\s)|(?<=[，。；]))(负责人|owner|截止日期|截止|due)[ \t]*[：:]", re.IGNORECASE)
_FIELD = {"负责人": "owner", "owner": "owner", "截止日期": "due", "截止": "due", "due": "due"}
_DATE = re.compile(r"(?:(?P<y>[0-9]{4})[-/.])?(?P<m>[0-9]{1,2})[-/.](?P<d>[0-9]{1,2})"
                   r"|(?:(?P<y2>[0-9]{4})年)?(?P<m2>[0-9]{1,2})月(?P<d2>[0-9]{1,2})[日号]?")
_POSTPONE = re.compile(r"(?:延期|推迟|postpone[d]?|delay(?:ed)?)\s*(?:到|至|to)?\s*(?P<rest>.*)",
                       re.IGNORECASE | re.DOTALL)
_DONE_WORDS = frozenset({"完成", "已完成", "done", "完成了", "closed", "已关闭"})
_TRAILING = re.compile(r"[\s。.!！~～]+$")


def is_follow_up(body: str) -> bool:
    """Whether an `/incident` body (without `/incident`) starts with a follow-up word."""
    return _WORD.match(body.strip()) is not None


def parse_follow_up(body: str, *, today: date, person: Callable[[str], str | None]) -> FollowUp | None:
    """The follow-up an `/incident` body asks for, or None when it is not one; IncidentSyntaxError for one
    that cannot be read. `person` maps what was written for an owner to a person id (None: unknown)."""
    text = re.sub(r"^/incident\b\s*", "", normalize_text(body).strip(), flags=re.IGNORECASE)
    if not is_follow_up(text):
        return None
    if m := _POSTMORTEM.fullmatch(text):
        return FollowUp("postmortem", incident=int(m.group("n")), link=m.group("link").strip())
    if m := _DONE.fullmatch(text):
        found = _ITEM_ID.fullmatch(m.group("id"))
        if found is None:
            raise IncidentSyntaxError("action_id", value=m.group("id"))
        return FollowUp("done", item=int(found.group(1)))
    if m := _ACTION.fullmatch(text):
        what, fields = _owner_and_due(m.group("rest"))
        if not what:
            raise IncidentSyntaxError("action_what")
        if "owner" not in fields or "due" not in fields:
            raise IncidentSyntaxError("action_needs")
        owner = person(fields["owner"].lstrip("@"))
        if owner is None:
            raise IncidentSyntaxError("unknown_person", value=fields["owner"])
        return FollowUp("action", incident=int(m.group("n")), text=what, owner=owner,
                        due=read_due(fields["due"], today=today))
    word = _WORD.match(text)
    assert word is not None
    raise IncidentSyntaxError("follow_up_usage", word=word.group(0).lower())


def _owner_and_due(rest: str) -> tuple[str, dict[str, str]]:
    matches = list(_OWNER_DUE.finditer(rest))
    fields: dict[str, str] = {}
    for i, m in enumerate(matches):
        name = _FIELD[m.group(1).lower()]
        value = rest[m.end():matches[i + 1].start() if i + 1 < len(matches) else len(rest)].strip(" \t，,。；;")
        if name in fields:
            raise IncidentSyntaxError("twice", value=m.group(1))
        if not value:
            raise IncidentSyntaxError("empty", value=m.group(1))
        fields[name] = value
    head = rest[:matches[0].start()] if matches else rest
    return head.strip(" \t，,。；;"), fields


def read_due(value: str, *, today: date) -> date:
    """A due date (`7/15`, `2024-07-15`, `7月15日`) on or after `today`. A date without a year is this year's,
    or next year's when this year's is more than half a year gone (12/20 → 01/10 means January); a date in
    the past is refused (IncidentSyntaxError `due_past`), so is anything that is not a date (`bad_due`)."""
    text = value.strip()
    m = _DATE.fullmatch(text)
    if m is None:
        raise IncidentSyntaxError("bad_due", value=text)
    year = m.group("y") or m.group("y2")
    month, day = int(m.group("m") or m.group("m2")), int(m.group("d") or m.group("d2"))
    try:
        due = date(int(year) if year else today.year, month, day)
        if year is None and (today - due).days > 182:
            due = date(today.year + 1, month, day)
    except ValueError:
        raise IncidentSyntaxError("bad_due", value=text) from None
    if due < today:
        raise IncidentSyntaxError("due_past", value=text, due=f"{due:%Y-%m-%d}", today=f"{today:%Y-%m-%d}")
    return due


def read_action_answer(text: str, *, today: date) -> ActionAnswer:
    """`完成` / `done`, or `延期 7/15 <why>` / `postpone 7/15 <why>`; IncidentSyntaxError (`action_answer`,
    `bad_due`, `due_past`, `postpone_why`) for anything else."""
    body = _TRAILING.sub("", normalize_text(text)).strip()
    if body.casefold() in _DONE_WORDS:
        return ActionAnswer("done")
    m = _POSTPONE.fullmatch(body)
    if m is None:
        raise IncidentSyntaxError("action_answer", value=body)
    rest = m.group("rest").strip()
    date_part, _, why = rest.partition(" ")
    due = read_due(date_part, today=today)
    if not why.strip():
        raise IncidentSyntaxError("postpone_why")
    return ActionAnswer("postponed", due=due, why=why.strip())


def needs_postmortem(severity: str | None, severities: list[str], from_severity: str | None,
                     spent_budget: bool, budget_rule: bool, slow_detection: bool = False) -> bool:
    """Whether an incident needs a postmortem: its severity is `from_severity` or more severe (severities
    run from the most severe), or `budget_rule` is on and it spent a system's budget, or it was noticed
    later than the team's rule allows (`slow_detection`, decided by the caller from the rule)."""
    if from_severity is not None and severity in severities and \
            severities.index(severity) <= severities.index(from_severity):
        return True
    return budget_rule and spent_budget or slow_detection


def is_overdue(due: date, done_at: datetime | None, on: date) -> bool:
    """An action item is overdue from the day after its due date until it is done."""
    return done_at is None and due < on
