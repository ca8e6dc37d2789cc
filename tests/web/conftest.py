"""Dashboard fixtures: a bot with a few weeks of answers, the dashboard served on loopback, Chromium.

Browser tests use Debian's `chromium` package through Playwright's `executable_path` (Playwright's own
browser download is not reachable here). Without it they skip with the reason, except under CI=true.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from bot.adapters.web import DashboardConfig, build_dashboard
from bot.runtime.dashboard import sign_in_link
from bot.services.bot import Bot
from tests.conftest import SHANGHAI, _in_ci, migrated_sqlite
from tests.fakes import FakeChat, FixedClock
from tests.helpers import make_bot, say
from tests.web.live import LiveServer

SECRET = "test-secret-" + "x" * 20
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
OLDER_LINE = "农行存管：资金监管协议已签署，开始联调"
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser")


def seed(bot: Bot, clock: FixedClock) -> None:
    """Three weeks of answers: an older week (W11) with a distinctive line, W25, and this week (W26)."""
    now = clock.now
    for when, lines in (
        (datetime(2024, 3, 14, 10, 0, tzinfo=SHANGHAI), {"lina": f"业务：{OLDER_LINE}", "sunli": "入金有效成功率：99.95"}),
        (datetime(2024, 6, 20, 10, 0, tzinfo=SHANGHAI), {"sunli": "入金有效成功率：99.97", "zhoujie": "机房迁移：整体进度 60%"}),
    ):
        clock.now = when
        for who, text in lines.items():
            say(bot, who, text)
    clock.now = now
    say(bot, "lina", "业务：商户入网新流程在上海、杭州切量，交易运行平稳。")
    say(bot, "sunli", "入金有效成功率：99.993")
    say(bot, "zhoujie", "机房迁移：整体进度达到了80%")
    bot.incidents.handle("fake", "zhoujie", "06/24 09:12 清结算 批量任务超时 级别：C", clock.now, announce=False)


@pytest.fixture
def bot(database_url: str, chat: FakeChat, clock: FixedClock) -> Bot:
    """The seeded bot on SQLite and on PostgreSQL (`database_url`), for the services without a server."""
    b = make_bot(database_url, chat, clock)
    seed(b, clock)
    return b


@dataclass
class Site:
    bot: Bot
    chat: FakeChat
    clock: FixedClock
    url: str
    config: DashboardConfig

    def link(self, who: str) -> str:
        return sign_in_link(self.bot.ctx, self.config, who)[0]


@pytest.fixture
def site(tmp_path: Path, chat: FakeChat, clock: FixedClock) -> Iterator[Site]:
    bot = make_bot(migrated_sqlite(tmp_path / 'web.db'), chat, clock)
    seed(bot, clock)
    # The public URL is the loopback server's, known once the socket is bound.
    with LiveServer() as live:
        config = DashboardConfig(secret=SECRET, public_url=live.url)
        live.app = build_dashboard(bot, config)
        yield Site(bot, chat, clock, live.url, config)


@pytest.fixture
def served(tmp_path, chat: FakeChat, clock: FixedClock) -> Iterator[tuple[Bot, str, DashboardConfig]]:  # type: ignore[no-untyped-def]
    b = make_bot(migrated_sqlite(tmp_path / 'd.db'), chat, clock)
    seed(b, clock)
    with LiveServer() as live:
        config = DashboardConfig(secret=SECRET, public_url=live.url)
        live.app = build_dashboard(b, config)
        yield b, live.url, config


def signed_in(bot: Bot, config: DashboardConfig, who: str) -> httpx.Client:
    client = httpx.Client(follow_redirects=True, timeout=10)
    link = sign_in_link(bot.ctx, config, who)[0]
    page = client.get(link)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    client.post(link.split("?")[0], data={"csrf": csrf.group(1), "token": httpx.URL(link).params["token"]})
    return client


def chromium_path() -> str:
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    found = shutil.which("chromium")
    if found:
        return found
    reason = "Chromium not installed (apt-get install -y chromium fonts-noto-cjk)"
    if _in_ci():
        pytest.fail(f"CI=true but {reason}: the browser tests must run in CI")
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    path = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="zh-CN", viewport={"width": 1200, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()


def shot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
