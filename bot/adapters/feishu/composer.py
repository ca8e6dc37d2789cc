"""What a person wrote in a Feishu/Lark message, as the core's plain text (pure functions).

Per Feishu's received-content documentation ("接收消息内容结构",
https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/im-v1/message/events/message_content), which differs
from the sending one:

- `text`: links arrive as `[超链接文本](超链接地址)` (mail links as `[text](mailto:…)`); each @ arrives as a
  `@_user_N` placeholder resolved through the message's `mentions` list; styles are dropped by Feishu.
  @所有人 arrives as `@_all`.
- `post`: `{title, content}` where content is paragraphs of elements tagged text (with `style`), a
  (href), at (`user_id` is the `@_user_N` placeholder, plus `user_name`), img, media, emotion
  (`emoji_type`), code_block (language, text) and hr. The `md` tag is send-only ("获取消息内容时将不包含
  此标签"), and quotes and ordered/unordered lists arrive simplified into text elements, so a list is
  kept as the lines it arrives as.

The result reads as a console user would have typed it: paragraphs as lines, links as Markdown (or the
bare address), mentions as `@name`, @所有人 as the word `@all` (which pings nobody once stored as text),
images and videos as a placeholder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Protocol

from bot.domain.links import markdown_link

# Feishu's own placeholders for what text cannot hold (a 红包 arrives as {"text": "[红包]"} per the same
# documentation); kept in the answer so a reader sees that something was attached.
IMAGE = "[图片]"
VIDEO = "[视频]"

_PLACEHOLDER = re.compile(r"@_user_\d+|@_all")
_LINK = re.compile(r"\[([^\[\]\n]*)\]\(([^()\s]*)\)")
_STYLE_MARKS = (("lineThrough", "~~"), ("italic", "*"), ("bold", "**"))  # innermost first


class Names(Protocol):
    """What the adapter knows: the bot's own open_id (None when unknown) and the directory's names."""

    @property
    def bot_open_id(self) -> str | None: ...

    def user_name(self, open_id: str) -> str | None: ...


def feishu_message_text(message: Mapping[str, Any], names: Names) -> tuple[str | None, bool]:
    """The message as plain text (None when it is neither `text` nor `post`), and whether it @mentions the bot.

    The bot's own mention is removed; anyone else's becomes `@name` (the directory's name, else the name
    Feishu sent). Without a known bot open_id, any person mentioned counts as addressing the bot (Feishu
    delivers a group message to a bot only when it is @mentioned). Total: malformed content gives
    (None, False) or skips the malformed element, never an exception.
    """
    if not isinstance(message, Mapping):
        return None, False
    try:
        content = json.loads(message.get("content") or "{}")
    except (TypeError, ValueError):
        return None, False
    if not isinstance(content, dict):
        return None, False
    mentions = _Mentions(message.get("mentions"), names)
    kind = message.get("message_type")
    if kind == "text":
        raw = content.get("text")
        if not isinstance(raw, str):
            return None, False
        text = _PLACEHOLDER.sub(lambda m: mentions.word(m.group(0)), raw)
        text = _LINK.sub(lambda m: markdown_link(m.group(2), m.group(1)), text)
    elif kind == "post":
        text = _post_text(content, mentions)
    else:
        return None, False
    return _tidy(text), mentions.addresses_bot


class _Mentions:
    def __init__(self, raw: Any, names: Names) -> None:
        self.names = names
        self.by_key: dict[str, tuple[str | None, str]] = {}
        self.addresses_bot = False
        for m in raw if isinstance(raw, list) else []:
            if not isinstance(m, Mapping) or not isinstance(m.get("key"), str) or m["key"] == "@_all":
                continue
            ids = m.get("id")
            open_id = ids.get("open_id") if isinstance(ids, Mapping) else None
            open_id = open_id if isinstance(open_id, str) else None
            name = m.get("name")
            self.by_key[m["key"]] = (open_id, name if isinstance(name, str) else "")
            self.addresses_bot = self.addresses_bot or self._is_bot(open_id)

    def _is_bot(self, open_id: str | None) -> bool:
        bot = self.names.bot_open_id
        return open_id == bot if bot else True

    def word(self, key: str, fallback_name: str = "") -> str:
        """What a placeholder reads as: "" for the bot, `@all` for everyone, `@name` for a person."""
        if key in ("@_all", "all"):
            return "@all"
        if key not in self.by_key:
            if key.startswith("@_user_"):  # a placeholder the mentions list does not explain
                return "@" + fallback_name if fallback_name else key
            # A sent-shape post names the person by open_id itself.
            if self.names.bot_open_id and key == self.names.bot_open_id:
                return ""
            return "@" + (self.names.user_name(key) or fallback_name or key)
        open_id, name = self.by_key[key]
        if self._is_bot(open_id):
            return ""
        known = self.names.user_name(open_id) if open_id else None
        return "@" + (known or name or fallback_name or key.lstrip("@"))


def _post_text(content: dict[str, Any], mentions: _Mentions) -> str:
    # Received posts are {title, content}; a sent-shape post is keyed by language ({"zh_cn": {...}}).
    if "content" not in content:
        content = next((v for v in content.values() if isinstance(v, dict) and "content" in v), {})
    title = content.get("title")
    lines = [title] if isinstance(title, str) and title.strip() else []
    paragraphs = content.get("content")
    for paragraph in paragraphs if isinstance(paragraphs, list) else []:
        if isinstance(paragraph, list):
            lines.append(_paragraph(paragraph, mentions))
    return "\n".join(lines)


def _paragraph(elements: list[Any], mentions: _Mentions) -> str:
    out = ""
    for el in elements:
        if not isinstance(el, Mapping):
            continue
        piece = _element(el, mentions)
        if piece.startswith("```") and out and not out.endswith("\n"):
            out += "\n"  # a code block starts on its own line
        out += piece
    return out


def _element(el: Mapping[str, Any], mentions: _Mentions) -> str:
    tag = el.get("tag")
    text = _str(el.get("text"))
    if tag == "text":
        return _styled(text, el.get("style"))
    if tag == "a":
        href = el.get("href")
        return _styled(markdown_link(href, text), el.get("style")) if isinstance(href, str) and href else text
    if tag == "at":
        key = el.get("user_id")
        name = _str(el.get("user_name"))
        return mentions.word(key, name) if isinstance(key, str) else ("@" + name if name else "")
    if tag == "img":
        return IMAGE
    if tag == "media":
        return VIDEO
    if tag == "emotion":
        emoji = el.get("emoji_type")
        return f"[{emoji}]" if isinstance(emoji, str) and emoji else ""
    if tag == "code_block":
        language = el.get("language")
        lang = language.lower() if isinstance(language, str) else ""
        return f"```{lang}\n{text.rstrip(chr(10))}\n```"
    if tag == "hr":
        return "---"
    return text  # md (send-only, but harmless) and tags added later: their text as written


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _styled(text: str, style: Any) -> str:
    """Feishu's post styles (bold / italic / lineThrough; underline has no Markdown) as Markdown marks."""
    core = text.strip()
    if not isinstance(style, list) or not core:
        return text
    lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()):]
    for key, mark in _STYLE_MARKS:
        if key in style:
            core = f"{mark}{core}{mark}"
    return lead + core + trail


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    if lines:
        lines[0] = lines[0].lstrip(" ")  # what an @bot at the very start leaves behind
    return "\n".join(lines).strip("\n")
