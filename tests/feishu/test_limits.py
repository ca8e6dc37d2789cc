"""Outbound Feishu cards stay within what Feishu accepts, measured on the request body and the element count
as Feishu measures them, on a stand-in that refuses what Feishu refuses (docs/platform-limits.md)."""

from __future__ import annotations

import json

import pytest

from bot.adapters.feishu import cards
from bot.domain.prompts import Prompt, PromptItem
from bot.domain.team import ItemKind, Team
from bot.services.chat import ChatError
from tests.feishu.conftest import CHANNEL, World, open_id_of
from tests.helpers import big_team, fill_long_week


@pytest.fixture
def team() -> Team:
    return big_team(60)


def _body(card: cards.Card) -> int:
    return len(json.dumps({"receive_id": "ou_" + "x" * 32, "msg_type": "interactive",
                           "content": cards.card_content(card), "uuid": "z" * 43}, ensure_ascii=False).encode())


def test_the_stand_in_refuses_what_feishu_refuses(world: World) -> None:
    big = cards.note_card("t", '"引号"\n' * 2200)  # under 30 KB as card JSON, over it once escaped into the body
    assert len(cards.card_content(big).encode()) < 30 * 1024 < _body(big)
    with pytest.raises(ChatError, match="230025"):
        world.gateway.send_card(world.team.person_by_id["lina"], big, key=None)
    many = cards.note_card("t", "x")
    many["body"]["elements"] = [{"tag": "div", "text": {"tag": "plain_text", "content": str(n)}} for n in range(101)]
    with pytest.raises(ChatError, match="230099"):
        world.gateway.send_card(world.team.person_by_id["lina"], many, key=None)
    world.standin.problems.clear()


def test_report_cards_are_measured_on_the_request_body() -> None:
    quotes = [{"tag": "text", "text": '他说"好"，\\路径\\'} for _ in range(8)]
    post = {"zh_cn": {"title": "2024-W26", "content": [quotes] * 400}}
    split = cards.report_cards(post)
    assert len(split) > 1
    assert all(_body(c) <= cards.CARD_LIMIT for c in split)
    assert all(cards.element_count(c) <= cards.ELEMENT_LIMIT for c in split)


def test_a_40000_character_report_and_a_60_item_owner_go_through(world: World) -> None:
    bot = world.bot
    stored = fill_long_week(bot, "feishu")
    assert stored > 40_000
    assert bot.cycle.send_prompts("prompt", world.clock.now) == len(bot.ctx.team.owners())
    result = bot.cycle.publish(bot.ctx.week_of(world.clock.now), world.clock.now)
    assert world.standin.problems == []
    prompts = world.standin.sent(to=open_id_of("lina"), msg_type="interactive")
    assert len(prompts) > 1
    shown = [e for m in prompts for f in m.content["body"]["elements"] if f["tag"] == "form" for e in f["elements"]]
    # Each item once, in order: an input, or (answers longer than an input takes) read-only with the note.
    numbers = [e["name"] for e in shown if e["tag"] == "input" and e["name"].startswith("item_")] + \
        [cards.input_name(int(e["text"]["content"][1:].split("]")[0])) for e in shown
         if e["tag"] == "div" and e["text"].get("text_size") == "heading"]
    assert sorted(numbers, key=lambda n: int(n[5:])) == [
        cards.input_name(n) for n in range(1, len(bot.ctx.team.items_of("lina")) + 1)]
    assert sum("长答案已保留" in e["text"]["content"] for e in shown if e["tag"] == "div") > 50
    posted = world.standin.sent(to=CHANNEL, msg_type="interactive")
    assert len(posted) == len(result.refs) > 1
    shown = "".join(e["text"]["content"] for m in posted for e in m.content["body"]["elements"] if e["tag"] == "div")
    assert len(shown) > 40_000
    for n, item in enumerate(bot.ctx.team.items):
        if item.owner == "lina":
            assert f"第{n}项：" in shown


def test_the_stored_answers_card_stays_within_the_limits() -> None:
    items = tuple(PromptItem(n, f"okr:O4/{n}", f"专项 · 事项{n}", ItemKind.OKR, f"事项{n}", None,
                             '很长的"答案"\n' * 400) for n in range(1, 61))
    card = cards.stored_card("2024-W26", items, "已保存", "zh-CN")
    assert _body(card) <= cards.CARD_LIMIT and cards.element_count(card) <= cards.ELEMENT_LIMIT
    text = json.dumps(card, ensure_ascii=False)
    assert all(f"[{n}] 专项 · 事项{n}" in text for n in range(1, 61))


def test_a_prompt_of_long_prefills_is_split_into_cards_within_the_limits() -> None:
    items = tuple(PromptItem(n, f"okr:O4/{n}", f"事项{n}", ItemKind.OKR, f"事项{n}", "上周" * 500, None)
                  for n in range(1, 13))  # 12 items prefilled with 1,000 CJK characters: 40 KB in one card
    prompt = Prompt("2024-W26", "prompt", items, "📝 提示\n…", "zh-CN", None)  # type: ignore[arg-type]
    split = cards.prompt_cards(prompt)
    assert len(split) > 1
    assert all(_body(c) <= cards.CARD_LIMIT and cards.element_count(c) <= cards.ELEMENT_LIMIT for c in split)
