"""What /healthz and /readyz report: liveness (the process and its scheduler) and readiness
(the database answers, the scheduler runs, the platform connection is open when events come over one). /readyz is anonymous, so it names only the state of each
component; why a component is down (a database error names host, port and database) goes to the log."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from storage.db import DatabaseUnavailable, transaction

if TYPE_CHECKING:
    from bot.runtime.scheduler import Scheduler
    from bot.services.journal import InboundJournal

log = logging.getLogger("zhoubao.health")

Probe = tuple[int, dict[str, Any]]


@dataclass(frozen=True)
class Health:
    team: str
    db: sessionmaker[Session]
    scheduler: Scheduler | None = None  # None on the console: jobs follow its virtual clock
    journal: InboundJournal | None = None  # None on the console: it handles input as it comes
    # Whether the platform connection (Socket Mode, the Feishu long connection) is open; None when events
    # arrive over HTTP or on the console, where there is no connection to lose.
    connection: Callable[[], bool] | None = None

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
        """(status, body) for /readyz: 200 when the database answers, the scheduler runs and the platform
        connection (if events come over one) is open, else 503.

        The body says only ready or not and each component's state (`ok`, `unavailable`, `stopped`,
        `disconnected`);
        the reason a component is down is logged, never answered (the caller is anonymous)."""
        try:
            with transaction(self.db) as s:
                s.execute(text("SELECT 1"))
            database = "ok"
        except DatabaseUnavailable as exc:
            log.warning("not ready: database unavailable", extra={"reason": str(exc)})
            database = "unavailable"
        components = {"database": database}
        if self.scheduler is not None:
            sched = self.scheduler.health()
            components["scheduler"] = "ok" if sched["running"] else "stopped"
            if not sched["running"]:
                log.warning("not ready: scheduler stopped", extra={"reason": str(sched.get("last_error") or "")})
        if self.connection is not None:
            # A platform that cannot be reached: no event arrives, though everything else is up.
            components["platform"] = "ok" if self.connection() else "disconnected"
            if components["platform"] != "ok":
                log.warning("not ready: platform connection down")
        ready = all(state == "ok" for state in components.values())
        return (200 if ready else 503), {"status": "ready" if ready else "not ready", **components}
