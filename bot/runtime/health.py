"""What /healthz reports: the database, the scheduler and the answer spool, as one JSON-able dict."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from storage.db import DatabaseUnavailable, transaction

if TYPE_CHECKING:
    from bot.runtime.scheduler import Scheduler
    from bot.services.bot import Bot
    from bot.services.spool import AnswerSpool


def health(bot: Bot, scheduler: Scheduler | None = None, spool: AnswerSpool | None = None) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body). 503 only when the scheduler has stopped: with the database down the bot
    still runs (answers are spooled, jobs catch up), so a liveness probe must not restart it —
    `status: degraded` and `database` say what is wrong."""
    try:
        with transaction(bot.ctx.db) as s:
            s.execute(text("SELECT 1"))
        database = "ok"
    except DatabaseUnavailable as exc:
        database = f"unavailable: {exc}"
    sched = scheduler.health() if scheduler is not None else None
    body: dict[str, Any] = {
        "status": "ok" if database == "ok" and (sched is None or sched["running"]) else "degraded",
        "team": bot.ctx.team.team.name,
        "database": database,
        "scheduler": sched,
        "spooled_answers": spool.pending() if spool is not None else 0,
    }
    code = 503 if sched is not None and not sched["running"] else 200
    return code, body
