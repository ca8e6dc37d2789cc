"""Feishu publish: 5xx retried (the uuid keeps it one message), a recalled report posted again and the
editor told, a publish that finally fails told to the editor on Feishu as on Slack."""

from __future__ import annotations

import json

import pytest

from bot.domain.weeks import IsoWeek
from bot.services.chat import ChatError
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
