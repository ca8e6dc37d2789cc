"""Claims on scheduled job runs: one row per (team, job, fire time), so each run happens once across instances.

A claim carries a lease. The claimer renews it while it works and marks the row finished at the end;
an unfinished claim whose lease ran out belonged to an instance that died (kill -9, power cut), and
another instance may take it over. Every job is safe to run again after a crash (prompts are recorded
before sending, a report post is recorded and edited in place), so a takeover finishes the work.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.db import transaction
from storage.models import JobRunRow


class JobRuns:
    def __init__(self, db: sessionmaker[Session]) -> None:
        self.db = db

    def claim(self, team_id: int, job_id: str, fire_time: datetime, instance: str, now: datetime,
              lease: timedelta) -> bool:
        """True when this instance now owns the run: a new claim, or a takeover of an expired unfinished one."""
        try:
            with transaction(self.db) as s:
                s.add(JobRunRow(team_id=team_id, job_id=job_id, fire_time=fire_time, instance=instance,
                                claimed_at=now, lease_until=now + lease, attempts=1))
            return True
        except IntegrityError:
            pass  # somebody claimed it first: maybe finished, maybe dead
        return self._take_over(team_id, job_id, fire_time, instance, now, lease)

    def _take_over(self, team_id: int, job_id: str, fire_time: datetime, instance: str, now: datetime,
                   lease: timedelta) -> bool:
        # A compare-and-set: of two instances racing for a dead claim, exactly one updates the row.
        with transaction(self.db) as s:
            result = s.execute(
                update(JobRunRow)
                .where(JobRunRow.team_id == team_id, JobRunRow.job_id == job_id, JobRunRow.fire_time == fire_time,
                       JobRunRow.finished_at.is_(None), JobRunRow.lease_until < now)
                .values(instance=instance, claimed_at=now, lease_until=now + lease,
                        attempts=JobRunRow.attempts + 1)
                .execution_options(synchronize_session=False))
            return result.rowcount == 1  # type: ignore[attr-defined]

    def renew(self, team_id: int, instance: str, now: datetime, lease: timedelta) -> int:
        """Extend every unfinished claim this instance holds; returns how many."""
        with transaction(self.db) as s:
            result = s.execute(
                update(JobRunRow)
                .where(JobRunRow.team_id == team_id, JobRunRow.instance == instance,
                       JobRunRow.finished_at.is_(None))
                .values(lease_until=now + lease)
                .execution_options(synchronize_session=False))
            return int(result.rowcount)  # type: ignore[attr-defined]

    def finish(self, team_id: int, job_id: str, fire_time: datetime, instance: str, now: datetime,
               outcome: str) -> None:
        with transaction(self.db) as s:
            s.execute(
                update(JobRunRow)
                .where(JobRunRow.team_id == team_id, JobRunRow.job_id == job_id, JobRunRow.fire_time == fire_time,
                       JobRunRow.instance == instance)
                .values(finished_at=now, outcome=outcome[:2000])
                .execution_options(synchronize_session=False))

    def release(self, team_id: int, job_id: str, fire_time: datetime, instance: str) -> None:
        """Give a claim back after a failure, so the next recovery pass (here or elsewhere) retries it."""
        with transaction(self.db) as s:
            s.execute(
                update(JobRunRow)
                .where(JobRunRow.team_id == team_id, JobRunRow.job_id == job_id, JobRunRow.fire_time == fire_time,
                       JobRunRow.instance == instance, JobRunRow.finished_at.is_(None))
                .values(lease_until=datetime(1970, 1, 1, tzinfo=fire_time.tzinfo))
                .execution_options(synchronize_session=False))

    def get(self, team_id: int, job_id: str, fire_time: datetime) -> JobRunRow | None:
        with transaction(self.db) as s:
            return s.scalars(select(JobRunRow).where(JobRunRow.team_id == team_id, JobRunRow.job_id == job_id,
                                                     JobRunRow.fire_time == fire_time)).first()

    def unfinished(self, team_id: int, now: datetime) -> list[JobRunRow]:
        """Unfinished claims whose lease has run out: their instance is gone."""
        with transaction(self.db) as s:
            return list(s.scalars(select(JobRunRow).where(
                JobRunRow.team_id == team_id, JobRunRow.finished_at.is_(None), JobRunRow.lease_until < now)
                .order_by(JobRunRow.fire_time)))

    def of_team(self, team_id: int) -> list[JobRunRow]:
        with transaction(self.db) as s:
            return list(s.scalars(select(JobRunRow).where(JobRunRow.team_id == team_id)
                                  .order_by(JobRunRow.fire_time, JobRunRow.job_id)))
