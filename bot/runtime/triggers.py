"""The APScheduler trigger that follows a team's work calendar (see `bot.domain.calendar` for the rules)."""

from __future__ import annotations

from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.domain.calendar import JobKind, calendar_for, effective


class WorkdayTrigger(BaseTrigger):
    """A weekly cron trigger bent by the team's calendar (skip holidays, move a holiday publish).

    Picklable, so APScheduler's SQLAlchemy job store can keep it.
    """

    def __init__(self, cron: CronTrigger, kind: JobKind, calendar: str) -> None:
        self.cron, self.kind, self.calendar = cron, kind, calendar

    def __getstate__(self) -> dict[str, object]:
        return {"cron": self.cron, "kind": self.kind, "calendar": self.calendar}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.cron, self.kind, self.calendar = state["cron"], state["kind"], state["calendar"]  # type: ignore[assignment]

    def __str__(self) -> str:
        return f"workday[{self.calendar}]({self.kind}, {self.cron})"

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        # Same contract as CronTrigger: the first fire time >= min(now, previous + 1µs).
        start = now if previous_fire_time is None else min(now, previous_fire_time + timedelta(microseconds=1))
        cal = calendar_for(self.calendar)
        # A moved publish can run up to six days before its nominal time: look back a week.
        nominal = self.cron.get_next_fire_time(None, start - timedelta(days=7))
        for _ in range(60):  # a year of weeks; a trigger that never fires returns None
            if nominal is None:
                return None
            fire = effective(cal, self.kind, nominal)
            if fire is not None and fire >= start and (previous_fire_time is None or fire > previous_fire_time):
                return fire
            nominal = self.cron.get_next_fire_time(nominal, nominal + timedelta(microseconds=1))
        return None

    def last_fire_time(self, now: datetime) -> datetime | None:
        """The latest fire time <= now (within the last five weeks), or None."""
        t = self.get_next_fire_time(None, now - timedelta(days=35))
        last = None
        while t is not None and t <= now:
            last = t
            t = self.get_next_fire_time(t, t + timedelta(microseconds=1))
        return last
