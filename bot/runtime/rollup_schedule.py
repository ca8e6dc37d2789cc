"""The department's roll-up on its own schedule (`department.publish`, in the department's time zone).

Every `zhoubao run` process of a department holds one in its scheduler (`Scheduler(rollup=…)`: a process
per team over one database, one process for every team, or several instances of either): the post happens
once because `DepartmentRollup.publish` claims the week's run in `job_runs` first. On start, at each fire
and at each catch-up pass, the latest fire time within the grace is owed if nobody claimed it: a roll-up
missed while every process was down is posted once on the next start.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from bot.domain.weeks import IsoWeek
from bot.services.context import Clock
from bot.services.rollup import DepartmentRollup, RollupPost

log = logging.getLogger("zhoubao.rollup")


class RollupSchedule:
    def __init__(self, rollup: DepartmentRollup, clock: Clock, grace: timedelta = timedelta(hours=12)) -> None:
        self.rollup = rollup
        self.clock = clock
        self.grace = grace
        self.zone = rollup.department.zone
        when = rollup.info.publish
        self.trigger = CronTrigger(day_of_week=when.day, hour=when.at.hour, minute=when.at.minute, timezone=self.zone)

    def fires_between(self, after: datetime, until: datetime) -> Iterator[datetime]:
        """The roll-up's fire times with after < fire time <= until."""
        t = self.trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
        while t is not None and t <= until:
            yield t
            t = self.trigger.get_next_fire_time(t, t + timedelta(microseconds=1))

    def owed(self, now: datetime) -> IsoWeek | None:
        """The week whose roll-up is due at `now`: its fire time has passed, by less than the grace."""
        now = now.astimezone(self.zone)
        week = IsoWeek.of(now)
        fire = self.rollup.fire_time(week)
        if fire > now:
            week = week.previous()
            fire = self.rollup.fire_time(week)
        return week if now - fire <= self.grace else None

    def run_due(self) -> RollupPost | None:
        """Post the roll-up owed now, unless another run or instance did; never raises (the next fire or
        start tries again: a failed post releases its claim)."""
        now = self.clock()
        week = self.owed(now)
        if week is None:
            return None
        try:
            return self.rollup.publish(week, now)
        except Exception:
            log.exception("roll-up not posted", extra={"week": week.label})
            return None
