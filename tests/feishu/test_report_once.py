"""Feishu publish: 5xx retried (the uuid keeps it one message), a recalled report posted again and the
editor told, a publish that finally fails told to the editor on Feishu as on Slack; a card a late edit adds
is posted once and recorded, whatever happened to the edit that posted it first."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import delete, select

from bot.adapters.feishu import cards
from bot.domain.weeks import IsoWeek
from bot.services.chat import ChatError
from storage.db import transaction
from storage.models import ReportPostRow
from tests.conftest import eventually
from tests.feishu.conftest import CHANNEL, World, open_id_of

WEEK = IsoWeek.parse("2024-W26")
MESSAGES = r"^/open-apis/im/v1/messages$"


def _reports(world: World) -> list:  # type: ignore[type-arg]
    return world.standin.sent(to=CHANNEL, msg_type="interactive")


def _told(world: World, person: str) -> list[str]:
    return [str(m.content.get("text", "")) for m in world.standin.sent(to=open_id_of(person), msg_type="text")]


def test_a_500_is_retried_and_the_report_posted_once(world: World) -> None:
    world.standin.fail("POST", MESSAGES, status=500, times=2)
    world.bot.cycle.publish(WEEK, world.clock.now)
    assert len(_reports(world)) == 1
    assert len(world.standin.calls_to("POST", MESSAGES)) == 3


def test_a_publish_that_finally_fails_is_told_to_the_editor(world: World) -> None:
    world.standin.fail("POST", MESSAGES, status=400, code=230002, times=1)  # the bot is not in the group
    with pytest.raises(ChatError):
        world.bot.cycle.publish(WEEK, world.clock.now)
    told = [t for t in _told(world, "zhangwei") if "feishu_230002" in t]
    assert len(told) == 1 and "im.message.create" in told[0]
    assert _reports(world) == []


def test_a_recalled_report_is_posted_again_and_the_editor_told(world: World) -> None:
    first = world.bot.cycle.publish(WEEK, world.clock.now).refs[0]
    world.standin.recall(first.message_id)
    again = world.bot.cycle.publish(WEEK, world.clock.now)
    (post,) = _reports(world)
    assert post.message_id != first.message_id and again.refs[0].message_id == post.message_id
    assert any("已被删除，已重新发布" in t for t in _told(world, "zhangwei"))
    world.bot.cycle.publish(WEEK, world.clock.now)  # recorded: the new card is patched, not posted again
    assert len(_reports(world)) == 1 and _reports(world)[0].patches
    assert "2024-W26" in json.dumps(post.content, ensure_ascii=False)


def _grow(world: World, n: int, chars: int) -> None:
    """A late form from zhoujie replacing their item's answer with about `chars` characters of lines (CJK:
    three bytes each, so a few thousand make a card); the post's edit is asked for, not waited for."""
    text = "\n".join(f"第{n}次补充 {k:04d} " + "机房迁移进展" * 10 for k in range(chars // 72))
    world.bot.inbox.submit_form("feishu", "zhoujie", f"grow-{n}", {"okr:O3/机房迁移": text}, world.clock.now, WEEK)


def _compiled(world: World) -> list[dict[str, Any]]:
    rendered = world.bot.week_report.render(world.bot.week_report.compile(WEEK, world.clock.now))
    return [json.loads(cards.card_content(c)) for c in cards.report_cards(json.loads(rendered.feishu))]


def _recorded(world: World) -> list[str]:
    with transaction(world.bot.ctx.db) as s:
        return [str(r.message_id) for r in s.scalars(select(ReportPostRow).where(
            ReportPostRow.platform == "feishu").order_by(ReportPostRow.part))]


def _post_is_the_report(world: World) -> int:
    """The chat shows the report compiled now, one card per part, and report_posts records each card, one
    for one; returns how many cards."""
    compiled = _compiled(world)
    shown = _reports(world)
    assert [m.current for m in shown] == compiled, "the chat shows each card of the report once"
    assert _recorded(world) == [m.message_id for m in shown], "each card recorded, one for one"
    assert world.standin.problems == []
    return len(compiled)


def _creates(world: World) -> int:
    """Messages delivered to the report chat (a uuid seen within the hour delivers nothing)."""
    return sum(1 for m in world.standin.messages.values() if m.chat_id == CHANNEL)


def test_a_lost_response_to_a_new_card_does_not_double(world: World) -> None:
    """A late answer makes the report a card longer; Feishu posts that card but every answer to it is lost
    (a 5xx after the send, past the client's retries), so the edit fails and nothing is recorded. Another
    late answer changes that card's text before the edit is tried again: the card is posted under the same
    uuid (the post and the card's place, not its text), Feishu answers with the card it has, and that card
    is patched and recorded. The uuid held the card's text: a second card."""
    first = world.bot.cycle.publish(WEEK, world.clock.now)
    world.settle()
    world.standin.fail("POST", MESSAGES, status=500, times=world.api.retries + 1, receive_id=CHANNEL, lose=True)
    _grow(world, 1, 19_000)
    eventually(lambda: any("feishu_500" in t for t in _told(world, "zhangwei")), "the failed edit told")
    assert len(_reports(world)) > len(first.refs), "Feishu posted the new card; its answers were lost"
    edits = world.bot.cycle.edits
    made = edits.edits
    _grow(world, 2, 19_500)
    eventually(lambda: edits.flush() or edits.edits > made, "the edit made again")  # not in 30 s
    world.settle()
    assert _post_is_the_report(world) > len(first.refs), "the late answers need another card"


def test_a_card_posted_but_not_recorded_is_patched_not_posted_again(world: World) -> None:
    """The process stops after Feishu posted a card a late edit added and before the core recorded it (or a
    later card of the same edit was refused, so none of them was recorded): the next edit that needs more
    cards posts that card under the same uuid, gets the one Feishu has, and patches it."""
    first = world.bot.cycle.publish(WEEK, world.clock.now)
    _grow(world, 1, 12_000)
    world.settle()
    grown = _post_is_the_report(world)
    assert grown > len(first.refs)
    with transaction(world.bot.ctx.db) as s:  # as if the process died before recording the new cards
        s.execute(delete(ReportPostRow).where(ReportPostRow.part >= len(first.refs)))
    _grow(world, 2, 19_000)
    world.settle()
    assert _post_is_the_report(world) > grown, "the next edit needs more cards again"


def test_a_card_blanked_when_the_report_shrank_is_patched_when_it_grows_again(world: World) -> None:
    """A report that grew by a card, shrank (the extra card blanked, still recorded) and grows again patches
    the card it has: no card posted."""
    first = world.bot.cycle.publish(WEEK, world.clock.now)
    _grow(world, 1, 12_000)
    world.settle()
    grown = _post_is_the_report(world)
    assert grown > len(first.refs)
    _grow(world, 2, 100)
    world.settle()
    shown = _reports(world)
    assert [m.current for m in shown[:len(first.refs)]] == _compiled(world) and len(shown) == grown
    assert all("内容已合并到上一条" in json.dumps(m.current, ensure_ascii=False) for m in shown[len(first.refs):])
    assert _recorded(world) == [m.message_id for m in shown], "the blanked cards stay recorded"
    delivered = _creates(world)
    _grow(world, 3, 12_000)
    world.settle()
    assert _post_is_the_report(world) == grown
    assert _creates(world) == delivered, "the blanked cards patched, none posted"
