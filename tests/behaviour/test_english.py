"""An English team hears English everywhere (issue 19, "English words everywhere"): every message of a week
— prompts, confirmations, warnings (an unknown bank among them), refusals, incident notices, reminders,
`/zhoubao missing` and `preview`, the posted report — and every dashboard page carries no CJK character,
on the console, Slack and Feishu. The team and its answers are written in English, so any CJK character
that appears came from the bot's own words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.adapters.web.app import build_dashboard
from bot.adapters.web.config import DashboardConfig
from bot.domain.team import Team
from bot.runtime.team_file import load_team
from tests.behaviour.conftest import PLATFORMS
from tests.behaviour.driver import Driver
from tests.web.live import LiveServer
from tests.web.test_dashboard import signed_in

LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2024, 6, 24, 9, 0, tzinfo=LONDON)
# CJK ideographs and punctuation, full-width forms, kana and hangul.
CJK = re.compile(r"[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef]")

TEAM = """
team:
  name: Payments Technology
  locale: en
  timezone: Europe/London
  report_channel: weekly-report
people:
  - {id: alice, name: Alice, email: alice@example.com}
  - {id: bob, name: Bob, email: bob@example.com}
  - {id: carol, name: Carol, email: carol@example.com}
editors: [alice]
admins: [alice]
projects:
  - name: Acquiring
    parts:
      - {name: Business, owner: bob}
      - name: Banks
        owner: carol
        banks:
          - {name: HSBC}
          - {name: Citi, aliases: [Citibank]}
  - {name: PCI DSS, owner: bob}
okrs:
  - id: O1
    name: Business services
    items:
      - {name: Cross-border, owner: bob}
metrics:
  - name: Availability
    incident_counts: true
    metrics:
      - {name: Yearly availability, owner: carol, unit: "%"}
incidents:
  severities: [A, B, C, D]
  count_groups: [[A, B], [C], [D]]
  post_to_channel: true
  ask_in_prompt: true
schedule:
  prompt: thu 10:00
  remind: [fri 10:00]
  publish: fri 17:00
  calendar: none
"""


_LANGUAGE_LINK = re.compile(r'<a href="[^"]*lang=zh-CN[^"]*"[^>]*>中文</a>')


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 6, day, hour, minute, tzinfo=LONDON)


@pytest.fixture
def team(tmp_path: Path) -> Team:
    path = tmp_path / "team.yaml"
    path.write_text(TEAM, encoding="utf-8")
    return load_team(path)


@pytest.fixture(params=list(PLATFORMS))
def english(request: pytest.FixtureRequest, database_url: str, team: Team) -> Iterator[Driver]:
    d = PLATFORMS[request.param](database_url, MONDAY, team=team)
    yield d
    d.close()


def _cjk(texts: list[str]) -> list[str]:
    """Each text with a CJK character, cut around the first one."""
    found = []
    for text in texts:
        m = CJK.search(text)
        if m:
            found.append(text[max(0, m.start() - 60):m.end() + 60])
    return found


def play(d: Driver) -> list[str]:
    """The week; everything anyone was told, in order."""
    d.advance_to(at(27, 10))  # the prompts
    d.as_person("bob")
    d.say("[1] New merchant onboarding is live in two cities.")
    d.say("PCI DSS: gap analysis done, 45%")
    d.say("Which one is this?")  # no item named: the bot asks
    d.as_person("carol")
    d.say("HSBC: integration testing started\nBarclays: kick-off meeting held")  # Barclays is not configured
    d.say("Yearly availability: 99.98")
    d.incident("06/26 14:00 order-api out of memory cause: a query without paging recovered: 14:30 severity: C")
    d.incident("06/26 lunch severity: Z")  # refused, with the usage
    d.zhoubao("missing")
    d.advance_to(at(28, 10))  # the reminder
    d.as_person("alice")
    d.zhoubao("preview")
    d.say("[1] Nothing else this week.")
    d.advance_to(at(28, 17, 1))  # the publish
    d.as_person("bob")
    d.say("Cross-border: licence filed")  # a late answer updates the post
    people = ("alice", "bob", "carol")
    return [text for p in people for text in d.dms_to(p)] + d.channel_posts()


def test_an_english_team_hears_no_chinese(english: Driver) -> None:
    heard = play(english)
    assert len(heard) > 10 and any("Barclays" in t for t in heard), heard  # the week was played
    assert _cjk(heard) == []
    # A bank the team file does not list is kept as text, and its writer is told so in English.
    assert any("⚠️ Banks not in the team file: Barclays." in t for t in english.dms_to("carol")), \
        english.dms_to("carol")


def test_an_english_teams_dashboard_shows_no_chinese(database_url: str, team: Team) -> None:
    d = PLATFORMS["console"](database_url, MONDAY, team=team)
    try:
        play(d)
        with LiveServer() as live:
            config = DashboardConfig(secret="english", public_url=live.url)
            live.app = build_dashboard(d.bot, config, clock=lambda: at(28, 18))
            anonymous = httpx.Client(follow_redirects=True, timeout=10)
            pages = {path: anonymous.get(live.url + path) for path in ("/signin", "/week")}
            client = signed_in(d.bot, config, "alice")
            for path in ("/week", "/week/2024-W26", "/history", "/trends", "/search?q=HSBC", "/search?q=nothing",
                         "/item?key=project:Acquiring/Banks/HSBC", "/week/2024-W26/report.md",
                         "/week/2024-W20", "/week/2099-W01", "/no-such-page"):
                pages[path] = client.get(live.url + path)
        assert "Barclays" in pages["/week/2024-W26"].text and "HSBC" in pages["/search?q=HSBC"].text
        # The language switch names Chinese in Chinese (中文), as language pickers do; nothing else may be CJK.
        shown = {path: _LANGUAGE_LINK.sub("", page.text) for path, page in pages.items()}
        assert {path: _cjk([text]) for path, text in shown.items() if _cjk([text])} == {}
    finally:
        d.close()
