"""Every behaviour scenario runs on each platform (and, through `database_url`, on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.behaviour.console import ConsoleDriver
from tests.behaviour.driver import Driver
from tests.behaviour.feishu import FeishuDriver
from tests.behaviour.slack import SlackDriver

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2024, 6, 24, 9, 0, tzinfo=SHANGHAI)  # the start of 2024-W26
# slack, feishu: their HTTP endpoints; slack_socket, feishu_ws: the same bots over Socket Mode and the long
# connection (the default deployments).
# Each takes (database_url, start) and, optionally, `team=` (the example team unless told).
PLATFORMS: dict[str, Callable[..., Driver]] = {
    "console": ConsoleDriver,
    "slack": SlackDriver, "slack_socket": lambda url, start, **kw: SlackDriver(url, start, transport="socket", **kw),
    "feishu": FeishuDriver, "feishu_ws": lambda url, start, **kw: FeishuDriver(url, start, transport="ws", **kw)}


@pytest.fixture(params=list(PLATFORMS))
def driver(request: pytest.FixtureRequest, database_url: str) -> Iterator[Driver]:
    d = PLATFORMS[request.param](database_url, MONDAY)
    yield d
    d.close()


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in the week of 2024-06-24, in the team's zone."""
    return datetime(2024, 6, day, hour, minute, tzinfo=SHANGHAI)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "diverges(**platforms): platform=reason for a case that behaves "
                                       "differently there today; it is expected to fail (strictly) on that platform "
                                       "(slack and feishu cover both of their transports)")


@pytest.fixture(autouse=True)
def _divergence(request: pytest.FixtureRequest) -> None:
    """Expect a strict failure on a platform the test's `diverges` marker names (it must still fail)."""
    marker = request.node.get_closest_marker("diverges")
    callspec = getattr(request.node, "callspec", None)
    platform = str(callspec.params.get("driver")) if callspec is not None else ""
    reason = marker.kwargs.get(platform.split("_")[0]) if marker is not None else None
    if reason is not None:
        request.applymarker(pytest.mark.xfail(strict=True, reason=f"{platform}: {reason}"))
