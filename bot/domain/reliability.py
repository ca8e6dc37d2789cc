"""Error budgets: a system's availability over a rolling window against its objective (issue 23).

Pure arithmetic over outages. Downtime is the union of the outages' intervals clipped to the window, so
two incidents on one system that overlap are counted once, and an outage that began before the window
counts only from the window's start (one that runs past its end, only up to it). As with the report's
`source: availability` metric, only recovered outages that count toward availability are outages: an
incident still going on has no length yet.

The SRE workbook's error-budget policy (a rolling four-week window; 99.9 % over 30 days is 43.2 minutes)
is where the defaults come from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

OWN = "own"  # the cause class whose spend the team must answer for with reliability work


@dataclass(frozen=True)
class Outage:
    """One incident's downtime on one system, as the budget sees it."""

    started_at: datetime  # aware
    recovered_at: datetime | None  # None: still going on, not counted
    cause: str = ""  # cause class id (`own`, `bank`, …); "" when nobody said


@dataclass(frozen=True)
class Budget:
    """A system's error budget over `[start, end)`."""

    objective: Decimal  # percent, e.g. 99.95
    start: datetime
    end: datetime
    downtime: timedelta  # the union of outages in the window
    own_downtime: timedelta  # the union of outages of cause `own` in the window

    @property
    def window(self) -> timedelta:
        return self.end - self.start

    @property
    def allowed(self) -> timedelta:
        """The whole budget: the window's length times the share allowed to be down."""
        seconds = Decimal(self.window.total_seconds()) * (100 - self.objective) / 100
        return timedelta(seconds=float(seconds))

    @property
    def left(self) -> timedelta:
        """What is left of the budget; negative once it is overspent."""
        return self.allowed - self.downtime

    @property
    def spent(self) -> bool:
        """Whether the budget is used up (an objective of 100 % has none to spend)."""
        return self.downtime >= self.allowed

    @property
    def availability(self) -> Decimal:
        """Measured availability over the window, in percent (exact; round with `floor_percent`)."""
        total = Decimal(str(self.window.total_seconds()))
        if total <= 0:
            return Decimal(100)
        down = min(Decimal(str(self.downtime.total_seconds())), total)
        return (1 - down / total) * 100

    @property
    def left_share(self) -> Decimal:
        """Share of the budget left, in percent, between 0 and 100 (floored to whole percent)."""
        allowed = self.allowed.total_seconds()
        if allowed <= 0:
            return Decimal(0)
        share = Decimal(str(max(0.0, self.left.total_seconds()))) / Decimal(str(allowed)) * 100
        return share.quantize(Decimal(1), rounding=ROUND_FLOOR)

    @property
    def own_share_of_spend(self) -> Decimal:
        """How much of the downtime was the team's own cause, in whole percent (0 with no downtime)."""
        if not self.downtime:
            return Decimal(0)
        share = Decimal(str(self.own_downtime.total_seconds())) / Decimal(str(self.downtime.total_seconds())) * 100
        return share.quantize(Decimal(1), rounding=ROUND_HALF_UP)


def merged_downtime(outages: Iterable[Outage], start: datetime, end: datetime) -> timedelta:
    """The length of the union of the recovered outages' intervals, clipped to `[start, end)`."""
    spans = sorted((max(o.started_at, start), min(o.recovered_at, end)) for o in outages
                   if o.recovered_at is not None and o.recovered_at > start and o.started_at < end)
    total = timedelta(0)
    current: tuple[datetime, datetime] | None = None
    for a, b in spans:
        if b <= a:
            continue
        if current is None or a > current[1]:
            if current is not None:
                total += current[1] - current[0]
            current = (a, b)
        else:
            current = (current[0], max(current[1], b))
    if current is not None:
        total += current[1] - current[0]
    return total


def budget(objective: Decimal, end: datetime, window: timedelta, outages: Sequence[Outage]) -> Budget:
    """The budget of a system with `objective` (percent) over the `window` that ends at `end`."""
    start = end - window
    return Budget(objective=objective, start=start, end=end,
                  downtime=merged_downtime(outages, start, end),
                  own_downtime=merged_downtime([o for o in outages if o.cause == OWN], start, end))


def floor_percent(value: Decimal, digits: int) -> str:
    """`value` floored to `digits` decimals: 99.9996 must not read as 100."""
    return str(value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_FLOOR))


def whole_minutes(delta: timedelta) -> int:
    """A duration in minutes, rounded half up (43.2 -> 43), never below 0."""
    minutes = Decimal(str(max(0.0, delta.total_seconds()))) / 60
    return int(minutes.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# ----- cause classes: what `归因：` / `attribution:` names ------------------------------------------


@dataclass(frozen=True)
class CauseClass:
    """One class of cause: `own`, `bank`, … with the words people type for it (`name` is shown)."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Attribution:
    """Whose cause an incident was: a class id, and for `bank` the bank's team-file name if given."""

    cause: str
    bank: str = ""


BANK = "bank"


class UnknownCause(ValueError):
    """A `归因` value that names no configured cause class (or a bank that is not in the team file)."""

    def __init__(self, value: str, known: str) -> None:
        self.value = value
        self.known = known
        super().__init__(value)


_SPLIT = re.compile(r"[\s/／,，、()（）]+")


@dataclass(frozen=True)
class CauseBook:
    """The team's cause classes and banks, to read a `归因` value and to name a class in the report."""

    classes: tuple[CauseClass, ...]
    banks: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (name, aliases) of each bank in the team file

    def _class(self, word: str) -> CauseClass | None:
        wanted = word.casefold()
        return next((c for c in self.classes if wanted in (w.casefold() for w in (c.id, c.name, *c.aliases))), None)

    def _bank(self, word: str) -> str | None:
        wanted = word.casefold()
        return next((name for name, aliases in self.banks
                     if wanted in (w.casefold() for w in (name, *aliases))), None)

    def read(self, value: str) -> Attribution:
        """`银行`, `招行`, `银行 招行`, `bank/CMB`, `自身` as an Attribution; UnknownCause otherwise (a bank
        named with any class but `bank` included)."""
        text = value.strip()
        whole = self._class(text) or None
        if whole is not None:
            return Attribution(whole.id)
        if (bank := self._bank(text)) is not None and self._class(BANK) is not None:
            return Attribution(BANK, bank)
        words = [w for w in _SPLIT.split(text) if w]
        if len(words) == 2:
            cls, bank = self._class(words[0]), self._bank(words[1])
            if cls is not None and cls.id == BANK and bank is not None:
                return Attribution(BANK, bank)
        raise UnknownCause(text, ", ".join(c.name for c in self.classes))

    def name(self, cause: str) -> str:
        """The shown name of class `cause` (its id if the team file no longer lists it)."""
        return next((c.name for c in self.classes if c.id == cause), cause)
