"""The real-time scheduler: APScheduler jobs in the teams' database, run exactly once across instances.

APScheduler (a `BackgroundScheduler` with a `SQLAlchemyJobStore` in the bot's own database) is the
punctual alarm clock. Whether a run happens is decided by a claim row (`storage/job_runs.py`) keyed by
(team, job id, fire time), so two instances, or a catch-up racing a live fire, run each job once. A process
has one scheduler: one team's jobs, or every team's of a department served in one process (stored as
`t<team id>:<job>`), and the department's roll-up (in memory: its claim says whether it was posted).

On start, and every `recover_every` seconds after, `catch_up` runs what is due and unclaimed (a job
missed while every instance was down, within `misfire_grace`) and takes over runs whose claimer died.
Only fire times after the job's current schedule was first stored count, so a first start or a
changed schedule never fires something from the past.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.exc import SQLAlchemyError

from bot.runtime.jobs import JobSpec, fires_between, job_specs, run_job
from bot.services.metrics import NO_METRICS, Metrics
from storage.job_runs import JobRuns

if TYPE_CHECKING:
    from bot.runtime.rollup_schedule import RollupSchedule
    from bot.services.bot import Bot

log = logging.getLogger("zhoubao.scheduler")
JOB_TABLE = "zhoubao_scheduler_jobs"
ROLLUP_STORE = "memory"
ROLLUP_JOB_ID = "zhoubao:rollup"


def _instance_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class SchedulerOptions:
    misfire_grace: timedelta = timedelta(hours=12)
    lease: timedelta = timedelta(seconds=60)  # an unfinished claim older than this is taken over
    recover_every: float = 30.0  # seconds between catch-up passes (renewals run every lease/3)
    instance: str = field(default_factory=_instance_id)


@dataclass(frozen=True)
class JobState:
    id: str
    next_run: datetime | None
    since: datetime


class TeamJobs:
    """One team's weekly jobs in the scheduler: their specs, when each schedule was stored, their claims."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.runs = JobRuns(bot.ctx.db)
        self.specs = {spec.id: spec for spec in job_specs(bot.ctx.team)}
        self.since: dict[str, datetime] = {}

    @property
    def team_id(self) -> int:
        return self.bot.ctx.team_id

    @property
    def prefix(self) -> str:
        return f"t{self.team_id}:"

    def store_id(self, spec: JobSpec) -> str:
        return f"{self.prefix}{spec.id}"

    def fingerprint(self, spec: JobSpec) -> str:
        """What the job means; a stored job with another fingerprint is stale and replaced."""
        s = self.bot.ctx.team.schedule
        return f"{spec.id} {spec.when} {self.bot.ctx.team.team.timezone} calendar={s.calendar}"

    def due_fire_time(self, spec: JobSpec, now: datetime, grace: timedelta) -> datetime | None:
        """The run `spec` owes at `now`: its latest fire time, if within the grace and under this schedule."""
        last = spec.trigger(self.bot.ctx.team).last_fire_time(now)
        since = self.since.get(spec.id)
        if last is None or since is None or last <= since or now - last > grace:
            return None
        return last


