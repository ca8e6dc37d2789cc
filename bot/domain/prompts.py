"""A prompt as the core composes it: the items a person is asked about this week, and its text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.domain.action_items import OpenAction
from bot.domain.incident_question import KEY as QUESTION_KEY
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
    actions: tuple[PromptAction, ...] = ()  # the person's open action items, after the question (issue 23)

    @property
    def keys(self) -> list[str]:
        """What each `[n]` of the prompt stands for, in order: item keys, the question's, action items'."""
        return ([i.key for i in self.items] + ([QUESTION_KEY] if self.incidents is not None else [])
                + [a.action.key for a in self.actions])


@dataclass(frozen=True)
class PromptAction:
    """An open action item in its owner's prompt, answered `[n] 完成` or `[n] 延期 7/15 <why>`."""

    number: int  # its `[n]`, after the person's items and the incident question
    action: OpenAction
