"""Slack composer messages read as the console text a person would have typed (examples: examples/SOURCES.md)."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.slack.composer import slack_message_text

EXAMPLES = Path(__file__).parent / "examples"

# The REPORT.md 业务 answer with two nested sub-bullets, as the console demo types it (`[1] <<EOF`).
SEED_CONSOLE_TEXT = (
    "[1]\n"
    "- 商户入网新流程在上海、杭州切量，交易运行平稳。遗留问题：\n"
    "    - 存量商户资料迁移时触发银行侧单日开户上限，已协调扩容。\n"
    "    - 分批开户限流方案评审中，预计下周定稿。\n"
    "- 分账项目：预计7月3日进入联调。"
)


@dataclass
class Directory:
    """A fake of the directory: names by Slack id."""

    users: dict[str, str] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)

    def user_name(self, user_id: str) -> str | None:
        return self.users.get(user_id)

    def channel_name(self, channel_id: str) -> str | None:
        return self.channels.get(channel_id)


NOBODY = Directory()
TEAM = Directory(users={"U04WANG": "王强", "U04LINA": "李娜"}, channels={"C05OPS": "ops-payments"})


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return data


def text_only(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k != "blocks"}


def blocks_only(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k != "text"}


def test_every_example_is_listed_in_sources() -> None:
    listed = (EXAMPLES / "SOURCES.md").read_text(encoding="utf-8")
    for path in EXAMPLES.glob("*.json"):
        assert f"`{path.name}`" in listed, path.name


def test_seed_nested_bullets_typed_in_the_composer_store_what_the_console_stores() -> None:
    event = example("composed_seed_dm.json")
    assert slack_message_text(blocks_only(event), TEAM) == SEED_CONSOLE_TEXT
    assert slack_message_text(text_only(event), TEAM) == SEED_CONSOLE_TEXT
    assert slack_message_text(event, TEAM) == SEED_CONSOLE_TEXT


def test_docs_nested_list_keeps_its_levels() -> None:
    assert slack_message_text(example("docs_rich_text_list_nested.json"), NOBODY) == (
        "Breakfast foods I enjoy:\n- Hashbrowns\n- Eggs\n    - Scrambled\n    - Over easy\n- Pancakes, extra syrup")


def test_docs_bordered_list_reads_as_quoted_lines() -> None:
    assert slack_message_text(example("docs_rich_text_list_border.json"), NOBODY) == (
        "My favorite Slack features (in no particular order):\n> - Huddles\n> - Canvas\n"
        "> - Developing with Block Kit")


def test_docs_quote_and_preformatted() -> None:
    assert slack_message_text(example("docs_rich_text_quote.json"), NOBODY) == (
        "> What we need is good examples in our documentation.\nYes - I completely agree, Luke!")
    assert slack_message_text(example("docs_rich_text_preformatted.json"), NOBODY) == (
        '```\n{\n  "object": {\n    "description": "this is an example of a json object"\n  }\n}\n```')


def test_docs_section_styles_become_markdown() -> None:
    assert slack_message_text(example("docs_rich_text_section.json"), NOBODY).split("\n") == [
        "Hello there, I am a basic rich text block!",
        "Hello there, **I am a bold rich text block!**",
        "Hello there, *I am an italic rich text block!*",
        "Hello there, ~~I am a strikethrough rich text block!~~",
    ]


def test_docs_emoji_without_unicode_stay_as_names() -> None:
    assert slack_message_text(example("docs_emoji.json"), NOBODY) == ":basketball: :snowboarder: :checkered_flag:"


def test_edit_goes_through_the_same_translation() -> None:
    changed = example("bolt_python_message_changed.json")["event"]
    assert slack_message_text(changed["message"], NOBODY) == "updated message"
    assert slack_message_text(changed["previous_message"], NOBODY) == "original message"


def test_mention_in_text_only_event_uses_directory_name_or_the_id() -> None:
    event = example("bolt_python_app_mention.json")["event"]
    assert slack_message_text(event, NOBODY) == "@W111 Hi there!"
    assert slack_message_text(event, Directory(users={"W111": "周报"})) == "@周报 Hi there!"


def test_rich_dm_reads_the_same_from_blocks_and_from_text() -> None:
    event = example("composed_dm_rich.json")
    expected = (
        "本周进展，@王强 请看 @channel\n"
        "- 入网切量：[方案文档](https://wiki.example.com/onboarding)\n"
        "    - 上海、杭州已切量\n"
        "        - 存量迁移见 #ops-payments，值班 @payments-oncall\n"
        "- 交易运行平稳 & 无告警\n"
        "1. 评审\n"
        "    - 限流方案\n"
        "2. 上线 https://status.example.com"
    )
    assert slack_message_text(event, TEAM) == expected
    assert slack_message_text(text_only(event), TEAM) == expected
    # Without the text field the blocks still read, the group by its id (rich_text carries no handle).
    assert "值班 @S07ONCALL\n" in slack_message_text(blocks_only(event), TEAM)
    assert "<!channel>" not in expected and "<@" not in expected


def test_styles_emoji_quote_and_code_from_blocks() -> None:
    assert slack_message_text(example("composed_dm_styles.json"), NOBODY) == (
        "**风险** 与 *待定* ~~作废~~ `/zhoubao answer` ✅ :partyparrot:\n"
        "> 引用一行\n"
        "```\nSELECT 1;\nSELECT 2;\n```")


def test_docs_formatting_markup_in_text() -> None:
    event = example("composed_formatting_text.json")
    assert slack_message_text(event, Directory(users={"U0G9QF9C6": "Bob"})).split("\n") == [
        "Hey @Bob, thanks for submitting your report. See #C024BE7LR and ask @SAZ94GDB8.",
        "@here @channel @everyone",
        "Posted 2014-02-18 6:39:42 AM PST",
        "[This message is a link](http://www.example.com) [Email Bob Roberts](mailto:bob@example.com) "
        "bob@example.com https://example.com",
        "a < b && c > d",
    ]


def test_labelled_markup_falls_back_to_its_label_and_only_three_entities_are_unescaped() -> None:
    event = {"text": "<@U9|lina> <#C9|general> <!subteam^S9|@sre> <!here|here> &amp;lt; &hearts; <!channel>"}
    assert slack_message_text(event, NOBODY) == "@lina #general @sre @here &lt; &hearts; @channel"


def _rich(*elements: dict[str, Any], text: str = "fallback text") -> dict[str, Any]:
    return {"text": text, "blocks": [{"type": "rich_text", "block_id": "b", "elements": list(elements)}]}


def _section(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "rich_text_section", "elements": list(elements)}


def _items(style: str, indent: int, *words: str, **extra: Any) -> dict[str, Any]:
    return {"type": "rich_text_list", "style": style, "indent": indent,
            "elements": [_section({"type": "text", "text": w}) for w in words], **extra}


def test_unknown_user_and_channel_read_as_their_ids() -> None:
    event = _rich(_section({"type": "user", "user_id": "U123"}, {"type": "text", "text": " in "},
                           {"type": "channel", "channel_id": "C77"}))
    assert slack_message_text(event, NOBODY) == "@U123 in #C77"
    assert slack_message_text(event, Directory(users={"U123": "Ann Lee"}, channels={"C77": "ops"})) == "@Ann Lee in #ops"


def test_ordered_list_numbers_by_position_from_its_offset() -> None:
    # "if the offset = 4, the first number in the ordered list would be 5" (rich-text-list-element docs)
    event = _rich(_items("ordered", 0, "a", "b", offset=4), _items("ordered", 1, "c"),
                  _items("ordered", 0, "d", offset=6))
    assert slack_message_text(event, NOBODY) == "5. a\n6. b\n    1. c\n7. d"


def test_four_nested_levels_indent_four_spaces_each() -> None:
    event = _rich(*(_items("bullet", level, f"level {level}") for level in range(4)))
    assert slack_message_text(event, NOBODY).split("\n") == [
        "- level 0", "    - level 1", "        - level 2", "            - level 3"]


def test_a_line_break_inside_an_item_continues_under_its_text() -> None:
    event = _rich(_items("ordered", 1, "first\nsecond"))
    assert slack_message_text(event, NOBODY) == "    1. first\n       second"


def test_broadcasts_are_words_and_dates_their_fallback() -> None:
    event = _rich(_section(*({"type": "broadcast", "range": r} for r in ("channel", "here", "everyone")),
                           {"type": "date", "timestamp": 1719453600, "format": "{date_short}",
                            "fallback": "Jun 27, 2024"}))
    assert slack_message_text(event, NOBODY) == "@channel@here@everyoneJun 27, 2024"


@pytest.mark.parametrize(("code_points", "shown"), [
    ("1f44d", "👍"), ("1f44d-1f3fb", "👍🏻"), ("zz", ":thumbsup:"), ("d800", ":thumbsup:"), ("", ":thumbsup:")])
def test_emoji_shows_its_character_when_it_has_one(code_points: str, shown: str) -> None:
    event = _rich(_section({"type": "emoji", "name": "thumbsup", "unicode": code_points}))
    assert slack_message_text(event, NOBODY) == shown


def test_user_group_handle_comes_from_the_text_field() -> None:
    event = _rich(_section({"type": "usergroup", "usergroup_id": "S1"}), text="<!subteam^S1|@sre-oncall>")
    assert slack_message_text(event, NOBODY) == "@sre-oncall"
    assert slack_message_text(_rich(_section({"type": "usergroup", "usergroup_id": "S1"})), NOBODY) == "@S1"


def test_text_bullets_at_every_level_and_untouched_inside_code() -> None:
    event = {"text": "• a\n    ◦ b\n        ▪ c\n            • d\n```\n• not a list\n```\n1. one\n• e"}
    assert slack_message_text(event, NOBODY) == (
        "- a\n    - b\n        - c\n            - d\n```\n• not a list\n```\n1. one\n- e")


MALFORMED = [
    lambda b: b.pop("elements"),
    lambda b: b.update(elements="not a list"),
    lambda b: b["elements"][1].update(style="checklist"),
    lambda b: b["elements"][1].update(indent="1"),
    lambda b: b["elements"][1].update(indent=-1),
    lambda b: b["elements"][1]["elements"].append({"type": "text", "text": "x"}),
    lambda b: b["elements"][0]["elements"][0].update(text=42),
    lambda b: b["elements"][0]["elements"].append({"type": "canvas", "canvas_id": "F1"}),
    lambda b: b["elements"][0]["elements"].append({"type": "user"}),
    lambda b: b["elements"][0]["elements"].append(["not", "a", "dict"]),
    lambda b: b["elements"][0].update(type="rich_text_mystery"),
    lambda b: b["elements"][0]["elements"][0].update(style="bold"),
    lambda b: b["elements"].append(None),
]


@pytest.mark.parametrize("break_it", MALFORMED)
def test_malformed_block_falls_back_to_text(break_it: Any) -> None:
    event = copy.deepcopy(example("composed_seed_dm.json"))
    assert slack_message_text(event, TEAM) == SEED_CONSOLE_TEXT
    break_it(event["blocks"][0])
    event["text"] = "• what the text field says"
    assert slack_message_text(event, TEAM) == "- what the text field says"


@pytest.mark.parametrize("event", [{}, {"text": None}, {"text": 5, "blocks": "x"}, {"blocks": [None, 3]},
                                   {"blocks": [{"type": "rich_text"}]}, {"text": "<<<>>>&amp;"}])
def test_missing_or_odd_fields_never_raise(event: dict[str, Any]) -> None:
    assert isinstance(slack_message_text(event, NOBODY), str)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                        st.sampled_from(["type", "elements", "text", "style", "indent", "offset", "url",
                                         "user_id", "name", "unicode", "border", "range", "fallback"]),
                        inner, max_size=5), max_leaves=30)
TYPES = st.sampled_from(["rich_text", "rich_text_section", "rich_text_list", "rich_text_quote",
                         "rich_text_preformatted", "text", "link", "emoji", "user", "bullet", "ordered"])


@settings(max_examples=300, deadline=None)
@given(blocks=st.lists(st.fixed_dictionaries({"type": TYPES, "elements": JSON}), max_size=3), text=JSON)
def test_any_payload_gives_text_never_an_exception(blocks: list[Any], text: Any) -> None:
    assert isinstance(slack_message_text({"blocks": blocks, "text": text}, NOBODY), str)