class Scheduler:
    """The process's scheduler: every team's jobs (keyed by team, `t<team id>:<job>`) and, in a department,
    the roll-up's. `start()`, then `shutdown()` (SIGTERM) which lets a running job finish.

    Built for one bot (a team's process), or with `others` for every team one process serves; the methods
    that name no team (`specs`, `store_id`, `fire`, `due_fire_time`) are the first team's."""

    def __init__(self, bot: Bot, options: SchedulerOptions | None = None, metrics: Metrics = NO_METRICS, *,
                 others: Sequence[Bot] = (), rollup: RollupSchedule | None = None) -> None:
        self.bot = bot
        self.options = options or SchedulerOptions()
        self.metrics = metrics
        self.rollup = rollup
        self.teams: dict[int, TeamJobs] = {}
        for b in (bot, *others):
            self.teams.setdefault(b.ctx.team_id, TeamJobs(b))
        self.aps = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=bot.engine, tablename=JOB_TABLE),
                       ROLLUP_STORE: MemoryJobStore()},  # the roll-up's claim, not a stored job, says if it ran
            job_defaults={"misfire_grace_time": int(self.options.misfire_grace.total_seconds()),
                          "coalesce": True, "max_instances": 1},
            timezone=bot.ctx.team.zone)
        # The job store keeps only a text reference to `fire_job` (a live bot cannot be pickled), so the
        # job runs here instead: APScheduler announces each submission to its own scheduler's listeners.
        self._jobs = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zhoubao-jobs")
        self.aps.add_listener(self._submitted, EVENT_JOB_SUBMITTED)
        self._in_flight = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._housekeeper: threading.Thread | None = None
        self.last_error: str | None = None

    # ----- identity (the first team's, for a team's own process) -----------------------------

    @property
    def first(self) -> TeamJobs:
        return self.teams[self.bot.ctx.team_id]

    @property
    def specs(self) -> dict[str, JobSpec]:
        return self.first.specs

    @property
    def team_key(self) -> str:
        return self.bot.ctx.team.team.name

    def store_id(self, spec: JobSpec) -> str:
        return self.first.store_id(spec)

    def fingerprint(self, spec: JobSpec) -> str:
        return self.first.fingerprint(spec)

    # ----- lifecycle ------------------------------------------------------------

    def start(self, *, paused: bool = False, housekeeping: bool = True) -> None:
        """Store the jobs, catch up on anything missed, then fire on time until shut down."""
        self.aps.start(paused=True)
        for team in self.teams.values():
            self._sync(team)
        if self.rollup is not None:
            self.aps.add_job(fire_rollup, trigger=self.rollup.trigger, id=ROLLUP_JOB_ID, jobstore=ROLLUP_STORE,
                             misfire_grace_time=None, replace_existing=True)
        if housekeeping:  # before catching up, so a long catch-up run keeps its lease
            self._housekeeper = threading.Thread(target=self._housekeep, name="zhoubao-housekeeping", daemon=True)
            self._housekeeper.start()
        self.catch_up()
        if not paused:
            self.aps.resume()
        log.info("scheduler started", extra={"instance": self.options.instance, "teams": len(self.teams),
                                             "jobs": sorted(self.specs), "rollup": self.rollup is not None})

    def shutdown(self, wait: bool = True) -> None:
        """Stop firing; with wait, a job already running finishes first (its sends are not cut off)."""
        self._stop.set()
        if self.aps.running:
            self.aps.shutdown(wait=wait)
        self._jobs.shutdown(wait=wait)
        if self._housekeeper is not None:
            self._housekeeper.join(timeout=5)

    def resync(self, team_id: int | None = None) -> dict[str, str]:
        """Re-read one team's jobs (the first's unless named) from the team as it is now (after a reload); a
        changed time replaces its job from now on, so nothing owed under the old schedule fires, and runs
        already made stay made."""
        team = self.teams[team_id if team_id is not None else self.bot.ctx.team_id]
        team.specs = {spec.id: spec for spec in job_specs(team.bot.ctx.team)}
        return self._sync(team) if self.aps.running else {}

    def sync_jobs(self) -> dict[str, str]:
        """Make the first team's stored jobs match its team file (see `_sync`)."""
        return self._sync(self.first)

    def _sync(self, team: TeamJobs) -> dict[str, str]:
        """Make a team's stored jobs match its team file: keep unchanged ones (and their missed runs),
        replace changed ones, remove ones the schedule no longer has. Returns id -> kept|added|replaced|removed."""
        now = team.bot.ctx.now()
        result: dict[str, str] = {}
        wanted = {team.store_id(spec): spec for spec in team.specs.values()}
        for job in self.aps.get_jobs(jobstore="default"):
            if job.id.startswith(team.prefix) and job.id not in wanted:
                self.aps.remove_job(job.id, jobstore="default")
                result[job.id] = "removed"
        for sid, spec in wanted.items():
            existing = self.aps.get_job(sid, jobstore="default")
            if existing is not None and existing.name == team.fingerprint(spec):
                team.since[spec.id] = datetime.fromisoformat(existing.kwargs["since"])
                result[sid] = "kept"
                continue
            self.aps.add_job(fire_job, trigger=spec.trigger(team.bot.ctx.team), id=sid, name=team.fingerprint(spec),
                             kwargs={"team": team.bot.ctx.team.team.name, "spec_id": spec.id,
                                     "since": now.isoformat()},
                             jobstore="default", replace_existing=True)
            team.since[spec.id] = now
            result[sid] = "replaced" if existing is not None else "added"
        log.info("jobs synced", extra={"team": team.bot.ctx.team.team.name, "jobs": result})
        return result

    # ----- running ---------------------------------------------------------------

    def due_fire_time(self, spec: JobSpec, now: datetime) -> datetime | None:
        """The run the first team's `spec` owes at `now` (see `TeamJobs.due_fire_time`)."""
        return self.first.due_fire_time(spec, now, self.options.misfire_grace)

    def fire(self, spec_id: str, fire_time: datetime, team_id: int | None = None) -> str | None:
        """Run one team's job (the first team's unless named) for one fire time if this instance wins the
        claim; returns its account, or None."""
        team = self.teams.get(team_id if team_id is not None else self.bot.ctx.team_id)
        spec = team.specs.get(spec_id) if team is not None else None
        if team is None or spec is None:
            return None
        inst = self.options.instance
        if not team.runs.claim(team.team_id, spec.id, fire_time, inst, team.bot.ctx.now(), self.options.lease):
            return None
        with self._lock:
            self._in_flight += 1
        try:
            outcome = run_job(team.bot, spec, fire_time)
        except Exception as exc:
            self.last_error = f"{spec.id} at {fire_time.isoformat()}: {exc}"
            log.exception("job failed", extra={"job": spec.id, "fire_time": fire_time.isoformat(),
                                               "team": team.bot.ctx.team.team.name})
            self.metrics.job_ran(spec.kind, "failed")
            team.runs.release(team.team_id, spec.id, fire_time, inst)
            return None
        finally:
            with self._lock:
                self._in_flight -= 1
        team.runs.finish(team.team_id, spec.id, fire_time, inst, team.bot.ctx.now(), outcome)
        self.metrics.job_ran(spec.kind, "ok")
        log.info("job ran", extra={"job": spec.id, "fire_time": fire_time.isoformat(), "outcome": outcome,
                                   "instance": inst, "team": team.bot.ctx.team.team.name})
        return outcome

    def fire_due(self, spec_id: str, team_id: int | None = None) -> str | None:
        """What APScheduler calls: run the job for its latest fire time."""
        team = self.teams.get(team_id if team_id is not None else self.bot.ctx.team_id)
        spec = team.specs.get(spec_id) if team is not None else None
        if team is None or spec is None:
            return None
        when = team.due_fire_time(spec, team.bot.ctx.now(), self.options.misfire_grace)
        return self.fire(spec_id, when, team.team_id) if when else None

    def _submitted(self, event: JobSubmissionEvent) -> None:
        """APScheduler's scheduler thread says a job is due: run it on this scheduler's job thread."""
        if self._stop.is_set():
            return
        if event.job_id == ROLLUP_JOB_ID and self.rollup is not None:
            self._jobs.submit(self.rollup.run_due)
            return
        for team in self.teams.values():
            if event.job_id.startswith(team.prefix) and event.job_id[len(team.prefix):] in team.specs:
                self._jobs.submit(self._fire_logged, event.job_id[len(team.prefix):], team.team_id)
                return

    def _fire_logged(self, spec_id: str, team_id: int) -> None:
        try:
            self.fire_due(spec_id, team_id)
        except Exception:  # the claim could not be taken (database away): the catch-up runs it later
            log.exception("job not started", extra={"job": spec_id})

    def catch_up(self, now: datetime | None = None) -> list[str]:
        """Run every owed, unclaimed job of every team (and the roll-up, when owed) and take over runs whose
        claimer died; returns their accounts."""
        done: list[str] = []
        for team in self.teams.values():
            at = now or team.bot.ctx.now()
            for row in team.runs.unfinished(team.team_id, at):
                if row.job_id in team.specs and at - row.fire_time <= self.options.misfire_grace:
                    log.warning("taking over an unfinished run", extra={"job": row.job_id, "from": row.instance})
                    out = self.fire(row.job_id, row.fire_time, team.team_id)
                    if out:
                        done.append(out)
            for spec in team.specs.values():
                when = team.due_fire_time(spec, at, self.options.misfire_grace)
                if when is not None and team.runs.get(team.team_id, spec.id, when) is None:
                    out = self.fire(spec.id, when, team.team_id)
                    if out:
                        done.append(out)
        if self.rollup is not None:
            posted = self.rollup.run_due()
            if posted is not None and posted.posted:
                done.append(f"roll-up {posted.week}: posted")
        return done

    def between(self, after: datetime, until: datetime) -> Iterator[tuple[datetime, str, Callable[[], str]]]:
        """Every job of every team, and the roll-up, with after < fire time <= until, in time order (teams
        in their order at the same time, the roll-up after them): what a virtual clock passing them runs.
        Each run claims its fire time as a live fire does (`fire`), so it runs once."""
        due: list[tuple[datetime, int, str, Callable[[], str]]] = []
        for order, team in enumerate(self.teams.values()):
            for at, spec in fires_between(team.bot.ctx.team, after, until):
                due.append((at, order, spec.kind, functools.partial(self._run_at, spec.id, at, team.team_id)))
        if self.rollup is not None:
            for at in self.rollup.fires_between(after, until):
                due.append((at, len(self.teams), "rollup", functools.partial(self._rollup_at, at)))
        for at, _, kind, run in sorted(due, key=lambda d: (d[0], d[1])):
            yield at, kind, run

    def _run_at(self, spec_id: str, at: datetime, team_id: int) -> str:
        return self.fire(spec_id, at, team_id) or "not run: claimed already"

    def _rollup_at(self, at: datetime) -> str:
        assert self.rollup is not None
        posted = self.rollup.run_due()
        return f"roll-up {posted.week}: {'posted' if posted.posted else 'posted already'}" if posted else \
            f"roll-up at {at.isoformat()}: not owed"

    def _housekeep(self) -> None:
        interval = min(self.options.recover_every, self.options.lease.total_seconds() / 3)
        waited = 0.0
        while not self._stop.wait(interval):
            waited += interval
            try:
                with self._lock:
                    busy = self._in_flight > 0
                if busy:
                    for team in self.teams.values():
                        team.runs.renew(team.team_id, self.options.instance, team.bot.ctx.now(), self.options.lease)
                if waited >= self.options.recover_every:
                    waited = 0.0
                    self.catch_up()
                self.last_error = None
            except Exception as exc:  # the database is down: keep running, try again next round
                self.last_error = f"housekeeping: {exc}"
                log.warning("housekeeping failed", extra={"error": str(exc)})

    # ----- state -------------------------------------------------------------------

    def jobs(self) -> list[JobState]:
        """Each job of every team (the first team's ids bare, the others' as `t<team id>:<job>`) and its next
        run (None when stopped, or while the job store's database is away)."""
        out = []
        for team in self.teams.values():
            for spec in team.specs.values():
                try:
                    job = self.aps.get_job(team.store_id(spec), jobstore="default") if self.aps.running else None
                except SQLAlchemyError:
                    job = None
                name = spec.id if team is self.first else team.store_id(spec)
                out.append(JobState(name, job.next_run_time if job else None,
                                    team.since.get(spec.id, team.bot.ctx.now())))
        return out

    def health(self) -> dict[str, Any]:
        """For /healthz and /readyz (never raises): scheduler running, jobs and their next runs, runs in flight, last error."""
        return {"running": bool(self.aps.running) and not self._stop.is_set(), "instance": self.options.instance,
                "in_flight": self._in_flight, "last_error": self.last_error,
                "jobs": {j.id: j.next_run.isoformat() if j.next_run else None for j in self.jobs()}}


def fire_job(team: str, spec_id: str, since: str) -> None:
    """What the job store names as each job's function. It does nothing: the `Scheduler` that loaded the
    job runs it when APScheduler announces the submission (`Scheduler._submitted`)."""


def fire_rollup() -> None:
    """The roll-up job's function in the memory store; like `fire_job`, the `Scheduler` runs it."""


def options_from_settings(settings: object) -> SchedulerOptions:
    """Options from `Settings` fields `schedule_misfire_grace_hours` and `schedule_lease_seconds` when present."""
    grace = float(getattr(settings, "schedule_misfire_grace_hours", 12.0))
    lease = float(getattr(settings, "schedule_lease_seconds", 60.0))
    return SchedulerOptions(misfire_grace=timedelta(hours=grace), lease=timedelta(seconds=lease))


