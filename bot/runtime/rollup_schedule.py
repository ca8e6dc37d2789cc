"""The department's roll-up on its own schedule (`department.publish`, in the department's time zone).

Every `zhoubao run` process of a department runs one (a process per team over one database, or several
instances of one): the post happens once because `DepartmentRollup.publish` claims the week's run in
`job_runs` first. On start, and at each fire, the latest fire time within the grace is owed if nobody
claimed it: a roll-up missed while every process was down is posted once on the next start.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
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
        # In memory: the claim in job_runs, not the job store, decides whether a week was posted.
        self.aps = BackgroundScheduler(timezone=self.zone)

    def start(self) -> None:
        self.aps.start()
        self.aps.add_job(self.run_due, trigger=self.trigger, id="zhoubao:rollup", misfire_grace_time=None,
                         coalesce=True, max_instances=1)
        self.aps.add_job(self.run_due, id="zhoubao:rollup:catch-up")  # once, now, off the caller's thread

    def shutdown(self) -> None:
        if self.aps.running:
            self.aps.shutdown(wait=True)

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
