"""The real-time scheduler: APScheduler jobs in the team's database, run exactly once across instances.

APScheduler (a `BackgroundScheduler` with a `SQLAlchemyJobStore` in the bot's own database) is the
punctual alarm clock. Whether a run happens is decided by a claim row (`storage/job_runs.py`) keyed by
(team, job id, fire time), so two instances, or a catch-up racing a live fire, run each job once.

On start, and every `recover_every` seconds after, `catch_up` runs what is due and unclaimed (a job
missed while every instance was down, within `misfire_grace`) and takes over runs whose claimer died.
Only fire times after the job's current schedule was first stored count, so a first start or a
changed schedule never fires something from the past.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.exc import SQLAlchemyError

from bot.runtime.jobs import JobSpec, job_specs, run_job
from bot.services.metrics import NO_METRICS, Metrics
from storage.job_runs import JobRuns

if TYPE_CHECKING:
    from bot.services.bot import Bot

log = logging.getLogger("zhoubao.scheduler")
JOB_TABLE = "zhoubao_scheduler_jobs"


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


class Scheduler:
    """One bot's scheduler. `start()`, then `shutdown()` (SIGTERM) which lets a running job finish."""

    def __init__(self, bot: Bot, options: SchedulerOptions | None = None, metrics: Metrics = NO_METRICS) -> None:
        self.bot = bot
        self.options = options or SchedulerOptions()
        self.metrics = metrics
        self.runs = JobRuns(bot.ctx.db)
        self.specs = {spec.id: spec for spec in job_specs(bot.ctx.team)}
        self.aps = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=bot.engine, tablename=JOB_TABLE)},
            job_defaults={"misfire_grace_time": int(self.options.misfire_grace.total_seconds()),
                          "coalesce": True, "max_instances": 1},
            timezone=bot.ctx.team.zone)
        # The job store keeps only a text reference to `fire_job` (a live bot cannot be pickled), so the
        # job runs here instead: APScheduler announces each submission to its own scheduler's listeners.
        self._jobs = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zhoubao-jobs")
        self.aps.add_listener(self._submitted, EVENT_JOB_SUBMITTED)
        self._since: dict[str, datetime] = {}
        self._in_flight = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._housekeeper: threading.Thread | None = None
        self.last_error: str | None = None

    # ----- identity -----------------------------------------------------------

    @property
    def team_key(self) -> str:
        return self.bot.ctx.team.team.name

    def store_id(self, spec: JobSpec) -> str:
        return f"t{self.bot.ctx.team_id}:{spec.id}"

    def fingerprint(self, spec: JobSpec) -> str:
        """What the job means; a stored job with another fingerprint is stale and replaced."""
        s = self.bot.ctx.team.schedule
        return f"{spec.id} {spec.when} {self.bot.ctx.team.team.timezone} calendar={s.calendar}"

    # ----- lifecycle ------------------------------------------------------------

    def start(self, *, paused: bool = False, housekeeping: bool = True) -> None:
        """Store the jobs, catch up on anything missed, then fire on time until shut down."""
        self.aps.start(paused=True)
        self.sync_jobs()
        if housekeeping:  # before catching up, so a long catch-up run keeps its lease
            self._housekeeper = threading.Thread(target=self._housekeep, name="zhoubao-housekeeping", daemon=True)
            self._housekeeper.start()
        self.catch_up()
        if not paused:
            self.aps.resume()
        log.info("scheduler started", extra={"instance": self.options.instance, "jobs": sorted(self.specs)})

    def shutdown(self, wait: bool = True) -> None:
        """Stop firing; with wait, a job already running finishes first (its sends are not cut off)."""
        self._stop.set()
        if self.aps.running:
            self.aps.shutdown(wait=wait)
        self._jobs.shutdown(wait=wait)
        if self._housekeeper is not None:
            self._housekeeper.join(timeout=5)

    def resync(self) -> dict[str, str]:
        """Re-read the jobs from the team as it is now (after a reload); a changed time replaces its job from
        now on, so nothing owed under the old schedule fires, and runs already made stay made."""
        self.specs = {spec.id: spec for spec in job_specs(self.bot.ctx.team)}
        return self.sync_jobs() if self.aps.running else {}

    def sync_jobs(self) -> dict[str, str]:
        """Make the stored jobs match the team file: keep unchanged ones (and their missed runs),
        replace changed ones, remove ones the schedule no longer has. Returns id -> kept|added|replaced|removed."""
        now = self.bot.ctx.now()
        result: dict[str, str] = {}
        prefix = f"t{self.bot.ctx.team_id}:"
        wanted = {self.store_id(spec): spec for spec in self.specs.values()}
        for job in self.aps.get_jobs(jobstore="default"):
            if job.id.startswith(prefix) and job.id not in wanted:
                self.aps.remove_job(job.id, jobstore="default")
                result[job.id] = "removed"
        for sid, spec in wanted.items():
            existing = self.aps.get_job(sid, jobstore="default")
            if existing is not None and existing.name == self.fingerprint(spec):
                self._since[spec.id] = datetime.fromisoformat(existing.kwargs["since"])
                result[sid] = "kept"
                continue
            self.aps.add_job(fire_job, trigger=spec.trigger(self.bot.ctx.team), id=sid, name=self.fingerprint(spec),
                             kwargs={"team": self.team_key, "spec_id": spec.id, "since": now.isoformat()},
                             jobstore="default", replace_existing=True)
            self._since[spec.id] = now
            result[sid] = "replaced" if existing is not None else "added"
        log.info("jobs synced", extra={"jobs": result})
        return result

    # ----- running ---------------------------------------------------------------

    def due_fire_time(self, spec: JobSpec, now: datetime) -> datetime | None:
        """The run `spec` owes at `now`: its latest fire time, if within the grace and under this schedule."""
        last = spec.trigger(self.bot.ctx.team).last_fire_time(now)
        since = self._since.get(spec.id)
        if last is None or since is None or last <= since or now - last > self.options.misfire_grace:
            return None
        return last

    def fire(self, spec_id: str, fire_time: datetime) -> str | None:
        """Run one job for one fire time if this instance wins the claim; returns its account, or None."""
        spec = self.specs.get(spec_id)
        if spec is None:
            return None
        team_id, inst = self.bot.ctx.team_id, self.options.instance
        if not self.runs.claim(team_id, spec.id, fire_time, inst, self.bot.ctx.now(), self.options.lease):
            return None
        with self._lock:
            self._in_flight += 1
        try:
            outcome = run_job(self.bot, spec, fire_time)
        except Exception as exc:
            self.last_error = f"{spec.id} at {fire_time.isoformat()}: {exc}"
            log.exception("job failed", extra={"job": spec.id, "fire_time": fire_time.isoformat()})
            self.metrics.job_ran(spec.kind, "failed")
            self.runs.release(team_id, spec.id, fire_time, inst)
            return None
        finally:
            with self._lock:
                self._in_flight -= 1
        self.runs.finish(team_id, spec.id, fire_time, inst, self.bot.ctx.now(), outcome)
        self.metrics.job_ran(spec.kind, "ok")
        log.info("job ran", extra={"job": spec.id, "fire_time": fire_time.isoformat(), "outcome": outcome,
                                   "instance": inst})
        return outcome

    def fire_due(self, spec_id: str) -> str | None:
        """What APScheduler calls: run the job for its latest fire time."""
        spec = self.specs.get(spec_id)
        when = self.due_fire_time(spec, self.bot.ctx.now()) if spec else None
        return self.fire(spec_id, when) if when else None

    def _submitted(self, event: JobSubmissionEvent) -> None:
        """APScheduler's scheduler thread says a stored job is due: run it on this scheduler's job thread."""
        prefix = f"t{self.bot.ctx.team_id}:"
        spec_id = event.job_id[len(prefix):] if event.job_id.startswith(prefix) else None
        if spec_id in self.specs and not self._stop.is_set():
            self._jobs.submit(self._fire_logged, spec_id)

    def _fire_logged(self, spec_id: str) -> None:
        try:
            self.fire_due(spec_id)
        except Exception:  # the claim could not be taken (database away): the catch-up runs it later
            log.exception("job not started", extra={"job": spec_id})

    def catch_up(self, now: datetime | None = None) -> list[str]:
        """Run every owed, unclaimed job and take over runs whose claimer died; returns their accounts."""
        now = now or self.bot.ctx.now()
        done: list[str] = []
        for row in self.runs.unfinished(self.bot.ctx.team_id, now):
            if row.job_id in self.specs and now - row.fire_time <= self.options.misfire_grace:
                log.warning("taking over an unfinished run", extra={"job": row.job_id, "from": row.instance})
                out = self.fire(row.job_id, row.fire_time)
                if out:
                    done.append(out)
        for spec in self.specs.values():
            when = self.due_fire_time(spec, now)
            if when is not None and self.runs.get(self.bot.ctx.team_id, spec.id, when) is None:
                out = self.fire(spec.id, when)
                if out:
                    done.append(out)
        return done

    def _housekeep(self) -> None:
        interval = min(self.options.recover_every, self.options.lease.total_seconds() / 3)
        waited = 0.0
        while not self._stop.wait(interval):
            waited += interval
            try:
                with self._lock:
                    busy = self._in_flight > 0
                if busy:
                    self.runs.renew(self.bot.ctx.team_id, self.options.instance, self.bot.ctx.now(),
                                    self.options.lease)
                if waited >= self.options.recover_every:
                    waited = 0.0
                    self.catch_up()
                self.last_error = None
            except Exception as exc:  # the database is down: keep running, try again next round
                self.last_error = f"housekeeping: {exc}"
                log.warning("housekeeping failed", extra={"error": str(exc)})

    # ----- state -------------------------------------------------------------------

    def jobs(self) -> list[JobState]:
        """Each job and its next run (None when stopped, or while the job store's database is away)."""
        out = []
        for spec in self.specs.values():
            try:
                job = self.aps.get_job(self.store_id(spec), jobstore="default") if self.aps.running else None
            except SQLAlchemyError:
                job = None
            out.append(JobState(spec.id, job.next_run_time if job else None,
                                self._since.get(spec.id, self.bot.ctx.now())))
        return out

    def health(self) -> dict[str, Any]:
        """For /healthz and /readyz (never raises): scheduler running, jobs and their next runs, runs in flight, last error."""
        return {"running": bool(self.aps.running) and not self._stop.is_set(), "instance": self.options.instance,
                "in_flight": self._in_flight, "last_error": self.last_error,
                "jobs": {j.id: j.next_run.isoformat() if j.next_run else None for j in self.jobs()}}


def fire_job(team: str, spec_id: str, since: str) -> None:
    """What the job store names as each job's function. It does nothing: the `Scheduler` that loaded the
    job runs it when APScheduler announces the submission (`Scheduler._submitted`)."""


def options_from_settings(settings: object) -> SchedulerOptions:
    """Options from `Settings` fields `schedule_misfire_grace_hours` and `schedule_lease_seconds` when present."""
    grace = float(getattr(settings, "schedule_misfire_grace_hours", 12.0))
    lease = float(getattr(settings, "schedule_lease_seconds", 60.0))
    return SchedulerOptions(misfire_grace=timedelta(hours=grace), lease=timedelta(seconds=lease))


