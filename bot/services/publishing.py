"""Publishing by hand is deliberate: what a publish would do (the plan) is shown first, and only a
confirmation naming that week posts it. One rule for every entrance (`/zhoubao publish` in chat, the
dashboard's button): a week that has not started cannot be published; a week with nothing stored and no
earlier post needs a second, explicit confirmation, since every line of its report would read 未更新.

The scheduled publish (`WeeklyCycle.publish_on_schedule`) and a late answer's refresh are not people
pressing a button, so they keep calling `WeeklyCycle.publish` directly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from bot.domain.weeks import IsoWeek
from bot.services.context import Context
from bot.services.cycle import PublishResult, WeeklyCycle
from bot.services.week_report import WeekReport
from storage.db import transaction
from storage.reports import Reports


class Confirmation(Enum):
    """How far the person has confirmed: not at all (show the plan), the week, or also an empty week."""

    NONE = "none"
    WEEK = "week"
    EMPTY = "empty"


class Blocked(Enum):
    NOT_STARTED = "not_started"  # the week begins after now: there is nothing to report
    EMPTY = "empty"  # nothing stored and never posted: needs Confirmation.EMPTY


@dataclass(frozen=True)
class PublishPlan:
    """What publishing `week` now would do, for the confirmation people read before it happens."""

    week: IsoWeek
    first_day: date  # Monday
    last_day: date  # Friday: the working week the report covers
    channel: str
    posted_at: datetime | None  # when the post a republish edits went out; None: a first post
    not_started: bool
    empty: bool  # nothing stored for the week (and nothing posted)

    @property
    def is_edit(self) -> bool:
        return self.posted_at is not None

    def blocked(self, confirmation: Confirmation) -> Blocked | None:
        """Why a publish with `confirmation` may not go ahead (None: it may)."""
        if self.not_started:
            return Blocked.NOT_STARTED
        if self.empty and confirmation is not Confirmation.EMPTY:
            return Blocked.EMPTY
        return None


class PublishNotConfirmed(Exception):
    """The publish did not happen: `blocked` says why, `plan` what it would have done."""

    def __init__(self, plan: PublishPlan, blocked: Blocked | None) -> None:
        self.plan, self.blocked = plan, blocked
        super().__init__(blocked.value if blocked else "not confirmed")


class Publishing:
    """Plan and confirm a publish by hand (chat command, dashboard)."""

    def __init__(self, ctx: Context, week_report: WeekReport, cycle: WeeklyCycle) -> None:
        self.ctx, self.week_report, self.cycle = ctx, week_report, cycle

    def plan(self, week: IsoWeek, at: datetime | None = None) -> PublishPlan:
        """What publishing `week` at `at` (now) would do."""
        at = at or self.ctx.now()
        posted_at = None
        with transaction(self.ctx.db) as s:
            reports = Reports(s)
            row = reports.by_label(self.ctx.team_id, week.label)
            if row is not None:
                posts = reports.posts(row.id, self.ctx.chat.platform)
                posted_at = posts[0].posted_at.astimezone(self.ctx.team.zone) if posts else None
        not_started = week.start(self.ctx.team.zone) > at
        empty = posted_at is None and not not_started and self.week_report.facts(week).is_empty
        return PublishPlan(week, week.day(1), week.day(5), self.ctx.team.team.report_channel, posted_at,
                           not_started, empty)

    def publish(self, week: IsoWeek, confirmation: Confirmation, at: datetime | None = None) -> PublishResult:
        """Publish `week` when `confirmation` is enough for its plan; PublishNotConfirmed otherwise."""
        at = at or self.ctx.now()
        plan = self.plan(week, at)
        blocked = plan.blocked(confirmation)
        if blocked is not None or confirmation is Confirmation.NONE:
            raise PublishNotConfirmed(plan, blocked)
        return self.cycle.publish(week, at)
