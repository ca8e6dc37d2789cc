"""A department of the example's three teams served by one dashboard on loopback (issue 25)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from bot.adapters.console.demo import EXAMPLE_DEPARTMENT
from bot.adapters.web import DashboardConfig, DepartmentWeb, build_department_dashboard
from bot.domain.department import Department
from bot.runtime.composition import DepartmentBots, build_department
from bot.runtime.dashboard import sign_in_link
from bot.runtime.team_file import load_department
from bot.services.chat import Inbound
from tests.conftest import SHANGHAI, migrated_sqlite
from tests.fakes import FakeChat, FixedClock
from tests.web.conftest import SECRET
from tests.web.live import LiveServer

DIRECTOR = "zhangwei@example.com"  # 收单技术组's editor, named a director of the department by email


@dataclass
class DepartmentSite:
    department: Department
    built: DepartmentBots
    url: str
    config: DashboardConfig

    def link(self, team: str, who: str) -> str:
        return sign_in_link(self.built.bot(team).ctx, self.config, who, team_key=team)[0]


def at(day: int, hour: int) -> datetime:
    return datetime(2024, 6, day, hour, 0, tzinfo=SHANGHAI)


def week_of_three_teams(built: DepartmentBots, clock: FixedClock) -> None:
    """One week (2024-W26): acquiring and crossborder answer and publish on Friday; settlement does not publish."""
    clock.now = at(27, 10)
    for bot in built.bots:
        assert bot.cycle.send_prompts("prompt", at(27, 10)) > 0
    for team, user, text in (
            ("acquiring", "chenjing", "本周完成差距分析，整体进度 45%\n主要问题：密钥轮换流程的留痕方案未定"),
            ("acquiring", "sunli", "年度可用性：99.997%"),
            ("settlement", "zhengshuang", "清算准时率：99.95%"),
            ("settlement", "wutao", "对账：自动对账上线，整体进度 60%"),
            ("crossborder", "carol", "Yearly availability: 99.98%")):
        built.bot(team).inbox.receive(Inbound("fake", user, f"{team}-{user}", text, at(27, 11)))
    for team in ("acquiring", "crossborder"):
        assert built.bot(team).cycle.publish_on_schedule(at(28, 17)) is not None
    clock.now = at(28, 19)


@pytest.fixture
def department_site(tmp_path: Path) -> Iterator[DepartmentSite]:
    department = load_department(EXAMPLE_DEPARTMENT / "department.yaml")
    assert department.info is not None and department.info.directors == [DIRECTOR]
    clock = FixedClock(at(27, 10))
    built = build_department(department, FakeChat(), clock, database_url=migrated_sqlite(tmp_path / 'dept.db'))
    week_of_three_teams(built, clock)
    with LiveServer() as live:
        config = DashboardConfig(secret=SECRET, public_url=live.url)
        web = DepartmentWeb(department, built.bots, built.rollup, config.secret, config.session_hours)
        live.app = build_department_dashboard(web, built.bot("acquiring"), config)
        yield DepartmentSite(department, built, live.url, config)


def signed_in(site: DepartmentSite, team: str, who: str) -> httpx.Client:
    """A client signed in through `team`'s one-time link page (its form, as a browser posts it)."""
    client = httpx.Client(follow_redirects=True, timeout=10)
    link = site.link(team, who)
    page = client.get(link)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None, page.text
    done = client.post(link.split("?")[0], data={"csrf": csrf.group(1), "token": httpx.URL(link).params["token"]})
    assert done.status_code == 200 and done.url.path == f"/t/{team}/week", (done.status_code, done.url)
    return client
