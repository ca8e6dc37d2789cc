"""The console's chat port and clocks: `ConsoleChat` prints what the bot sends (and keeps it for `inbox`
and `channel`); `VirtualClock` moves only when told; `WallClock` is the wall clock in a team's zone.

Apart from the session (workspace.py), so that one-shot commands (`zhoubao report`, `export`, `import`)
build a context on them without loading every service."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import ClassVar, TextIO

from bot.domain.prompts import Prompt
from bot.domain.report import Report
from bot.domain.team import Person, WeeklyTime
from bot.services.chat import MessageRef, RenderedReport


@dataclass
class ConsoleChat:
    """A chat port that prints what it sends and keeps it for `inbox` and `channel`."""

    out: TextIO
    platform: str = "console"
    parallel_sends: int = 1  # it prints: one prompt after another
    dms: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    channel: list[tuple[str, str]] = field(default_factory=list)
    _n: int = 0

    def _id(self) -> str:
        self._n += 1
        return f"b{self._n}"

    def send_prompt(self, person: Person, prompt: Prompt, *, key: str) -> MessageRef:
        return self.send_text(person, prompt.text, key=key)

    def send_text(self, person: Person, text: str, *, key: str | None = None) -> MessageRef:
        mid = self._id()
        self.dms.setdefault(person.id, []).append((mid, text))
        self.out.write(f"\n── DM to {person.name} ({mid}) ──\n{text}\n")
        return MessageRef(self.platform, f"dm:{person.id}", mid)

    def display_name(self, user: str) -> str | None:
        """On the console a user is whatever name was typed after `/as`."""
        return user or None

    def post_text(self, channel: str, text: str) -> MessageRef:
        mid = self._id()
        self.channel.append((mid, text))
        self.out.write(f"\n── #{channel} ({mid}) ──\n{text}\n")
        return MessageRef(self.platform, channel, mid)

    def post_report(self, channel: str, report: Report, rendered: RenderedReport, *, key: str) -> list[MessageRef]:
        return [self.post_text(channel, rendered.markdown)]

    def update_report(self, posted: list[MessageRef], report: Report, rendered: RenderedReport, *,
                      previous: RenderedReport | None = None) -> list[MessageRef]:
        ref = posted[0]
        if previous is not None and previous.markdown == rendered.markdown:
            return [ref]  # it shows this already
        self.channel = [(m, rendered.markdown if m == ref.message_id else t) for m, t in self.channel]
        self.out.write(f"\n── #{ref.channel} ({ref.message_id}, edited) ──\n{rendered.markdown}\n")
        return [ref]


@dataclass
class VirtualClock:
    """The console's time: moves only when told, in the team's time zone."""

    now: datetime
    moves: ClassVar[bool] = True  # whether `clock +2h` moves it (and runs the jobs it passes)

    def __call__(self) -> datetime:
        return self.now

    def parse(self, arg: str) -> datetime:
        m = re.fullmatch(r"\+(\d+)\s*([mhd])", arg)
        if m:
            n, unit = int(m.group(1)), m.group(2)
            return self.now + timedelta(**{{"m": "minutes", "h": "hours", "d": "days"}[unit]: n})
        try:  # the next `thu 10:00`, read as the team file's schedule is
            when = WeeklyTime.read(arg)
        except ValueError:
            pass
        else:
            base = self.now.replace(hour=when.at.hour, minute=when.at.minute, second=0, microsecond=0)
            target = base + timedelta(days=(when.isoweekday - self.now.isoweekday()) % 7)
            return target if target > self.now else target + timedelta(days=7)
        try:
            parsed = datetime.strptime(arg, "%Y-%m-%d %H:%M")
        except ValueError:
            raise ValueError(f"'{arg}' is not a time; use +2h, +1d, thu 10:00 or 2024-06-27 10:00") from None
        return parsed.replace(tzinfo=self.now.tzinfo)


class WallClock(VirtualClock):
    """The console's time in a process that also serves Slack or Feishu (a department in one process): the
    wall clock in `zone`, which `clock` shows and cannot move (the scheduler fires the jobs on time)."""

    moves: ClassVar[bool] = False

    def __init__(self, zone: tzinfo) -> None:  # noqa: D107 - no stored time: it is read on each call
        self.zone = zone

    @property
    def now(self) -> datetime:  # type: ignore[override]
        return datetime.now(self.zone)
