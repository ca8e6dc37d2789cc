"""Issue 21 (links stay links), on Slack: a link typed in Slack (`<url|text>`) is `[text](url)` in the
Markdown report and a Slack link again in the posted report, never `[text](url)` shown as text; a typed
`[x](javascript:…)` is no link anywhere."""

from __future__ import annotations

import json

from bot.domain.weeks import IsoWeek
from tests.slack.conftest import Workspace


def test_a_link_typed_on_slack_is_a_link_in_the_posted_report_and_the_markdown(workspace: Workspace) -> None:
    ws = workspace
    ws.bot.cycle.send_prompts()
    # What Slack sends for a link typed in the composer (https://docs.slack.dev/messaging/formatting-message-text#linking-urls)
    ws.dm("zhaolei", "资金安全：详见 <https://wiki.example.com/risk|方案>，勿点 [x](javascript:alert(1))")
    ws.settle()
    ws.clock.now = ws.clock.now.replace(day=28, hour=17)
    result = ws.bot.cycle.publish(IsoWeek(2024, 26))
    assert "详见 [方案](https://wiki.example.com/risk)，勿点 \\[x](javascript:alert(1))" in result.markdown
    posted = json.dumps([m["blocks"] for m in ws.slack.messages("C0REPORT")], ensure_ascii=False)
    assert "详见 <https://wiki.example.com/risk|方案>，勿点 [x](javascript:alert(1))" in posted
    assert "[方案](" not in posted and "<javascript" not in posted
