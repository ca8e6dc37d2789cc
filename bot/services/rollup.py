"""The department's roll-up as a use case: compile it from the teams' published reports, render it, and
post it to the department channel once, however many instances run the department's schedule."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.department import Department
from bot.domain.rollup import Rollup, TeamWeek, compose_rollup
from bot.domain.weeks import IsoWeek
from bot.services.bot import Bot
from bot.services.chat import ChatPort
from bot.text.render import Renderer, RollupFormat
from storage.db import transaction
from storage.job_runs import JobRuns
from storage.reports import Reports

log = logging.getLogger("zhoubao.rollup")

ROLLUP_JOB = "zhoubao:rollup"
LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class RollupPost:
    week: str
    posted: bool  # False: another run (or instance) already posted this week's roll-up
    text: str


class DepartmentRollup:
    """The roll-up of `department` over its teams' bots (in the department file's order)."""

    def __init__(self, department: Department, bots: Sequence[Bot], chat: ChatPort, renderer: Renderer,
                 instance: str) -> None:
        if department.info is None:
            raise ValueError("a single team has no roll-up; name its teams in a department file")
        if [b.ctx.team.team.name for b in bots] != list(department.team_names):
            raise ValueError("the roll-up needs one bot per team of the department, in its order")
        self.department = department
        self.info = department.info
        self.bots = tuple(bots)
        self.chat = chat
        self.renderer = renderer
        self.instance = instance

    def compile(self, week: IsoWeek, at: datetime) -> Rollup:
        """The roll-up of `week` as of `at`: each team's report as it published it (compiled with its
        publish time); a team that has not published is named as such."""
        teams = []
        for bot in self.bots:
            with transaction(bot.ctx.db) as s:
                row = Reports(s).by_label(bot.ctx.team_id, week.label)
                published_at = row.published_at if row else None
            if published_at is None:
                teams.append(TeamWeek(bot.ctx.team.team.name, None))
                continue
            shown_at = published_at.astimezone(bot.ctx.team.zone)
            teams.append(TeamWeek(bot.ctx.team.team.name, bot.week_report.compile(week, shown_at), shown_at))
        return compose_rollup(self.info.name, week.label, self.info.locale, at.astimezone(self.department.zone), teams)

    def render(self, week: IsoWeek, at: datetime, fmt: RollupFormat = "md") -> str:
        """The roll-up of `week` as the teams' stored reports stand at `at`; it reads as created at the
        department's publish time once that has passed (as posted), else at `at`."""
        return self.renderer.rollup(self.compile(week, min(at, self.fire_time(week))), fmt)

    def fire_time(self, week: IsoWeek) -> datetime:
        """When the department's schedule publishes `week`'s roll-up (the department's zone)."""
        when = self.info.publish
        return datetime.combine(week.day(when.isoweekday), when.at, tzinfo=self.department.zone)

    def publish(self, week: IsoWeek, at: datetime) -> RollupPost:
        """Post `week`'s roll-up to the department channel, unless it was posted already: the run is
        claimed (`job_runs`, keyed by the department's first team, the job and the week's fire time), so
        several instances, or a retry after success, post it once."""
        runs = JobRuns(self.bots[0].ctx.db)
        team_id, fire = self.bots[0].ctx.team_id, self.fire_time(week)
        if not runs.claim(team_id, ROLLUP_JOB, fire, self.instance, at, LEASE):
            return RollupPost(week.label, False, "")
        try:
            text = self.render(week, at, "text")
            self.chat.post_text(self.info.report_channel, text)
        except Exception:
            runs.release(team_id, ROLLUP_JOB, fire, self.instance)  # the next run tries again
            raise
        runs.finish(team_id, ROLLUP_JOB, fire, self.instance, at, f"posted {week.label}")
        log.info("roll-up posted", extra={"week": week.label})
        return RollupPost(week.label, True, text)
