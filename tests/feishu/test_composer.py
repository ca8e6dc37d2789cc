"""Feishu text and post messages read as the console text a person would have typed (examples: examples/SOURCES.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.feishu.composer import IMAGE, VIDEO, feishu_message_text

EXAMPLES = Path(__file__).parent / "examples"
BOT = "ou_bot_zhoubao"

SEED_CONSOLE_TEXT = (
    "[1]\n"
    "- 商户入网新流程在上海、杭州切量，交易运行平稳。遗留问题：\n"
    "    - 存量商户资料迁移时触发银行侧单日开户上限，已协调扩容。\n"
    "    - 分批开户限流方案评审中，预计下周定稿。\n"
    "- 分账项目：预计7月3日进入联调。"
)


@dataclass
class Names:
    """A fake of what the adapter knows: its own open_id and the directory's names."""

    bot_open_id: str | None = BOT
    users: dict[str, str] = field(default_factory=dict)

    def user_name(self, open_id: str) -> str | None:
        return self.users.get(open_id)


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return data


def message(kind: str, content: Any, mentions: Any = None) -> dict[str, Any]:
    return {"message_type": kind, "content": content if isinstance(content, str) else json.dumps(content),
            "mentions": mentions}


def test_every_example_is_listed_in_sources() -> None:
    listed = (EXAMPLES / "SOURCES.md").read_text(encoding="utf-8")
    for path in EXAMPLES.glob("*.json"):
        assert f"`{path.name}`" in listed, path.name


def test_docs_group_message_addressed_to_the_bot() -> None:
    msg = example("docs_receive_v1_group_text.json")["event"]["message"]
    tom = msg["mentions"][0]["id"]["open_id"]
    assert feishu_message_text(msg, Names(bot_open_id=tom)) == ("hello", True)
    assert feishu_message_text(msg, Names()) == ("@Tom hello", False)
    assert feishu_message_text(msg, Names(users={tom: "汤姆"})) == ("@汤姆 hello", False)
    # Without a known bot open_id any mention addresses the bot (Feishu only delivers group messages that @ it).
    assert feishu_message_text(msg, Names(bot_open_id=None)) == ("hello", True)


def test_docs_received_text_content_with_an_unknown_placeholder_keeps_it() -> None:
    content = example("docs_received_text_content.json")
    assert feishu_message_text(message("text", content), Names()) == ("@_user_1 文本消息", False)
    mentions = [{"key": "@_user_1", "id": {"open_id": "ou_wang"}, "name": "王强"}]
    assert feishu_message_text(message("text", content, mentions), Names()) == ("@王强 文本消息", False)


def test_docs_received_post_with_every_documented_tag() -> None:
    content = example("docs_received_post_content.json")
    mentions = [{"key": "@_user_1", "id": {"open_id": "ou_tom"}, "name": "Tom"}]
    text, mentioned = feishu_message_text(message("post", content, mentions), Names())
    assert not mentioned
    assert text is not None and text.split("\n") == [
        "我是一个标题",
        "**第一行 :*****[超链接](http://www.feishu.cn)***@Tom",
        IMAGE,
        "**第二行:**文本测试",
        IMAGE,
        VIDEO,
        "[SMILE]",
        "---",
        "```go",
        "func main() int64 {",
        "    return 0",
        "}",
        "```",
    ]


def test_post_at_the_bot_is_removed_and_counts_as_addressing_it() -> None:
    content = {"title": "", "content": [[{"tag": "at", "user_id": "@_user_1", "user_name": "周报"},
                                          {"tag": "text", "text": " 周报已填"}]]}
    mentions = [{"key": "@_user_1", "id": {"open_id": BOT}, "name": "周报"}]
    assert feishu_message_text(message("post", content, mentions), Names()) == ("周报已填", True)


def test_post_list_arrives_as_text_lines_and_stays_lines() -> None:
    content = example("moviepilot_5976_post_list_content.json")
    assert feishu_message_text(message("post", content), Names()) == ("- 第一行\n- 第二行", False)


@pytest.mark.parametrize("name", ["composed_seed_text.json", "composed_seed_post.json"])
def test_seed_nested_bullets_store_what_the_console_stores(name: str) -> None:
    assert feishu_message_text(example(name), Names()) == (SEED_CONSOLE_TEXT, False)


def test_group_text_links_mentions_and_at_all() -> None:
    text, mentioned = feishu_message_text(example("composed_group_text.json"), Names(users={"ou_wang": "王强"}))
    assert mentioned
    assert text == ("本周进展请 @王强 确认 @all，文档 [方案文档](https://wiki.example.com/onboarding) "
                    "https://status.example.com ops@example.com")


