"""The team's weekly jobs as APScheduler cron triggers, and running a due job against the bot."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from apscheduler.triggers.cron import CronTrigger

from bot.domain.team import Team, WeeklyTime
from bot.runtime.triggers import WorkdayTrigger

if TYPE_CHECKING:
    from bot.services.bot import Bot

log = logging.getLogger("zhoubao.schedule")


@dataclass(frozen=True)
class JobSpec:
    id: str  # stable: the same schedule gives the same ids after a restart
    kind: Literal["prompt", "remind", "publish"]
    when: WeeklyTime
    number: int = 0

    def cron(self, team: Team) -> CronTrigger:
        """The nominal weekly time, ignoring holidays."""
        return CronTrigger(day_of_week=self.when.day, hour=self.when.at.hour,
                           minute=self.when.at.minute, timezone=team.zone)

    def trigger(self, team: Team) -> WorkdayTrigger:
        """The weekly time bent by the team's calendar: holidays skip prompts and move the publish."""
        return WorkdayTrigger(self.cron(team), self.kind, team.schedule.calendar)


def job_specs(team: Team) -> list[JobSpec]:
    s = team.schedule
    specs = [JobSpec("zhoubao:prompt", "prompt", s.prompt)]
    specs += [JobSpec(f"zhoubao:remind:{n}", "remind", w, n) for n, w in enumerate(s.remind, start=1)]
    specs.append(JobSpec("zhoubao:publish", "publish", s.publish))
    return specs


def fires_between(team: Team, after: datetime, until: datetime) -> Iterator[tuple[datetime, JobSpec]]:
    """Every (fire time, job) with after < fire time <= until, in time order."""
    due: list[tuple[datetime, int, JobSpec]] = []
    for order, spec in enumerate(job_specs(team)):
        trigger = spec.trigger(team)
        t = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
        while t is not None and t <= until:
            due.append((t, order, spec))
            t = trigger.get_next_fire_time(t, t + timedelta(microseconds=1))
    for t, _, spec in sorted(due, key=lambda x: (x[0], x[1])):
        yield t, spec


def run_job(bot: Bot, spec: JobSpec, at: datetime) -> str:
    """Run one job as of `at`; returns a one-line account of what it did."""
    if spec.kind == "prompt":
        n = bot.cycle.send_prompts("prompt", at)
        return f"prompt: {n} sent"
    if spec.kind == "remind":
        n = bot.cycle.remind(spec.number, at)
        return f"remind {spec.number}: {n} sent"
    result = bot.cycle.publish_on_schedule(at=at)
    if result is None:
        return "publish: skipped, no prompt went out this week (the editors were told)"
    return f"publish {result.week}: {'updated' if result.updated else 'posted'}"


class DueJobs:
    """The team's jobs as a virtual clock passes them (the console's `clock` command)."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def between(self, after: datetime, until: datetime) -> Iterator[tuple[datetime, str, Callable[[], str]]]:
        for at, spec in fires_between(self.bot.ctx.team, after, until):
            yield at, spec.kind, functools.partial(run_job, self.bot, spec, at)
