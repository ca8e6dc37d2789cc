"""A prompt as the core composes it: the items a person is asked about this week, and its text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.domain.incident_question import Question
from bot.domain.team import ItemKind


@dataclass(frozen=True)
class PromptItem:
    number: int  # as shown in the prompt: owners answer `[2] …`
    key: str
    title: str
    kind: ItemKind
    name: str
    last_week: str | None  # last week's answer, for reference
    this_week: str | None  # what is stored so far this week (reminders, form prefill)
    unit: str = ""


@dataclass(frozen=True)
class Prompt:
    """A prompt or reminder for one person; `text` is the full localized plain-text rendering."""

    week: str
    kind: Literal["prompt", "remind"]
    items: tuple[PromptItem, ...]
    text: str
    locale: str
    deadline: datetime
    incidents: Question | None = None  # the incident question, after the items (off in the team file: None)