def test_at_all_pings_nobody_and_does_not_address_the_bot() -> None:
    post = {"title": "", "content": [[{"tag": "at", "user_id": "@_all", "user_name": "所有人"},
                                       {"tag": "text", "text": " 请填周报"}]]}
    mentions = [{"key": "@_all", "id": {}, "name": "所有人"}]
    assert feishu_message_text(message("post", post, mentions), Names(bot_open_id=None)) == ("@all 请填周报", False)
    assert feishu_message_text(message("text", {"text": "@_all 请填周报"}), Names()) == ("@all 请填周报", False)


def test_sent_shape_post_keyed_by_language_still_reads() -> None:
    post = {"zh_cn": {"title": "标题", "content": [[{"tag": "text", "text": "正文"},
                                                    {"tag": "md", "text": "\n- 一\n- 二"}]]}}
    assert feishu_message_text(message("post", post), Names()) == ("标题\n正文\n- 一\n- 二", False)


def test_sent_shape_at_names_the_person_by_open_id() -> None:
    post = {"zh_cn": {"content": [[{"tag": "at", "user_id": "ou_wang"}, {"tag": "text", "text": " "},
                                   {"tag": "at", "user_id": "ou_li", "user_name": "李娜"},
                                   {"tag": "at", "user_id": BOT}, {"tag": "text", "text": " 好"}]]}}
    assert feishu_message_text(message("post", post), Names(users={"ou_wang": "王强"})) == ("@王强 @李娜 好", False)


def test_link_labels_that_are_the_address_read_as_typed() -> None:
    post = {"content": [[{"tag": "a", "href": "https://x.example.com/a", "text": "x.example.com/a"},
                         {"tag": "text", "text": " "},
                         {"tag": "a", "href": "https://y.example.com", "text": ""},
                         {"tag": "text", "text": " "},
                         {"tag": "a", "href": "mailto:ops@example.com", "text": "值班邮箱"}]]}
    assert feishu_message_text(message("post", post), Names()) == (
        "x.example.com/a https://y.example.com [值班邮箱](mailto:ops@example.com)", False)


@pytest.mark.parametrize("kind", ["image", "file", "audio", "sticker", "interactive", "share_chat", None])
def test_other_message_types_are_not_text(kind: str | None) -> None:
    assert feishu_message_text({"message_type": kind, "content": json.dumps({"image_key": "img_x"})}, Names()) == (
        None, False)


@pytest.mark.parametrize("msg", [
    {}, {"message_type": "text"}, {"message_type": "text", "content": "not json"},
    {"message_type": "text", "content": "[1, 2]"}, {"message_type": "text", "content": json.dumps({"text": 5})},
    {"message_type": "text", "content": 5}, {"message_type": "text", "content": json.dumps({"text": "a"}),
                                             "mentions": "x"},
])
def test_malformed_text_gives_nothing_or_what_is_readable(msg: dict[str, Any]) -> None:
    text, mentioned = feishu_message_text(msg, Names())
    assert text in (None, "a") and mentioned is False


def test_malformed_post_elements_are_skipped_and_the_rest_kept() -> None:
    post = {"title": 7, "content": [None, [1, {"tag": 5}, {"tag": "text", "text": "留下"}, {"tag": "text"},
                                           {"tag": "at", "user_id": None}, {"tag": "a", "href": 3, "text": "链"}],
                                     "not a paragraph", [{"tag": "emotion"}, {"tag": "code_block", "text": None}]]}
    mentions = [None, {"key": 3}, {"key": "@_user_9", "id": "not a dict"}]
    assert feishu_message_text(message("post", post, mentions), Names()) == ("留下链\n```\n\n```", False)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                        st.sampled_from(["tag", "text", "href", "user_id", "user_name", "style", "content", "title",
                                         "key", "id", "open_id", "name", "emoji_type", "language", "zh_cn"]),
                        inner, max_size=5), max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(["text", "post", "image", 3]), content=JSON, mentions=JSON,
       bot=st.sampled_from([None, BOT]))
def test_any_payload_gives_a_result_never_an_exception(kind: Any, content: Any, mentions: Any,
                                                       bot: str | None) -> None:
    text, mentioned = feishu_message_text(message(kind, json.dumps(content), mentions), Names(bot_open_id=bot))
    assert text is None or isinstance(text, str)
    assert isinstance(mentioned, bool)
