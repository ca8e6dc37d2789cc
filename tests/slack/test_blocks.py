"""Block builders are pure: tested without a network. Plus people and DM channels across weeks."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.slack import blocks
from bot.domain.forms import AnswerForm, IncidentForm
from bot.domain.prompts import Prompt, PromptItem
from bot.domain.team import ItemKind
from tests.slack.conftest import Workspace


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="ab &<>\n中", min_size=0, max_size=4000), min_size=1, max_size=12),
       st.integers(min_value=50, max_value=3000))
def test_sections_keep_every_character_within_the_limit(paragraphs: list[str], limit: int) -> None:
    text = "\n\n".join(blocks.escape(p) for p in paragraphs)
    parts = blocks.sections(text, limit)
    assert all(0 < len(p) <= limit for p in parts)
    squash = "".join(text.split())
    assert "".join("".join(parts).split()) == squash.strip()
    for p in parts:  # no escape entity is cut in half
        assert not p.rstrip().endswith(("&", "&a", "&am", "&l", "&g"))


def test_report_messages_hold_at_most_50_blocks() -> None:
    text = "\n\n".join(f"段落{n} " + "x" * 2000 for n in range(120))
    messages = blocks.report_messages(text, max_text=10**9)
    assert [len(m) for m in messages] == [50, 50, 20]


def test_report_messages_stay_under_the_total_text_slack_allows_and_lose_nothing() -> None:
    text = "\n\n".join(f"段落{n} " + "很长的说明" * 300 for n in range(30))  # ~45,000 characters
    messages = blocks.report_messages(text)
    assert len(messages) > 4
    assert all(blocks.block_text(m) <= blocks.MESSAGE_TEXT for m in messages)
    shown = "".join(b["text"]["text"] for m in messages for b in m)
    assert "".join(shown.split()) == "".join(text.split())


def test_block_text_counts_every_text_string_in_the_tree() -> None:
    tree = [{"type": "section", "text": {"type": "mrkdwn", "text": "abc"}},
            {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "填写"}}]}]
    assert blocks.block_text(tree) == 5


def test_prompt_text_is_escaped_and_has_an_answer_button() -> None:
    item = PromptItem(1, "okr:O1/x", "O1 · x", ItemKind.OKR, "x", "<!channel> last week", None)
    prompt = Prompt("2024-W26", "prompt", (item,), "[1] O1 · x\n<!channel> last week", "en",
                    datetime(2024, 6, 28, 17))
    [built] = blocks.prompt_messages(prompt)
    assert "&lt;!channel&gt;" in built[0]["text"]["text"] and "<!channel>" not in json.dumps(built)
    assert built[-1]["elements"][0] == {"type": "button", "action_id": "zhoubao_answer", "value": "2024-W26",
                                        "text": {"type": "plain_text", "text": "Answer", "emoji": True},
                                        "style": "primary"}


def test_a_long_prompt_is_several_messages_with_the_button_on_the_last() -> None:
    text = "\n\n".join(f"[{n}] 项目{n}\n" + "上周的内容" * 500 for n in range(1, 13))  # ~30,000 characters
    prompt = Prompt("2024-W26", "prompt", (), text, "zh-CN", datetime(2024, 6, 28, 17))
    parts = blocks.prompt_messages(prompt)
    assert len(parts) >= 3
    assert all(blocks.block_text(p) <= blocks.MESSAGE_TEXT and len(p) <= blocks.MAX_BLOCKS for p in parts)
    assert [any(b["type"] == "actions" for b in p) for p in parts] == [False] * (len(parts) - 1) + [True]


def test_answer_form_round_trip() -> None:
    items = (PromptItem(1, "project:P/业务", "P · 业务", ItemKind.PART, "业务", "上周内容", None),
             PromptItem(2, "bank:P/建行", "P · 银行 · 建行", ItemKind.BANK, "建行", None, "本周已有"))
    view = blocks.answer_modal(Prompt("2024-W26", "prompt", items, "…", "zh-CN", datetime(2024, 6, 28, 17)))
    assert [b["block_id"] for b in view["blocks"]] == ["item:1", "progress:1", "problem:1", "item:2"]
    assert view["blocks"][0]["element"]["initial_value"] == "上周内容"
    assert view["blocks"][3]["element"]["initial_value"] == "本周已有"
    view["state"] = {"values": {"item:1": {"text": {"value": "完成切量"}}, "progress:1": {"value": {"value": "60"}},
                                "problem:1": {"value": {"value": "开户上限"}}, "item:2": {"text": {"value": None}}}}
    assert blocks.answer_week(view) == "2024-W26"
    answers = blocks.answer_forms(view, items)
    assert answers == [AnswerForm("project:P/业务", "完成切量", "60", "开户上限"), AnswerForm("bank:P/建行")]


def test_a_long_answer_is_shown_read_only_and_not_submitted() -> None:
    long = "很长的答案。" * 2000  # 12,000 characters: more than an input takes
    items = (PromptItem(1, "okr:O1/a", "O1 · a", ItemKind.OKR, "a", None, long),
             PromptItem(2, "okr:O1/b", "O1 · b", ItemKind.OKR, "b", None, "短"))
    view = blocks.answer_modal(Prompt("2024-W26", "prompt", items, "…", "zh-CN", datetime(2024, 6, 28, 17)))
    first = view["blocks"][0]
    assert first["type"] == "section" and "长答案已保留" in first["text"]["text"] and "element" not in first
    assert all(len(b["element"].get("initial_value", "")) <= blocks.MAX_INPUT for b in view["blocks"] if "element" in b)
    view["state"] = {"values": {b["block_id"]: {b["element"]["action_id"]: {"value": "改"}}
                                for b in view["blocks"] if "element" in b}}
    assert [a.item_key for a in blocks.answer_forms(view, items)] == ["okr:O1/b"]


def test_the_answer_modal_stays_within_100_blocks_and_3000_characters_of_metadata() -> None:
    items = tuple(PromptItem(n, f"bank:聚合收单/银行/很长的银行名称{n}", f"聚合收单 · 银行 · 银行{n}",
                             ItemKind.PART if n % 2 else ItemKind.BANK, f"银行{n}", None, None) for n in range(1, 121))
    view = blocks.answer_modal(Prompt("2024-W26", "prompt", items, "…", "zh-CN", datetime(2024, 6, 28, 17)))
    assert len(view["blocks"]) <= 100 and len(view["private_metadata"]) <= 3000
    assert not any(b["block_id"].startswith("progress:") for b in view["blocks"] if "block_id" in b)
    notes = [b["elements"][0]["text"] for b in view["blocks"] if b["type"] == "context"]
    assert "进度和主要问题请直接写在文字中" in notes[0] and "另有 22 项" in notes[-1]


def test_incident_form_holds_every_field_typed() -> None:
    view = blocks.incident_modal(["A", "B"], "en", number=3)
    assert [b["block_id"] for b in view["blocks"]] == [
        "start", "system", "what", "cause", "impact", "recovered", "severity", "weight", "attribution",
        "availability"]
    view["state"] = {"values": {"cause": {"value": {"value": "disk  full\nagain"}},
                                "severity": {"value": {"selected_option": {"value": "B"}}},
                                "weight": {"value": {"value": "0.5"}},
                                "attribution": {"value": {"value": "own"}},
                                "availability": {"value": {"selected_option": {"value": "no"}}}}}
    assert blocks.incident_form(view) == IncidentForm(cause="disk  full\nagain", severity="B", weight="0.5",
                                                      counts_toward_availability=False, number=3,
                                                      attribution="own")


def test_prompts_reach_each_dm_by_user_id_without_opening_it(workspace: Workspace) -> None:
    ws = workspace
    ws.bot.cycle.send_prompts("prompt", ws.clock.now)
    ws.clock.now += timedelta(days=7)
    ws.bot.cycle.send_prompts("prompt", ws.clock.now)
    ws.settle()
    people = len(ws.bot.ctx.team.owners())
    assert len(ws.slack.of("chat.postMessage")) == 2 * people
    assert ws.slack.of("conversations.open") == []
    assert len(ws.slack.of("users.lookupByEmail")) == people
    assert len(ws.replies_to("lina")) == 2
    from storage.db import transaction
    from storage.directory import Directory
    with transaction(ws.bot.ctx.db) as s:
        stored = Directory(s).platform_ids(ws.bot.ctx.team_id, "slack")
    assert stored["lina"] == "ULINA"


def test_doctor_names_people_it_cannot_resolve(team, stand_in) -> None:  # type: ignore[no-untyped-def]
    from pydantic import SecretStr

    from bot.adapters.slack.doctor import check
    from bot.runtime.settings import Settings

    del stand_in.users["zhoujie@example.com"]
    stand_in.scopes = ("channels:history,channels:read,chat:write,commands,groups:history,groups:read,im:history,"
                       "im:write,users:read")
    settings = Settings(_env_file=None, slack_bot_token=SecretStr("xoxb-test"),  # type: ignore[call-arg]
                        slack_signing_secret=SecretStr("s"), slack_api_url=stand_in.url + "/api/")
    lines = check(settings, team)
    assert lines[0] == (True, "slack transport: HTTP on port 3000, POST /slack/events")
    assert (False, "slack scopes: missing files:write, users:read.email — add them under OAuth & Permissions "
                   "and reinstall the app") in lines
    assert lines[-1][0] is False
    assert lines[-1][1].startswith("slack people: cannot resolve 周杰 (zhoujie@example.com: users_not_found)")
    settings.slack_bot_token = SecretStr("bad-token")
    ok, line = check(settings, team)[-1]
    assert not ok and line.startswith("Slack refused SLACK_BOT_TOKEN (not_authed)")


def test_the_manifest_matches_the_app(workspace: Workspace) -> None:
    from pathlib import Path

    from ruamel.yaml import YAML

    from bot.adapters.slack.doctor import REQUIRED_SCOPES

    manifest = YAML(typ="safe").load(Path(__file__).parents[2] / "docs" / "slack-manifest.yaml")
    assert tuple(manifest["oauth_config"]["scopes"]["bot"]) == REQUIRED_SCOPES
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == ["message.im"]
    unhandled = workspace.event({"type": "message", "channel": "DX", "channel_type": "im", "user": "UX",
                                 "text": "hi", "ts": workspace.ts()})
    assert unhandled == 200  # message.im has a listener (Bolt answers 404 to an unhandled event)
    commands = [c["command"] for c in manifest["features"]["slash_commands"]]
    for command in commands:  # each command reaches a listener (a 404 would be an unhandled request)
        status, _ = workspace.command(command, "UZHANGWEI", "help")
        assert status == 200
    workspace.settle()
    assert len(workspace.slack.of("response_url")) == len(commands)

