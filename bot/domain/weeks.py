"""ISO weeks as the report's unit of time (`2024-W26`), and the window of weeks a team may use.

Every week from 0001-W01 to 9999-W52 can be held and worked with without an error (a label stored
before the window existed must not break a page); the window decides which weeks people may name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

_LABEL = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)
# A week's moments stay a day inside datetime's range, so converting them to any time zone (UTC for
# the database) cannot overflow; only 0001-W01 and 9999-W52 are bent by it.
_FIRST_SAFE_DAY = date.min + timedelta(days=1)
_LAST_SAFE_DAY = date.max - timedelta(days=1)
# How far before the team's first stored week (or today, with nothing stored) a week may be named.
WINDOW_YEARS_BACK = 5


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
        if year < 1:
            raise WeekLabelError(f"'{label}': there is no year 0; years start at 0001")
        last = weeks_in(year)
        if not 1 <= week <= last:
            raise WeekLabelError(f"'{label}': {year} has weeks W01 to W{last:02d}")
        return cls(year, week)

    @classmethod
    def of(cls, day: date | datetime) -> IsoWeek:
        y, w, _ = day.isocalendar()
        return cls(y, w)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-W{self.week:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    def day(self, isoweekday: int) -> date:
        """The week's day (1 = Monday); 9999-W52's last days, past datetime's range, are 9999-12-31."""
        return date.fromordinal(min(self.monday.toordinal() + isoweekday - 1, date.max.toordinal()))

    def start(self, tz: tzinfo) -> datetime:
        """Monday 00:00 in the team's time zone."""
        return _midnight(self.monday.toordinal(), tz)

    def end(self, tz: tzinfo) -> datetime:
        """Next Monday 00:00 in the team's time zone (exclusive)."""
        return _midnight(self.monday.toordinal() + 7, tz)

    def year_start(self, tz: tzinfo) -> datetime:
        """January 1st 00:00 of the year the week's Sunday is in: where a yearly figure (availability)
        counts from."""
        return _midnight(date(self.day(7).year, 1, 1).toordinal(), tz)

    def previous(self) -> IsoWeek:
        """The week before; 0001-W01, the first week there is, is its own previous week."""
        ordinal = self.monday.toordinal() - 7
        return IsoWeek.of(date.fromordinal(ordinal)) if ordinal >= date.min.toordinal() else self

    def next(self) -> IsoWeek:
        """The week after; 9999-W52, the last week there is, is its own next week."""
        ordinal = self.monday.toordinal() + 7
        return IsoWeek.of(date.fromordinal(ordinal)) if ordinal <= date.max.toordinal() else self

    def __str__(self) -> str:
        return self.label


def weeks_in(year: int) -> int:
    """How many ISO weeks `year` has (52 or 53)."""
    return date(year, 12, 28).isocalendar()[1]


def _midnight(ordinal: int, tz: tzinfo) -> datetime:
    day = min(max(ordinal, _FIRST_SAFE_DAY.toordinal()), _LAST_SAFE_DAY.toordinal())
    return datetime.combine(date.fromordinal(day), time(0, 0), tzinfo=tz)


# ----- the window of weeks people may name ------------------------------------------------------


@dataclass(frozen=True)
class WeekWindow:
    """The weeks a team may name, `first` to `last` inclusive."""

    first: IsoWeek
    last: IsoWeek

    def __contains__(self, week: object) -> bool:
        return isinstance(week, IsoWeek) and self.first <= week <= self.last


class WeekOutsideWindow(WeekLabelError):
    """A real ISO week outside the team's window; the caller words it with `window`'s bounds."""

    def __init__(self, week: IsoWeek, window: WeekWindow) -> None:
        self.week, self.window = week, window
        super().__init__(f"{week.label} is outside the weeks this team can use: "
                         f"{window.first.label} to {window.last.label}")


def week_window(first_stored: IsoWeek | None, today: date) -> WeekWindow:
    """From the team's first stored week (today's week when nothing is stored, or when what is stored
    starts later) minus WINDOW_YEARS_BACK years, to the week after the current one."""
    current = IsoWeek.of(today)
    anchor = min(first_stored, current) if first_stored is not None else current
    year = max(anchor.year - WINDOW_YEARS_BACK, 1)
    return WeekWindow(IsoWeek(year, min(anchor.week, weeks_in(year))), current.next())


def check_week_in_window(week: IsoWeek, window: WeekWindow) -> IsoWeek:
    """`week` itself when the window holds it; WeekOutsideWindow otherwise."""
    if week not in window:
        raise WeekOutsideWindow(week, window)
    return week


def parse_week_in_window(label: str, first_stored: IsoWeek | None, today: date) -> IsoWeek:
    """The week `label` names, if it is a real ISO week inside the team's window (see `week_window`).

    Raises WeekLabelError for a label that is not a week, WeekOutsideWindow (a WeekLabelError) for a
    week outside the window. Every entrance that takes a week from people goes through here."""
    return check_week_in_window(IsoWeek.parse(label), week_window(first_stored, today))
