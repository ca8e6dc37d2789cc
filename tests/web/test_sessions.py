"""Sessions that end, pages no cache keeps, forms that post only here, no bidi controls in any page (issue 20)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.adapters.web import DashboardConfig, build_dashboard
from bot.domain.team import Team
from bot.runtime.dashboard import sign_in_link
from bot.services.bot import Bot
from tests.fakes import FakeChat, FixedClock
from tests.helpers import example_team, make_bot, say
from tests.web.conftest import SECRET, seed
from tests.web.live import LiveServer

BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


@dataclass
class Served:
    bot: Bot
    url: str
    config: DashboardConfig
    database_url: str
    chat: FakeChat
    clock: FixedClock
    live: LiveServer

    def restart(self, team: Team) -> None:
        """The process restarted with an edited team file, on the same database and secret."""
        self.bot = make_bot(self.database_url, self.chat, self.clock, team)
        self.live.app = build_dashboard(self.bot, self.config)

    def signed_in(self, who: str) -> httpx.Client:
        client = httpx.Client(base_url=self.url, follow_redirects=True, timeout=30)
        link = sign_in_link(self.bot.ctx, self.config, who)[0]
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get(link).text)
        assert csrf is not None
        done = client.post("/signin/link", data={"csrf": csrf.group(1), "token": httpx.URL(link).params["token"]})
        assert done.url.path == "/week" and done.status_code == 200
        return client


@pytest.fixture
def served(tmp_path: Path, chat: FakeChat, clock: FixedClock) -> Iterator[Served]:
    database_url = f"sqlite:///{tmp_path / 's.db'}"
    bot = make_bot(database_url, chat, clock)
    seed(bot, clock)
    with LiveServer() as live:
        config = DashboardConfig(secret=SECRET, public_url=live.url)
        live.app = build_dashboard(bot, config)
        yield Served(bot, live.url, config, database_url, chat, clock, live)


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def test_a_cookie_copied_before_sign_out_is_refused_after_it(served: Served) -> None:
    c = served.signed_in("lina")
    copied = dict(c.cookies)
    page = c.get("/week")
    assert page.url.path == "/week"
    assert c.post("/signout", data={"csrf": csrf_of(page)}).url.path == "/signin"
    with httpx.Client(base_url=served.url, cookies=copied, follow_redirects=False, timeout=30) as thief:
        resp = thief.get("/week")
        assert resp.status_code == 303 and resp.headers["location"].startswith("/signin")


def test_other_sessions_of_the_same_person_live_on_after_one_signs_out(served: Served) -> None:
    laptop, phone = served.signed_in("lina"), served.signed_in("lina")
    laptop.post("/signout", data={"csrf": csrf_of(laptop.get("/week"))})
    assert laptop.get("/week").url.path == "/signin"
    assert phone.get("/week").url.path == "/week"


def test_a_role_change_in_the_team_file_ends_the_session(served: Served) -> None:
    c = served.signed_in("lina")
    assert "立即发布" not in c.get("/week").text  # a member
    data = example_team().model_dump()
    data["editors"] = [*data["editors"], "lina"]
    served.restart(Team.model_validate(data))
    resp = c.get("/week")
    assert resp.url.path == "/signin"  # signed in as a member: that session is over
    again = served.signed_in("lina")
    assert "立即发布" in again.get("/week").text  # signing in again gives the new role


def test_signed_in_pages_are_never_cached_and_forms_post_only_here(served: Served) -> None:
    c = served.signed_in("zhangwei")
    for path in ("/week", "/history", "/search?q=农行", "/trends", "/signin", "/week/2024-W26/report.md"):
        resp = c.get(path)
        assert resp.status_code == 200, path
        assert resp.headers["cache-control"] == "no-store", path
        policy = dict((d.strip().split(" ", 1) + [""])[:2] for d in resp.headers["content-security-policy"].split(";"))
        assert policy["form-action"] == "'self'", path


def test_bidi_controls_never_reach_a_page(served: Served) -> None:
    say(served.bot, "liuyang", "产研：正常\u202e文本\u2066隐藏\u2069，\u200f结束")
    c = served.signed_in("lina")
    for path in ("/week", "/search?q=正常"):
        page = c.get(path)
        assert page.status_code == 200 and "正常" in page.text, path
        assert not any(ch in page.text for ch in BIDI), path
