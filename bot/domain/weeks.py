"""ISO weeks as the report's unit of time (`2024-W26`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

_LABEL = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)


class WeekLabelError(ValueError):
    """A week label that is not a real ISO week."""


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def parse(cls, label: str) -> IsoWeek:
        """`2024-W26` -> IsoWeek(2024, 26); raises WeekLabelError with a readable reason."""
        m = _LABEL.match(label or "")
        if not m:
            raise WeekLabelError(f"'{label}' is not a week label; write it like 2024-W26")
        year, week = int(m.group(1)), int(m.group(2))
        last = date(year, 12, 28).isocalendar()[1]
        if not 1 <= week <= last:
            raise WeekLabelError(f"'{label}': {year} has weeks W01 to W{last:02d}")
        return cls(year, week)

    @classmethod
    def of(cls, day: date | datetime) -> IsoWeek:
        y, w, _ = day.isocalendar()
        return cls(y, w)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    def day(self, isoweekday: int) -> date:
        return date.fromisocalendar(self.year, self.week, isoweekday)

    def start(self, tz: tzinfo) -> datetime:
        """Monday 00:00 in the team's time zone."""
        return datetime.combine(self.monday, time(0, 0), tzinfo=tz)

    def end(self, tz: tzinfo) -> datetime:
        """Next Monday 00:00 in the team's time zone (exclusive)."""
        return self.start(tz) + timedelta(days=7)

    def previous(self) -> IsoWeek:
        return IsoWeek.of(self.monday - timedelta(days=7))

    def next(self) -> IsoWeek:
        return IsoWeek.of(self.monday + timedelta(days=7))

    def __str__(self) -> str:
        return self.label
