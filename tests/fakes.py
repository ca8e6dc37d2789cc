"""Test doubles: a chat port that records what the bot sends, and a clock that moves when told."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.prompts import Prompt
from bot.domain.report import Report
from bot.domain.team import Person
from bot.services.chat import ChatError, MessageRef, RenderedReport


@dataclass
class Sent:
    kind: str  # prompt | text | post | report | update
    to: str  # person id or channel
    text: str
    ref: MessageRef
    prompt: Prompt | None = None


@dataclass
class FakeChat:
    platform: str = "fake"
    parallel_sends: int = 1  # `sent` in the order the core sends
    sent: list[Sent] = field(default_factory=list)
    fail_with: str | None = None  # make every call raise ChatError(reason)
    names: dict[str, str] = field(default_factory=dict)  # user id -> the name the platform's profile gives
    _n: int = 0

    def _ref(self, channel: str) -> MessageRef:
        if self.fail_with:
            raise ChatError(self.fail_with)
        self._n += 1
        return MessageRef(self.platform, channel, f"msg{self._n}")

    def send_prompt(self, person: Person, prompt: Prompt, *, key: str) -> MessageRef:
        ref = self._ref(f"dm-{person.id}")
        self.sent.append(Sent("prompt", person.id, prompt.text, ref, prompt))
        return ref

    def send_text(self, person: Person, text: str, *, key: str | None = None) -> MessageRef:
        ref = self._ref(f"dm-{person.id}")
        self.sent.append(Sent("text", person.id, text, ref))
        return ref

    def display_name(self, user: str) -> str | None:
        return self.names.get(user)

    def post_text(self, channel: str, text: str) -> MessageRef:
        ref = self._ref(channel)
        self.sent.append(Sent("post", channel, text, ref))
        return ref

    def post_report(self, channel: str, report: Report, rendered: RenderedReport, *, key: str) -> list[MessageRef]:
        ref = self._ref(channel)
        self.sent.append(Sent("report", channel, rendered.markdown, ref))
        return [ref]

    def update_report(self, posted: list[MessageRef], report: Report, rendered: RenderedReport, *,
                      previous: RenderedReport | None = None) -> list[MessageRef]:
        if self.fail_with:
            raise ChatError(self.fail_with)
        self.sent.append(Sent("update", posted[0].channel, rendered.markdown, posted[0]))
        return posted

    def of_kind(self, kind: str) -> list[Sent]:
        return [s for s in self.sent if s.kind == kind]


@dataclass
class FixedClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now = self.now + timedelta(**kw)
        return self.now
