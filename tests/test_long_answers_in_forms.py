"""A form never cuts a long answer (issue 9 item 4): an item longer than the form's input takes is shown
read-only with a note, and submitting the form for another item leaves it exactly as stored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes import FixedClock
from tests.feishu.conftest import open_world
from tests.slack.conftest import open_workspace
from tests.test_forms_on_slack_and_feishu import Both, _entries, _feishu_form, _slack_form


@pytest.fixture
def both(tmp_path: Path, clock: FixedClock) -> Iterator[Both]:
    with open_workspace(f"sqlite:///{tmp_path / 'slack.db'}", clock) as ws, \
            open_world(f"sqlite:///{tmp_path / 'feishu.db'}", clock) as world:
        yield Both(ws, world)

LONG = ("商户入网切量进展说明，" * 1000)[:10_000]


def _store_long(bot, platform: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    first, second = bot.ctx.team.items_of("lina")[:2]
    reply = bot.inbox.submit_form(platform, "lina", "long-1", {first.key: LONG}, bot.ctx.now())
    assert reply.ok
    return first.key, second.key


def test_a_10000_character_answer_survives_editing_another_item_on_slack(both: Both) -> None:
    ws = both.slack
    long_key, other_key = _store_long(ws.bot, "slack")
    assert len(LONG) == 10_000 and _entries(ws.bot)[long_key][0] == LONG
    said = _slack_form(ws, "lina", "/zhoubao", "answer", {"item:2": "开发进度80%，对公代付联调中"})
    assert "对公代付" in said
    view = ws.slack.shown_view()
    shown = [b for b in view["blocks"] if b.get("block_id") == "long:1"]
    assert shown and "长答案已保留" in shown[0]["text"]["text"]
    assert all(len(b["element"].get("initial_value") or "") <= 3000 for b in view["blocks"] if "element" in b)
    entries = _entries(ws.bot)
    assert entries[long_key][0] == LONG
    assert entries[other_key][0] == "开发进度80%，对公代付联调中"


def test_a_10000_character_answer_survives_editing_another_item_on_feishu(both: Both) -> None:
    world = both.feishu
    long_key, other_key = _store_long(world.bot, "feishu")
    answer = _feishu_form(world, "lina", "/zhoubao answer", {"item_2": "开发进度80%，对公代付联调中"})
    assert answer["toast"]["type"] == "success"
    card = next(m for m in world.standin.messages.values() if m.msg_type == "interactive" and m.reply_to)
    form = next(e for e in card.content["body"]["elements"] if e.get("tag") == "form")
    assert "item_1" not in {e.get("name") for e in form["elements"]}
    assert any("长答案已保留" in e["text"]["content"] for e in form["elements"] if e.get("tag") == "div")
    entries = _entries(world.bot)
    assert entries[long_key][0] == LONG
    assert entries[other_key][0] == "开发进度80%，对公代付联调中"



def test_answer_by_a_member_with_no_items_says_so_instead_of_an_empty_form(database_url, chat, clock) -> None:  # type: ignore[no-untyped-def]
    from bot.runtime.team_file import parse_team
    from tests.conftest import EXAMPLE_TEAM
    from tests.helpers import make_bot

    source = EXAMPLE_TEAM.read_text(encoding="utf-8").replace(
        "\neditors:", "\n  - id: wangwu\n    name: 王五\n    email: wangwu@example.com\n\neditors:", 1)
    bot = make_bot(database_url, chat, clock, parse_team(source, EXAMPLE_TEAM))
    reply = bot.forms.open_answers("wangwu", None, bot.ctx.now())
    assert reply.prompt is None and reply.text == "你本周没有需要填写的条目。"
