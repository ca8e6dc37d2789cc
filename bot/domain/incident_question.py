"""The weekly prompt's incident question: did anything happen this week that nobody logged?

Pure. The question sits after a person's items in their prompt (its place among the prompt's item keys
is `KEY`). An answer to it is one of three things, never half of one:

- "nothing to add" (`无`, `没有`, `none`, …);
- an incident in the `/incident` grammar, without the slash, that says when it started (a leading
  `06/27 20:05` or a `开始：` label) — a time is required because without one the grammar would file the
  incident at the moment of answering, which for an incident remembered on Friday is wrong;
- anything else: kept, and the owner asked which it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.domain.incidents import IncidentDraft, IncidentSyntaxError, parse_incident, states_start
from bot.domain.reliability import CauseBook
from bot.domain.replies import normalize_text

KEY = "@incidents"  # the question among a prompt's item keys; no item key starts with "@"

# Compared after casefolding and dropping trailing punctuation; both locales' words work in either.
NOTHING_TO_ADD = frozenset({
    "无", "没有", "没", "暂无", "均无", "都没有", "没有了", "无事件", "没有事件", "无新增", "没有新增", "无补充", "没有补充",
    "无需补充", "不用补充", "本周无", "本周没有", "本周无事件", "无生产事件", "没有生产事件", "已全部登记", "都已登记", "/",
    "-", "—", "none", "no", "nope", "nothing", "nothing to add", "no incidents", "no incident", "none to add", "n/a",
    "na", "nil", "all logged",
})
_TRAILING = re.compile(r"[\s。.!！~～、，,；;]+$")


def is_nothing_to_add(text: str) -> bool:
    """Whether the answer says the person has no incident to add."""
    return _TRAILING.sub("", normalize_text(text)).strip().casefold() in NOTHING_TO_ADD


@dataclass(frozen=True)
class IncidentAnswer:
    """What an answer to the incident question means."""

    kind: Literal["none", "incident", "unclear"]
    draft: IncidentDraft | None = None  # for "incident"
    problem: IncidentSyntaxError | None = None  # for "unclear": why it is not a readable incident, if it tried


def read_answer(text: str, *, now: datetime, severities: Sequence[str],
                causes: CauseBook | None = None) -> IncidentAnswer:
    """Read one answer to the incident question (`now` in the team's zone fills a date's missing parts)."""
    body = normalize_text(text).strip()
    if is_nothing_to_add(body):
        return IncidentAnswer("none")
    body = re.sub(r"^/incident\b\s*", "", body, flags=re.IGNORECASE)
    if not states_start(body):
        return IncidentAnswer("unclear")
    try:
        return IncidentAnswer("incident", draft=parse_incident(body, now=now, severities=severities,
                                                                     causes=causes))
    except IncidentSyntaxError as exc:
        return IncidentAnswer("unclear", problem=exc)


def named_answer(text: str, names: Sequence[str]) -> str | None:
    """The answer in a `生产事件：…` line (the question's name, as an item is answered by name), or None
    when the text does not start with one of `names`."""
    body = normalize_text(text)
    for name in sorted(names, key=len, reverse=True):
        m = re.match(rf"{re.escape(name)}[ \t]*[：:][ \t]*", body, flags=re.IGNORECASE)
        if m and body[m.end():].strip():
            return body[m.end():]
    return None


@dataclass(frozen=True)
class LoggedIncident:
    """An incident already logged this week, as the prompt lists it (so nobody files it twice)."""

    number: int
    started_at: datetime  # team zone
    system: str
    what: str


@dataclass(frozen=True)
class Question:
    """The incident question as one person's prompt shows it."""

    number: int  # its `[n]` in the prompt, after the person's items
    logged: tuple[LoggedIncident, ...]
    answer: Literal["none", "incident"] | None = None  # what the person answered so far this week
