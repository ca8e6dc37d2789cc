"""What /healthz and /readyz report: liveness (the process and its scheduler) and readiness
(the database answers, the scheduler runs), with the journal's spool depth and backlog for the operator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from storage.db import DatabaseUnavailable, transaction

if TYPE_CHECKING:
    from bot.runtime.scheduler import Scheduler
    from bot.services.journal import InboundJournal

Probe = tuple[int, dict[str, Any]]


@dataclass(frozen=True)
class Health:
    team: str
    db: sessionmaker[Session]
    scheduler: Scheduler | None = None  # None on the console: jobs follow its virtual clock
    journal: InboundJournal | None = None  # None on the console: it handles input as it comes

    def live(self) -> Probe:
        """(status, body) for /healthz: 200 while the process runs and its scheduler thread is alive.

        The database is not checked here: with it down the bot keeps running (answers are spooled,
        jobs catch up), so a liveness probe must not restart it."""
        sched = self.scheduler.health() if self.scheduler is not None else None
        alive = sched is None or sched["running"]
        return (200 if alive else 503), {"status": "ok" if alive else "scheduler stopped", "team": self.team,
                                         "scheduler": sched}

    def spooled(self) -> int:
        """Platform payloads the journal keeps in its spool while the database is away."""
        return self.journal.spooled() if self.journal is not None else 0

    def unprocessed(self) -> int:
        """Platform requests acknowledged but not processed yet (journaled or spooled): a number that
        keeps growing means the worker is stuck or behind."""
        return self.journal.pending() if self.journal is not None else 0

    def ready(self) -> Probe:
        """(status, body) for /readyz: 200 when the database answers and the scheduler runs, else 503."""
        try:
            with transaction(self.db) as s:
                s.execute(text("SELECT 1"))
            database = "ok"
        except DatabaseUnavailable as exc:
            database = f"unavailable: {exc}"
        sched = self.scheduler.health() if self.scheduler is not None else None
        ready = database == "ok" and (sched is None or sched["running"])
        return (200 if ready else 503), {
            "status": "ready" if ready else "not ready",
            "team": self.team,
            "database": database,
            "scheduler": sched,
            "spooled_answers": self.spooled(),
            "unprocessed_requests": self.unprocessed(),
        }
