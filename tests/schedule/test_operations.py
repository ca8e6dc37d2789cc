"""/healthz state, JSON log lines, and SIGTERM wiring."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime

from bot.runtime.health import Health
from bot.runtime.logs import JsonLines
from bot.runtime.scheduler import Scheduler
from bot.services.bot import Bot
from tests.conftest import SHANGHAI
from tests.fakes import FixedClock
from tests.schedule.conftest import team_with


def test_healthz_reports_database_and_scheduler(make_bot: Callable[..., Bot],
                                                make_scheduler: Callable[..., Scheduler]) -> None:
    bot = make_bot(team_with(), FixedClock(datetime(2024, 6, 24, 9, 0, tzinfo=SHANGHAI)))
    sched = make_scheduler(bot)
    health = Health(bot.ctx.team.team.name, bot.ctx.db, sched)
    code, body = health.ready()
    assert code == 200 and body["database"] == "ok" and body["scheduler"]["running"]
    assert set(body["scheduler"]["jobs"]) == {"zhoubao:prompt", "zhoubao:remind:1", "zhoubao:publish"}
    assert health.live()[0] == 200
    sched.shutdown()
    assert health.ready()[0] == 503
    code, body = health.live()
    assert code == 503 and body["status"] == "scheduler stopped"


def test_log_lines_are_json_with_the_event_fields() -> None:
    record = logging.LogRecord("zhoubao.cycle", logging.ERROR, __file__, 1, "prompt not delivered", None, None)
    record.__dict__.update({"week": "2024-W26", "person": "lina", "platform": "slack"})
    line = json.loads(JsonLines().format(record))
    assert (line["event"], line["week"], line["person"], line["platform"]) == (
        "prompt not delivered", "2024-W26", "lina", "slack")
