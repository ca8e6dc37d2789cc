"""Issue 21 item 4 (Slack): nothing is cut without saying so. Long texts become several messages within
Slack's limits, marked "(n/total)"; a list is cut at a whole line with "and M more"; escaping `& < >`
counts toward the limits. Asserted on what the stand-in receives (tests/slack/stand_in.py enforces the
limits, each cited there and in docs/platform-limits.md)."""

from __future__ import annotations

import re
from datetime import datetime

from bot.adapters.slack import blocks
from bot.adapters.slack.limits import MAX_SECTION, MAX_TEXT, MESSAGE_TEXT
from bot.domain.incident_question import LoggedIncident, Question
from bot.domain.prompts import Prompt
from bot.text.render import slack_escape
from tests.slack.conftest import Workspace
from tests.slack.stand_in import _sdk_problem

_MARKER = re.compile(r"\n?\((\d+)/(\d+)\)(?: · .*)?$")


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def test_a_text_longer_than_a_message_arrives_whole_in_marked_messages(workspace: Workspace) -> None:
    ws = workspace
    lines = [f"{n:05d} 未提交：" + "某某事项" * 10 for n in range(4000)]  # ~180,000 characters
    ws.parts.gateway.send_text(ws.bot.ctx.team.person_by_id["lina"], "\n".join(lines))
    sent = [c.args for c in ws.slack.of("chat.postMessage")]
    assert len(sent) >= 5 and ws.slack.problems == []
    assert all(len(a["text"]) <= MAX_TEXT for a in sent)
    markers = [_MARKER.search(a["text"]) for a in sent]
    assert [(m.group(1), m.group(2)) for m in markers if m] == [(str(n), str(len(sent))) for n in range(1, len(sent) + 1)]
    shown = [line for a in sent for line in _MARKER.sub("", a["text"]).split("\n")]
    assert shown == lines  # every line, in order, none cut inside


def test_an_incident_confirmation_full_of_escapes_stays_within_slacks_limits(workspace: Workspace) -> None:
    ws = workspace
    text = "影响：a&b<c>d " * 1500  # 19,500 characters typed, ~37,500 once `& < >` are escaped
    ws.parts.gateway.dm_user("ULINA", text, blocks.incident_reply(text, 7, "zh-CN"))
    ws.settle()
    sent = [c.args for c in ws.slack.of("chat.postMessage")]
    assert ws.slack.problems == [] and len(sent) >= 4
    assert all(blocks.block_text(a["blocks"]) <= MESSAGE_TEXT for a in sent)
    sections = [b["text"]["text"] for a in sent for b in a["blocks"] if b["type"] == "section"]
    assert all(len(s) <= MAX_SECTION for s in sections)
    assert "".join(_unescape(s) for s in sections).split() == text.split()
    assert [b["type"] for b in sent[-1]["blocks"]][-2:] == ["actions", "context"], "Edit on the last, then (n/n)"
    assert sent[-1]["blocks"][-1]["elements"][0]["text"] == f"({len(sent)}/{len(sent)})"


def test_a_command_answer_past_five_messages_says_how_many_were_left_out(workspace: Workspace) -> None:
    ws = workspace
    text = "\n".join(f"{n:05d} " + "预览内容" * 20 for n in range(6000))  # ~530,000 characters
    ws.parts.gateway.respond(f"{ws.slack.url}/respond/9", text)
    ws.settle()
    sent = [c.args for c in ws.slack.of("response_url")]
    assert len(sent) == 5 and ws.slack.problems == []
    total = int(_MARKER.search(sent[0]["text"]).group(2))  # type: ignore[union-attr]
    assert total > 5
    assert sent[-1]["text"].endswith(f"(5/{total}) · 另有 {total - 5} 条未在此显示")


def _prompt_with_incidents(count: int, headline: int) -> Prompt:
    logged = tuple(LoggedIncident(n, datetime(2024, 6, 24, 9, n % 60), "gateway", "<&>" + "超时" * (headline // 2))
                   for n in range(1, count + 1))
    return Prompt("2024-W26", "prompt", (), "…", "zh-CN", datetime(2024, 6, 28, 17), Question(1, logged))


def test_the_answer_forms_incident_list_is_cut_at_a_whole_line_with_and_m_more() -> None:
    view = blocks.answer_modal(_prompt_with_incidents(60, 200))
    [listed] = [b for b in view["blocks"] if b.get("block_id") == "question_logged"]
    text = listed["text"]["text"]
    assert len(text) <= MAX_SECTION and _sdk_problem("view", view) is None
    *incidents, more = text.split("\n")[1:]
    assert all(re.fullmatch(r"\s*#\d+ 06/24 09:\d\d gateway.*(超时){100}", line) for line in incidents)
    assert more == f"……另有 {60 - len(incidents)} 条" and len(incidents) >= 5


def test_a_long_severity_stays_within_the_75_characters_of_an_option() -> None:
    view = blocks.incident_modal(["A", "非常严重" * 30], "zh-CN")
    [select] = [b["element"] for b in view["blocks"] if b["block_id"] == "severity"]
    assert [len(o["text"]["text"]) <= 75 for o in select["options"]] == [True, True]
    assert select["options"][1]["value"] == "非常严重" * 30  # the value still names the severity
    assert _sdk_problem("view", view) is None


def test_escaping_counts_toward_a_sections_limit() -> None:
    typed = "<&>" * 2000  # 6,000 characters typed, 13,000 escaped
    parts = blocks.text_blocks(slack_escape(typed))
    assert all(len(b["text"]["text"]) <= MAX_SECTION for b in parts)
    assert "".join(_unescape(b["text"]["text"]) for b in parts) == typed
