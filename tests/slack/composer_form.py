"""What Slack's message composer sends for what a person typed: the mrkdwn `text` and the `rich_text` block.

The shapes follow the recorded composer messages beside this file (`examples/composed_seed_dm.json`: a
section ending in the newline before a list, one `rich_text_list` per run of items at one `indent`,
`offset` for a list that continues; `text` with `•`, `◦`, `▪` bullets four spaces deeper per level) and
the rich text element references (user, link, broadcast elements:
https://docs.slack.dev/reference/block-kit/blocks/rich-text-block). Used to play the console's week as
Slack composer DMs, so what the bot stores can be compared with what the console stores.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_ITEM = re.compile(r"^((?:    )*)(?:- |(\d+)\. )(.*)$")
_INLINE = re.compile(r"\[([^\[\]\n]+)\]\((https?://[^()\s]+)\)|@(channel|here|everyone)\b|@(\S+?)(?=[\s，。,.!?]|$)")
_BULLETS = "•◦▪"


def composer_event(typed: str, user_ids: Mapping[str, str]) -> tuple[str, list[dict[str, Any]]]:
    """(`text`, `blocks`) of the message Slack sends when `typed` is composed: `- ` / `1. ` lines become
    lists, `@name` of someone in `user_ids` a mention, `[label](url)` a link, `@channel` a broadcast."""
    elements: list[dict[str, Any]] = []
    text_lines: list[str] = []
    section: list[str] = []

    def flush(before_list: bool) -> None:
        if section:
            body = "\n".join(section) + ("\n" if before_list else "")
            elements.append({"type": "rich_text_section", "elements": _inline(body, user_ids)})
            section.clear()

    for line in typed.split("\n"):
        m = _ITEM.match(line)
        if not m:
            section.append(line)
            text_lines.append(_mrkdwn(line, user_ids))
            continue
        flush(before_list=True)
        level, number, body = len(m.group(1)) // 4, m.group(2), m.group(3)
        style = "ordered" if number else "bullet"
        item = {"type": "rich_text_section", "elements": _inline(body, user_ids)}
        last = elements[-1] if elements else None
        if last and last["type"] == "rich_text_list" and last["style"] == style and last["indent"] == level:
            last["elements"].append(item)
        else:
            el: dict[str, Any] = {"type": "rich_text_list", "style": style, "indent": level, "border": 0,
                                  "elements": [item]}
            if number and int(number) > 1:
                el["offset"] = int(number) - 1
            elements.append(el)
        marker = f"{number}." if number else _BULLETS[level % 3]
        text_lines.append("    " * level + f"{marker} " + _mrkdwn(body, user_ids))
    flush(before_list=False)
    return "\n".join(text_lines), [{"type": "rich_text", "block_id": "cmp0", "elements": elements}]


def _inline(text: str, user_ids: Mapping[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    last = 0
    for m in _INLINE.finditer(text):
        if m.group(4) and m.group(4) not in user_ids:
            continue
        if m.start() > last:
            out.append({"type": "text", "text": text[last:m.start()]})
        if m.group(1):
            out.append({"type": "link", "url": m.group(2), "text": m.group(1)})
        elif m.group(3):
            out.append({"type": "broadcast", "range": m.group(3)})
        else:
            out.append({"type": "user", "user_id": user_ids[m.group(4)]})
        last = m.end()
    if last < len(text):
        out.append({"type": "text", "text": text[last:]})
    return out


def _mrkdwn(text: str, user_ids: Mapping[str, str]) -> str:
    pieces: list[str] = []
    for el in _inline(text, user_ids):
        if el["type"] == "text":
            pieces.append(el["text"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
        elif el["type"] == "link":
            pieces.append(f"<{el['url']}|{el['text']}>")
        elif el["type"] == "broadcast":
            pieces.append(f"<!{el['range']}>")
        else:
            pieces.append(f"<@{el['user_id']}>")
    return "".join(pieces)
