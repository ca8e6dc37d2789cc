"""The chat port: what the core asks of a chat platform, and what platforms hand to the core.

Adapters (console, Slack, Feishu) implement `ChatPort` and turn their payloads into
`Inbound`; the core never sees a platform payload.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.domain.prompts import Prompt
from bot.domain.report import Report
from bot.domain.team import Person


@dataclass(frozen=True)
class MessageRef:
    platform: str
    channel: str
    message_id: str


@dataclass(frozen=True)
class RenderedReport:
    markdown: str
    slack: str
    feishu: str  # the Feishu post as JSON


@dataclass(frozen=True)
class Inbound:
    """A message from a person to the bot, as the core understands it."""

    platform: str
    user: str  # platform user id (console: person id or name)
    source_id: str  # platform message id: redeliveries carry the same one
    text: str  # as typed: a leading `[n]` (an item of the latest prompt) is read by the inbox
    at: datetime
    thread_id: str | None = None  # the message it replies to, if any


@dataclass(frozen=True)
class Reply:
    """What the bot answers the sender, privately."""

    text: str
    ok: bool = True
    stored_items: tuple[str, ...] = field(default=())
    prompt: Prompt | None = None  # a prompt to show as the platform's answer form (`/zhoubao answer`)


POST_GONE = "message_not_found"  # ChatError reason: a posted report was deleted in the channel


class ChatError(Exception):
    """A platform refused or failed a call; `reason` is the platform's short code (not_in_channel, …).

    `method` names the call (chat.postMessage, im/v1/messages …) and `where` the channel or person it
    was for, when the adapter knows them: the editors are told both.
    """

    def __init__(self, reason: str, detail: str = "", *, method: str = "", where: str = "") -> None:
        self.reason = reason
        self.method = method
        self.where = where
        super().__init__(f"{reason}: {detail}" if detail else reason)

    def at(self, method: str, where: str = "") -> ChatError:
        """This error, naming the call and its target if it did not already; returns itself for `raise`."""
        self.method = self.method or method
        self.where = self.where or where
        return self


class ChatPort(Protocol):
    platform: str
    # How many prompts the core may send at once. A platform's own pacing (per method, per chat) is the
    # adapter's and must be thread-safe when this is above 1; the console prints, so it sends one at a time.
    parallel_sends: int

    def send_prompt(self, person: Person, prompt: Prompt, *, key: str) -> MessageRef:
        """DM a prompt; `key` is an idempotency key the platform may use to drop a resend."""
        ...

    def send_text(self, person: Person, text: str, *, key: str | None = None) -> MessageRef:
        ...

    def post_text(self, channel: str, text: str) -> MessageRef:
        ...

    def display_name(self, user: str) -> str | None:
        """The name the platform's profile gives a user id (cached by the adapter), None if unknown."""
        ...

    def post_report(self, channel: str, report: Report, rendered: RenderedReport, *, key: str) -> list[MessageRef]:
        ...

    def update_report(self, posted: list[MessageRef], report: Report, rendered: RenderedReport, *,
                      previous: RenderedReport | None = None) -> list[MessageRef]:
        """Edit a posted report in place; returns the refs now holding it (more if it grew). `previous`: what
        the post shows now, when the core knows it; a part whose text it already shows is left alone."""
        ...
