"""Which days are working days for a team, and when its weekly jobs really run.

`calendar: cn` follows China's statutory holidays and make-up workdays (调休) from the
`chinese_calendar` package; `calendar: none` has no holidays, so every job runs when the team file says.

The rules, in one place:
- a prompt or a reminder that falls on a statutory holiday is skipped (ordinary weekends are not
  holidays: a team that asks on Sunday evening keeps asking);
- a publish that falls on a statutory holiday moves to the last workday before it in the same ISO
  week (make-up workdays count), else the first workday after it in that week, else stays put — a
  report is never dropped.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from bot.domain.team import Schedule, WeeklyTime
    from bot.domain.weeks import IsoWeek

log = logging.getLogger("zhoubao.calendar")
CalendarName = Literal["cn", "none"]
JobKind = Literal["prompt", "remind", "publish"]


class WorkCalendar(Protocol):
    name: str

    def is_workday(self, day: date) -> bool: ...

    def is_holiday(self, day: date) -> bool:
        """A statutory day off (not an ordinary weekend)."""
        ...


class NoHolidays:
    """Every day counts; jobs run exactly as scheduled."""

    name = "none"

    def is_workday(self, day: date) -> bool:
        return True

    def is_holiday(self, day: date) -> bool:
        return False


class ChinaCalendar:
    """China's State Council calendar: statutory holidays and 调休 make-up workdays."""

    name = "cn"

    def is_workday(self, day: date) -> bool:
        import chinese_calendar

        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:  # a year the package does not know yet: plain Mon–Fri
            log.warning("no holiday data for %s; treating Mon–Fri as workdays", day.year)
            return day.weekday() < 5

    def is_holiday(self, day: date) -> bool:
        import chinese_calendar

        try:
            off, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            return False
        return bool(off and name)


def calendar_for(name: str) -> WorkCalendar:
    if name == "cn":
        return ChinaCalendar()
    if name == "none":
        return NoHolidays()
    raise ValueError(f"unknown calendar '{name}' (use cn or none)")


def publish_day(cal: WorkCalendar, nominal: date) -> date:
    """The day a report scheduled for `nominal` really goes out."""
    if not cal.is_holiday(nominal):
        return nominal
    monday = nominal - timedelta(days=nominal.weekday())
    before = [monday + timedelta(days=i) for i in range(nominal.weekday())]
    for day in reversed(before):
        if cal.is_workday(day):
            return day
    after = [nominal + timedelta(days=i) for i in range(1, 7 - nominal.weekday())]
    for day in after:
        if cal.is_workday(day):
            return day
    return nominal


def effective(cal: WorkCalendar, kind: JobKind, nominal: datetime) -> datetime | None:
    """When a job nominally due at `nominal` runs; None when it is skipped (a holiday).

    The one rule the scheduler's trigger, the deadline every prompt states and the away span all follow."""
    if kind == "publish":
        day = publish_day(cal, nominal.date())
        return nominal + timedelta(days=(day - nominal.date()).days)
    return None if cal.is_holiday(nominal.date()) else nominal


def nominal_time(when: WeeklyTime, week: IsoWeek, zone: tzinfo) -> datetime:
    """`when` (a weekly time such as `fri 17:00`) in `week`, before the calendar bends it."""
    return datetime.combine(week.day(when.isoweekday), when.at, tzinfo=zone)


def publish_at(schedule: Schedule, week: IsoWeek, zone: tzinfo) -> datetime:
    """When `week`'s report is really published: the team's publish time, moved off a holiday by its calendar
    (what the scheduler fires, and the deadline every prompt, reminder and notice states)."""
    moved = effective(calendar_for(schedule.calendar), "publish", nominal_time(schedule.publish, week, zone))
    assert moved is not None  # a publish is moved, never skipped
    return moved
