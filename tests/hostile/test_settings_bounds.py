"""Numeric settings are checked against their bounds when the bot starts (issue 20 item 15):
`SCHEDULE_MISFIRE_GRACE_HOURS=0` was allowed and then stopped the bot with a TypeError from APScheduler."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.runtime.doctor import settings_problems
from bot.runtime.scheduler import Scheduler, options_from_settings
from bot.runtime.settings import Settings
from tests.fakes import FakeChat, FixedClock
from tests.helpers import make_bot


def settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for var in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "FEISHU_APP_ID", "FEISHU_APP_SECRET"):
        monkeypatch.delenv(var, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.mark.parametrize(("name", "value", "says"), [
    ("SCHEDULE_MISFIRE_GRACE_HOURS", "0", "must be from 0.1 to 168 hours; 0 is outside that range"),
    ("SCHEDULE_MISFIRE_GRACE_HOURS", "-1", "must be from 0.1 to 168 hours"),
    ("SCHEDULE_MISFIRE_GRACE_HOURS", "0.0001", "must be from 0.1 to 168 hours"),
    ("SCHEDULE_MISFIRE_GRACE_HOURS", "1e9", "must be from 0.1 to 168 hours"),
    ("SCHEDULE_MISFIRE_GRACE_HOURS", "nan", "must be from 0.1 to 168 hours"),
    ("SCHEDULE_LEASE_SECONDS", "0.001", "must be from 1 to 3600 seconds"),
    ("SCHEDULE_LEASE_SECONDS", "inf", "must be from 1 to 3600 seconds"),
    ("PORT", "0", "greater than or equal to 1"),
    ("PORT", "70000", "less than or equal to 65535"),
])
def test_a_setting_outside_its_bounds_is_refused_naming_the_range(monkeypatch: pytest.MonkeyPatch, name: str,
                                                                   value: str, says: str) -> None:
    with pytest.raises(ValidationError) as caught:
        settings(monkeypatch, **{name: value})
    problems = settings_problems(caught.value)
    assert len(problems) == 1 and name in problems[0] and says in problems[0], problems


@pytest.mark.parametrize("grace", ["0.1", "168", "12"])
def test_every_grace_allowed_starts_the_scheduler(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                  chat: FakeChat, clock: FixedClock, grace: str) -> None:
    options = options_from_settings(settings(monkeypatch, SCHEDULE_MISFIRE_GRACE_HOURS=grace))
    sched = Scheduler(make_bot(f"sqlite:///{tmp_path / 's.db'}", chat, clock), options)
    sched.start(paused=True, housekeeping=False)  # APScheduler refused a grace under a second here
    try:
        assert sched.health()["running"]
    finally:
        sched.shutdown(wait=False)
