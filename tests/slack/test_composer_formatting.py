"""Issue 21 item 9 (Slack): channel mentions read as the channel's name (from the text Slack sent, else
conversations.info), a bold link keeps its bold, and adjacent bold runs never give a literal `****`.

Shapes: rich_text inline elements https://docs.slack.dev/reference/block-kit/blocks/rich-text-block (a
`channel` element carries only `channel_id`; `text`/`link` carry `style`), mrkdwn channel mentions
`<#C123|name>` / `<#C123>` https://docs.slack.dev/messaging/formatting-message-text#linking-channels."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.adapters.slack.composer import slack_message_text
from storage.db import transaction
from storage.models import AnswerMessageRow
from tests.slack.conftest import Workspace
from tests.slack.test_composer import NOBODY, TEAM

BOLD = {"bold": True}


def _rich(*elements: dict[str, Any], text: str = "") -> dict[str, Any]:
    return {"text": text, "blocks": [{"type": "rich_text", "block_id": "b1", "elements": [
        {"type": "rich_text_section", "elements": list(elements)}]}]}


def test_a_bold_link_keeps_its_bold() -> None:
    event = _rich({"type": "text", "text": "详见 ", "style": BOLD},
                  {"type": "link", "url": "https://wiki.example.com/risk", "text": "方案", "style": BOLD})
    assert slack_message_text(event, NOBODY) == "**详见 [方案](https://wiki.example.com/risk)**"


def test_a_bold_link_alone_is_bold() -> None:
    event = _rich({"type": "text", "text": "见 "},
                  {"type": "link", "url": "https://wiki.example.com/risk", "text": "方案", "style": BOLD})
    assert slack_message_text(event, NOBODY) == "见 **[方案](https://wiki.example.com/risk)**"


def test_adjacent_bold_runs_are_one_bold_run() -> None:
    event = _rich({"type": "text", "text": "风控", "style": BOLD}, {"type": "text", "text": "二期", "style": BOLD},
                  {"type": "text", "text": " 已上线"})
    text = slack_message_text(event, NOBODY)
    assert text == "**风控二期** 已上线" and "****" not in text


def test_a_channel_element_reads_as_the_name_slack_wrote_in_the_text() -> None:
    event = _rich({"type": "text", "text": "见 "}, {"type": "channel", "channel_id": "C05X"},
                  text="见 <#C05X|ops-alerts>")
    assert slack_message_text(event, NOBODY) == "见 #ops-alerts"


def test_a_channel_mention_prefers_the_text_then_the_directory_then_the_id() -> None:
    assert slack_message_text({"text": "<#C05OPS|ops-new-name>"}, TEAM) == "#ops-new-name"
    assert slack_message_text({"text": "<#C05OPS>"}, TEAM) == "#ops-payments"
    assert slack_message_text({"text": "<#C05UNKNOWN>"}, TEAM) == "#C05UNKNOWN"


def test_a_channel_without_a_name_in_the_text_is_named_by_conversations_info(workspace: Workspace) -> None:
    ws = workspace
    ws.dm("lina", "[1] 进展见 <#C0REPORT>")
    ws.dm("lina", "[1] 进展见 <#C0REPORT>", blocks=[{"type": "rich_text", "block_id": "b2", "elements": [
        {"type": "rich_text_section", "elements": [{"type": "text", "text": "[1] 进展见 "},
                                                    {"type": "channel", "channel_id": "C0REPORT"}]}]}])
    ws.settle()
    with transaction(ws.bot.ctx.db) as s:
        stored = [r.text for r in s.scalars(select(AnswerMessageRow).order_by(AnswerMessageRow.id))]
    assert stored == ["进展见 #weekly-report", "进展见 #weekly-report"]
    assert len(ws.slack.of("conversations.info")) == 1, "asked once, then known"
