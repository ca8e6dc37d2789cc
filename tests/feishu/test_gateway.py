"""The gateway against the loopback Open API: uuids, rate limits, token refresh, big reports."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from bot.adapters.feishu.api import Limits, OpenApi
from bot.adapters.feishu.cards import CARD_LIMIT
from bot.adapters.feishu.gateway import FeishuGateway
from bot.adapters.feishu.people import People
from bot.domain.prompts import Prompt, PromptItem
from bot.domain.team import ItemKind
from bot.domain.weeks import IsoWeek
from bot.services.chat import ChatError
from tests.feishu import payloads
from tests.feishu.conftest import CHANNEL, World, open_id_of
from tests.feishu.openapi import OpenApiStandIn

WEEK = IsoWeek.parse("2024-W26")


def _prompt(world: World, person: str) -> Prompt:
    items = world.bot.week_report.prompt_items(person, WEEK)
    return Prompt(week=WEEK.label, kind="prompt", items=items, text="📝 2024-W26 周报\n…", locale="zh-CN",
                  deadline=world.bot.week_report.deadline(WEEK))


def test_a_retried_send_with_the_same_key_is_delivered_once(world: World) -> None:
    lina = world.team.person_by_id["lina"]
    first = world.gateway.send_prompt(lina, _prompt(world, "lina"), key="1:2024-W26:lina:prompt:feishu")
    again = world.gateway.send_prompt(lina, _prompt(world, "lina"), key="1:2024-W26:lina:prompt:feishu")
    assert first == again and len(world.standin.sent(to=open_id_of("lina"))) == 1


def test_429_waits_for_the_reset_header_then_sends_once(world: World) -> None:
    world.standin.fail("POST", r"^/open-apis/im/v1/messages$", status=429, code=99991400, times=2,
                       headers={"x-ogw-ratelimit-reset": "3"})
    world.gateway.send_text(world.team.person_by_id["lina"], "你好")
    assert len(world.standin.sent(to=open_id_of("lina"))) == 1
    assert len([s for s in world.sleeps if 2.9 < s <= 3.0]) == 2  # one wait per refusal, as long as Feishu said


def test_230020_backs_off_and_then_sends(world: World) -> None:
    world.standin.fail("POST", r"^/open-apis/im/v1/messages$", status=400, code=230020, times=3)
    world.gateway.post_text(CHANNEL, "事件通知")
    assert [m.content["text"] for m in world.standin.sent(to=CHANNEL)] == ["事件通知"]
    waits = [s for s in world.sleeps if s >= 0.2]
    assert len(waits) >= 3 and waits == sorted(waits)  # growing waits


def test_a_refusal_that_outlasts_the_retries_is_a_chat_error(world: World) -> None:
    world.standin.fail("POST", r"^/open-apis/im/v1/messages$", status=400, code=230020, times=99)
    with pytest.raises(ChatError) as err:
        world.gateway.post_text(CHANNEL, "x")
    assert err.value.reason == "feishu_230020"


def test_an_error_code_is_not_retried(world: World) -> None:
    world.standin.fail("POST", r"^/open-apis/im/v1/messages$", status=400, code=230002, times=1)
    with pytest.raises(ChatError, match="feishu_230002"):
        world.gateway.post_text(CHANNEL, "x")
    assert len(world.standin.calls_to("POST", r"^/open-apis/im/v1/messages$")) == 1


def test_an_invalidated_tenant_token_is_refreshed_once(world: World) -> None:
    world.gateway.post_text(CHANNEL, "一")
    world.standin.invalidate_tokens()
    world.gateway.post_text(CHANNEL, "二")
    tokens = world.standin.calls_to("POST", "tenant_access_token")
    assert len(tokens) == 2 and [m.content["text"] for m in world.standin.sent(to=CHANNEL)] == ["一", "二"]


def test_the_token_is_fetched_again_before_it_expires(world: World) -> None:
    now = [0.0]
    api = OpenApi(payloads.APP_ID, "secret", domain=world.standin.url, clock=lambda: now[0], sleep=lambda s: None)
    gateway = FeishuGateway(api, People(api, world.team))
    gateway.post_text(CHANNEL, "一")
    now[0] = 7200 - 1800 - 1  # still good
    gateway.post_text(CHANNEL, "二")
    assert len(world.standin.calls_to("POST", "tenant_access_token")) == 1
    now[0] = 7200 - 1800 + 1  # within the last half hour: fetched again
    gateway.post_text(CHANNEL, "三")
    assert len(world.standin.calls_to("POST", "tenant_access_token")) == 2
    assert [m.content["text"] for m in world.standin.sent(to=CHANNEL)] == ["一", "二", "三"]


def test_a_person_feishu_cannot_find_is_a_chat_error(world: World) -> None:
    world.standin.directory.pop("lina@example.com")
    with pytest.raises(ChatError, match="user_not_found"):
        world.gateway.send_text(world.team.person_by_id["lina"], "hi")


def _long_answers(world: World, size: int) -> None:
    at = world.clock.now
    for n, item in enumerate(world.team.items_of("zhoujie") + world.team.items_of("lina")):
        owner = item.owner
        world.bot.inbox.submit_form("feishu", owner, f"big-{size}-{n}", {item.key: ("很长的进展说明。" * size)}, at)


def test_a_big_report_is_split_under_30kb_and_republishing_patches_it(world: World) -> None:
    _long_answers(world, 600)  # ~20 KB of text per item
    first = world.bot.cycle.publish(WEEK, world.clock.now)
    posted = world.standin.sent(to=CHANNEL, msg_type="interactive")
    assert len(posted) >= 2 and len(first.refs) == len(posted)
    for m in posted:
        assert len(json.dumps(m.content, ensure_ascii=False).encode()) <= CARD_LIMIT
    titles = [m.content["header"]["title"]["content"] for m in posted]
    assert titles[0].endswith(f"(1/{len(posted)})")
    # The report shrinks: the same messages are patched, the extra ones say they were merged.
    _long_answers(world, 1)
    again = world.bot.cycle.publish(WEEK, world.clock.now)
    assert world.standin.sent(to=CHANNEL, msg_type="interactive") == posted
    assert again.updated and [r.message_id for r in again.refs] == [m.message_id for m in posted]
    assert "内容已合并" in json.dumps(posted[-1].current, ensure_ascii=False)
    # ... and grows again: patched first, then one more card.
    _long_answers(world, 900)
    world.bot.cycle.publish(WEEK, world.clock.now)
    assert len(world.standin.sent(to=CHANNEL, msg_type="interactive")) >= len(posted)


def test_prompt_card_prefills_this_week_else_last_week(world: World) -> None:
    items = (PromptItem(1, "a", "甲", ItemKind.PART, "甲", "上周的话", None),
             PromptItem(2, "b", "乙", ItemKind.PART, "乙", "上周", "本周已存"))
    prompt = Prompt("2024-W26", "prompt", items, "📝 提示\n", "zh-CN", datetime(2024, 6, 28, 17, 0))
    world.gateway.send_prompt(world.team.person_by_id["lina"], prompt, key="k")
    card = world.standin.sent(to=open_id_of("lina"))[0].content
    form = next(e for e in card["body"]["elements"] if e["tag"] == "form")
    assert [e.get("default_value") for e in form["elements"] if e.get("name", "").startswith("item_")] == [
        "上周的话", "本周已存"]
    assert [e.get("default_value") for e in form["elements"] if e.get("name", "").startswith("progress_")] == ["", ""]


def test_unmatched_event_payload_sender_is_not_a_member(world: World) -> None:
    resp = world.post(payloads.message("ou_stranger", "你好", world.clock.now, message_id="om_s"))
    assert resp.status_code == 200
    assert any("不在本团队" in t for t in world.replies_to("om_s"))


def test_sending_faster_than_feishu_allows_is_refused_then_retried_once_each(world: World) -> None:
    standin = OpenApiStandIn(per_app=20, per_chat=5).start()  # Feishu's limits / 2.5
    try:
        standin.directory.update({f"u{n}@example.com": f"ou_u{n}" for n in range(30)})
        # This client believes the limits are ten times higher, so the stand-in refuses some sends.
        api = OpenApi(payloads.APP_ID, "secret", domain=standin.url, limits=Limits(200, 50))
        gateway = FeishuGateway(api, People(api, world.team))
        for n in range(30):
            gateway.send_card_to(f"ou_u{n}", {"schema": "2.0", "body": {"elements": []}}, key=f"k{n}")
        assert sorted(m.receive_id for m in standin.sent()) == sorted(f"ou_u{n}" for n in range(30))
        assert any(c.status == 429 for c in standin.calls)
    finally:
        standin.stop()


def test_the_bench_prompts_every_owner_once_within_the_limits() -> None:
    from bench.feishu_prompts import run

    # The bench's timing ratio is a figure it prints, not asserted here (a loaded machine would flake it).
    outcome = run(owners=60, scale=2, database_url=None)
    assert outcome.exactly_once and outcome.refused == 0
