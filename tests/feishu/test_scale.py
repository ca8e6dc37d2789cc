"""A department on Feishu (issue 21): every message of an answer arrives, prompt cards and texts stay
within Feishu's limits whatever the week holds, and sends are paced per minute as well as per second."""

from __future__ import annotations

import bisect
import json
from datetime import datetime, timedelta

import pytest

from bot.adapters.feishu import cards
from bot.adapters.feishu.api import Limits, OpenApi, Pacer
from bot.adapters.feishu.gateway import FeishuGateway
from bot.domain.incident_question import LoggedIncident, Question
from bot.domain.prompts import Prompt
from bot.domain.team import Team
from bot.domain.weeks import IsoWeek
from tests.feishu import payloads
from tests.feishu.conftest import CHANNEL, World, open_id_of
from tests.feishu.openapi import OpenApiStandIn
from tests.helpers import big_team

WEEK = IsoWeek.parse("2024-W26")


@pytest.fixture
def team() -> Team:
    return big_team(60)


def _forms(world: World, message_id: str) -> list[dict[str, object]]:
    return [m.content for m in world.standin.messages.values()
            if m.reply_to == message_id and m.msg_type == "interactive"]


def test_zhoubao_answer_typed_as_text_delivers_every_card(world: World) -> None:
    """Issue 21 item 1: every card of the form is a reply with its own uuid (one reply per uuid per hour)."""
    world.post(payloads.message(open_id_of("lina"), "/zhoubao answer", world.clock.now, message_id="om_ask"))
    forms = _forms(world, "om_ask")
    assert len(forms) > 1
    titles = [str(c["header"]["title"]["content"]) for c in forms]  # type: ignore[index]
    assert titles[-1].endswith(f"({len(forms)}/{len(forms)})")
    shown = json.dumps(forms, ensure_ascii=False)
    assert all(f'"item_{n}"' in shown for n in range(1, len(world.team.items_of("lina")) + 1))
    # A redelivered event (the same message) answers once: the same uuids, no second set of cards.
    world.post(payloads.message(open_id_of("lina"), "/zhoubao answer", world.clock.now, message_id="om_ask"))
    assert len(_forms(world, "om_ask")) == len(forms)


def _with_incidents(world: World, count: int, size: int) -> Prompt:
    items = world.bot.week_report.prompt_items("lina", WEEK)
    at = datetime(2024, 6, 24, 9, 0)
    logged = tuple(LoggedIncident(n, at + timedelta(minutes=n), "gateway-api", f"事件{n}" + "节点CPU打满" * (size // 6))
                   for n in range(1, count + 1))
    return Prompt(week=WEEK.label, kind="prompt", items=items, text="📝 2024-W26 周报\n…", locale="zh-CN",
                  deadline=world.bot.week_report.deadline(WEEK), incidents=Question(len(items) + 1, logged))


@pytest.mark.parametrize("size", [150, 200])
def test_a_week_of_many_incidents_keeps_prompt_cards_within_30kb(world: World, size: int) -> None:
    """Issue 21 item 2: 60 incidents of 200 characters made the last card 38 KB (refused by Feishu, 230025);
    at 150 each item got a card of its own. Now: the latest few, "and M more", the week's page."""
    many, none = _with_incidents(world, 60, size), _with_incidents(world, 0, size)
    gateway = FeishuGateway(world.api, world.gateway.people, dashboard="https://zb.example.com/")
    gateway.send_prompt(world.team.person_by_id["lina"], many, key="k-many")
    sent = world.standin.sent(to=open_id_of("lina"), msg_type="interactive")
    assert world.standin.problems == [] and len(sent) == len(cards.prompt_cards(none))
    listed = json.dumps(sent[-1].content, ensure_ascii=False)
    shown = [n for n in range(1, 61) if f"#{n} " in listed]
    assert shown == list(range(61 - len(shown), 61)) and len(shown) >= 1  # the latest, whole
    assert f"另有 {60 - len(shown)} 起更早登记的事件" in listed
    assert "https://zb.example.com/week/2024-W26" in listed


def test_a_text_over_150kb_arrives_in_parts_split_on_lines(world: World) -> None:
    """Issue 21 item 3: a missing list of a 1,000-owner department was one 433 KB text (Feishu: 230025)."""
    lines = [f"- 负责人{n:04d}：事项「\"引号\"」尚未回复" for n in range(12_000)]
    world.gateway.post_text(CHANNEL, "\n".join(lines))
    world.gateway.send_text(world.team.person_by_id["lina"], "\n".join(lines), key="notice:2024-W26")
    for to in (CHANNEL, open_id_of("lina")):
        sent = [str(m.content["text"]) for m in world.standin.sent(to=to, msg_type="text")]
        assert world.standin.problems == [] and len(sent) > 2
        assert [t.rsplit("\n", 1)[1] for t in sent] == [f"({n}/{len(sent)})" for n in range(1, len(sent) + 1)]
        assert [line for t in sent for line in t.rsplit("\n", 1)[0].split("\n")] == lines  # whole lines, all


def test_1500_prompts_are_paced_under_1000_a_minute_as_well_as_50_a_second() -> None:
    """Issue 21 item 4: at 50/s alone 1,500 sends took 30.6 s against Feishu's 1,000 a minute."""
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    pacer = Pacer(Limits(), clock=lambda: now[0], sleep=sleep)
    sent = []
    for n in range(1500):
        pacer.wait(f"ou_{n}")
        sent.append(now[0])
    assert all(b - a >= 1 / 50 for a, b in zip(sent, sent[1:], strict=False))  # 50 a second
    assert max(bisect.bisect_right(sent, t + 60.0 - 1e-9) - i for i, t in enumerate(sent)) <= 1000  # a minute
    assert sent[-1] >= 60.0


def test_the_stand_in_refuses_more_than_its_minute_allows(world: World) -> None:
    """The stand-in answers 429 + x-ogw-ratelimit-reset past its per-minute count (window shortened)."""
    standin = OpenApiStandIn(per_minute=20, minute=2.0).start()
    try:
        eager = OpenApi(payloads.APP_ID, "secret", domain=standin.url, limits=Limits(200, 50, 600_000))
        gateway = FeishuGateway(eager, world.gateway.people)
        for n in range(30):
            gateway.send_card_to(f"ou_u{n}", {"schema": "2.0", "body": {"elements": []}}, key=f"k{n}")
        assert sorted(m.receive_id for m in standin.sent()) == sorted(f"ou_u{n}" for n in range(30))
        assert any(c.status == 429 for c in standin.calls)
    finally:
        standin.stop()
