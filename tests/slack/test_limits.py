"""Outbound Slack messages stay within what Slack accepts, measured as Slack measures it, on a stand-in that
refuses what Slack refuses (docs/platform-limits.md)."""

from __future__ import annotations

import pytest

from bot.adapters.slack import blocks
from bot.domain.team import Team
from bot.services.chat import ChatError
from tests.helpers import big_team, fill_long_week
from tests.slack.conftest import Workspace


@pytest.fixture
def team() -> Team:
    return big_team(60)


def test_the_stand_in_refuses_what_slack_refuses(workspace: Workspace) -> None:
    gateway = workspace.parts.gateway
    five = [{"type": "section", "text": {"type": "mrkdwn", "text": "字" * 2500}} for _ in range(5)]
    # Straight to the Web API: the gateway's own posts are split to fit (limits.split).
    with pytest.raises(ChatError, match="msg_blocks_too_long"):
        gateway._call("chat.postMessage", channel="C0REPORT", text="x", blocks=five)
    with pytest.raises(ChatError, match="invalid_blocks"):
        gateway._call("chat.postMessage", channel="C0REPORT", text="x",
                      blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "字" * 3001}}])
    workspace.slack.problems.clear()


def test_a_40000_character_report_and_a_60_item_owner_go_through(workspace: Workspace) -> None:
    ws = workspace
    bot = ws.bot
    stored = fill_long_week(bot, "slack")
    assert stored > 40_000
    assert len(bot.ctx.team.items_of("lina")) > 60
    assert bot.cycle.send_prompts("prompt", ws.clock.now) == len(bot.ctx.team.owners())
    result = bot.cycle.publish(bot.ctx.week_of(ws.clock.now), ws.clock.now)
    ws.settle()
    assert ws.slack.problems == []
    # Every prompt message arrived, the last of lina's with the Answer button.
    lina = [m for m in ws.slack.messages("DLINA") if m["blocks"]]
    assert len(lina) > 1
    assert [any(b["type"] == "actions" for b in m["blocks"]) for m in lina][-1]
    # The whole report is in the channel: the post and its thread, each message within the limits.
    posted = ws.slack.messages("C0REPORT")
    assert len(posted) == len(result.refs) > 4
    shown = "".join(b["text"]["text"] for m in posted for b in m["blocks"])
    assert len(shown) > 40_000
    for n, item in enumerate(bot.ctx.team.items):
        if item.owner == "lina":
            assert f"第{n}项：" in shown
    assert all(blocks.block_text(m["blocks"]) <= blocks.MESSAGE_TEXT for m in posted)
