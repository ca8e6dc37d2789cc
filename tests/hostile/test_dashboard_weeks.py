"""Weeks outside the window at the dashboard and the CLI (issue 20 item 1): a member cannot create one,
and one already stored (written before the window existed) breaks no page and no export."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.adapters.web import DashboardConfig, build_dashboard
from bot.runtime.cli import app as cli
from bot.services.bot import Bot
from storage.db import transaction
from storage.directory import Directory
from storage.incidents import Incidents, NewIncident
from storage.models import WeekRow
from tests.conftest import EXAMPLE_TEAM, SHANGHAI
from tests.fakes import FakeChat, FixedClock
from tests.helpers import make_bot
from tests.web.conftest import SECRET, seed
from tests.web.live import LiveServer
from tests.web.test_dashboard import signed_in

BAD_WEEKS = {"9999-W52": datetime(9999, 12, 28, 12, 0, tzinfo=SHANGHAI),
             "0001-W01": datetime(1, 1, 1, 12, 0, tzinfo=SHANGHAI)}


@pytest.fixture
def served(database_url: str, chat: FakeChat, clock: FixedClock) -> Iterator[tuple[Bot, str, DashboardConfig]]:
    bot = make_bot(database_url, chat, clock)
    seed(bot, clock)  # 2024-W11, W25 and this week, W26
    with LiveServer() as live:
        config = DashboardConfig(secret=SECRET, public_url=live.url)
        live.app = build_dashboard(bot, config)
        yield bot, live.url, config


def store_bad_weeks(bot: Bot) -> None:
    """Each bad week as the old code stored it: a week row holding an incident."""
    with transaction(bot.ctx.db) as s:
        for label, started in BAD_WEEKS.items():
            week_id = Directory(s).ensure_week(bot.ctx.team_id, label).id
            Incidents(s).add(NewIncident(
                team_id=bot.ctx.team_id, week_id=week_id, started_at=started, what="网关超时", system="gateway",
                cause="", impact="", recovered_at=started.replace(hour=13), severity="A", weight=Decimal(1),
                counts_toward_availability=True, reporter_id=None, source="fake", source_ref=None,
                at=bot.ctx.now()))


def stored_labels(bot: Bot) -> list[str]:
    with transaction(bot.ctx.db) as s:
        return sorted(s.scalars(select(WeekRow.label).where(WeekRow.team_id == bot.ctx.team_id)))


@pytest.mark.parametrize("label", ["9999-W52", "1970-W01", "0001-W01", "2024-W28"])
def test_a_member_cannot_post_into_a_week_outside_the_window(served, label: str) -> None:  # type: ignore[no-untyped-def]
    bot, url, config = served
    before = stored_labels(bot)
    client = signed_in(bot, config, "lina")
    page = client.get(f"{url}/week")
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    answer = client.post(f"{url}/week/{label}/items", data={"csrf": csrf, "item": "project:聚合收单/业务",
                                                       "text": "放进遥远的一周"})
    opened = client.get(f"{url}/week/{label}")
    client.close()
    # The window: five years before the first stored week (2024-W11) to next week (2024-W27).
    for refused in (answer, opened):
        assert refused.status_code == 400, refused.text
        assert f"{label} 不在本团队可用的周范围内：2019-W11 到 2024-W27" in refused.text
    assert stored_labels(bot) == before, "no week is created"


PAGES = ["/week", "/week/0001-W01", "/week/2024-W26", "/history", "/history?page=2", "/trends", "/trends?weeks=520",
         "/search?q=网关", "/item?key=metric:入金有效成功率", "/export?from=0001-W01&to=2024-W27",
         "/export?from=0001-W01&to=2024-W27&format=json", "/week/0001-W01/report.md", "/week/0001-W01/report.csv",
         "/week/0001-W01/report.json"]


def test_weeks_stored_at_the_ends_of_the_calendar_break_no_page(served) -> None:  # type: ignore[no-untyped-def]
    bot, url, config = served
    store_bad_weeks(bot)
    client = signed_in(bot, config, "zhangwei")
    for path in PAGES:
        page = client.get(url + path)
        assert page.status_code == 200, (path, page.status_code, page.text[-2000:])
    # The stored first week (0001-W01) widens the window down to it; 9999-W52 stays outside it.
    beyond = client.get(f"{url}/week/9999-W52")
    assert beyond.status_code == 400 and "0001-W01 到 2024-W27" in beyond.text
    assert "9999-W52" in client.get(f"{url}/history").text, "listed, so an admin can see it is there"
    client.close()


def test_zhoubao_export_across_a_stored_0001_w01_and_refusing_9999_w52(served, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                       database_url: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    bot, _, _ = served
    store_bad_weeks(bot)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("TEAM_FILE", str(EXAMPLE_TEAM))
    for var in ("SLACK_BOT_TOKEN", "FEISHU_APP_ID"):
        monkeypatch.delenv(var, raising=False)
    today = bot.ctx.week_of(datetime.now(SHANGHAI))  # the CLI runs on the wall clock
    for fmt in ("md", "json", "csv"):
        result = CliRunner().invoke(cli, ["export", "--from", "0001-W01", "--to", today.label, "--format", fmt])
        assert result.exit_code == 0, (fmt, result.output, result.exception)
        assert "0001-W01" in result.stdout and "2024-W26" in result.stdout
    refused = CliRunner().invoke(cli, ["export", "--from", "2024-W01", "--to", "9999-W52"])
    assert refused.exit_code == 2 and "9999-W52 is outside the weeks this team can use: 0001-W01 to" in refused.output
