"""What a person typed in Slack's message composer, as the core's plain text (pure functions).

Slack delivers a composer message twice: as a `rich_text` block, the structure the person built
("It is also the output of the Slack client's WYSIWYG message composer, so all messages sent by
end-users will have this format", https://docs.slack.dev/reference/block-kit/blocks/rich-text-block),
and as `text`, mrkdwn with `<…>` markup (https://docs.slack.dev/messaging/formatting-message-text).
The block is the source when it is there and well formed; otherwise `text` is translated.

Either way the result reads as a console user would have typed it: lists as `- ` / `1. ` lines at four
spaces per level, quotes as `> ` lines, code fenced with ```, links as Markdown `[label](url)` (or the bare
url), mentions as `@display name` / `#channel`, and broadcasts as the plain words `@channel` / `@here` /
`@everyone`, which ping nobody once rendered as text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

from bot.domain.links import markdown_link

INDENT = "    "  # one list level, as the console (and bot/replies.py) reads nesting


class NameLookup(Protocol):
    """The directory's names for Slack ids (None when unknown)."""

    def user_name(self, user_id: str) -> str | None: ...

    def channel_name(self, channel_id: str) -> str | None: ...


class _Malformed(Exception):
    """A rich_text block is not in the documented shape: translate `text` instead."""


def slack_message_text(event: Mapping[str, Any], names: NameLookup) -> str:
    """The message as the core's plain text: its rich_text blocks when present and well formed, else `text`.

    Total over malformed payloads: a block with missing keys, wrong types or element types this module
    does not know falls back to `text`; a missing or non-string `text` reads as "".
    """
    raw_text = event.get("text") if isinstance(event, Mapping) else None
    text = raw_text if isinstance(raw_text, str) else ""
    blocks = event.get("blocks") if isinstance(event, Mapping) else None
    rich = [b for b in blocks if isinstance(b, Mapping) and b.get("type") == "rich_text"] \
        if isinstance(blocks, list) else []
    if rich:
        try:
            reader = _RichText(names, _usergroup_handles(text), _channel_names(text))
            return _tidy("\n".join(reader.block(b) for b in rich))
        except (_Malformed, TypeError, ValueError, KeyError, AttributeError, IndexError):
            pass  # the documented promise is the text field; fall through to it
    return _tidy(mrkdwn_text(text, names))


# --- rich_text blocks -------------------------------------------------------------------------------
# Shapes: https://docs.slack.dev/reference/block-kit/block-elements/rich-text-section-element,
# …/rich-text-list-element (style, indent, offset, border), …/rich-text-quote-element,
# …/rich-text-preformatted-element, and the inline elements text/link/user/channel/usergroup/
# broadcast/emoji/date/color/team (slack_sdk.models.blocks.block_elements.RichTextElementParts).

_STYLE_MARKS = (("code", "`"), ("strike", "~~"), ("italic", "*"), ("bold", "**"))  # innermost first


class _RichText:
    def __init__(self, names: NameLookup, usergroups: Mapping[str, str], channels: Mapping[str, str]) -> None:
        self.names = names
        self.usergroups = usergroups
        self.channels = channels

    def block(self, block: Mapping[str, Any]) -> str:
        parts = [self._top(el) for el in _list(block.get("elements"))]
        return "\n".join(parts)

    def _top(self, el: Any) -> str:
        el = _map(el)
        kind = el.get("type")
        if kind == "rich_text_section":
            # A section that runs into a list or quote ends with the newline the person typed;
            # the element boundary already is that line break.
            return _drop_one_newline(self._inline(el.get("elements")))
        if kind == "rich_text_list":
            return self._list(el)
        if kind == "rich_text_quote":
            lines = _drop_one_newline(self._inline(el.get("elements"))).split("\n")
            return "\n".join(f"> {line}" if line else ">" for line in lines)
        if kind == "rich_text_preformatted":
            body = _drop_one_newline(self._inline(el.get("elements"), code=True))
            return _bordered(f"```\n{body}\n```", el)
        raise _Malformed(kind)

    def _list(self, el: Mapping[str, Any]) -> str:
        style = el.get("style")
        if style not in ("bullet", "ordered"):
            raise _Malformed(style)
        indent = _int(el.get("indent", 0))
        offset = _int(el.get("offset", 0))
        lines: list[str] = []
        for position, item in enumerate(_list(el.get("elements"))):
            item = _map(item)
            if item.get("type") != "rich_text_section":
                raise _Malformed(item.get("type"))
            marker = "- " if style == "bullet" else f"{offset + position + 1}. "
            first, *more = _drop_one_newline(self._inline(item.get("elements"))).split("\n")
            lines.append(INDENT * indent + marker + first)
            # A shift-return inside an item continues it under the item's text, as Markdown reads it.
            lines += [INDENT * indent + " " * len(marker) + line if line else "" for line in more]
        return _bordered("\n".join(lines), el)

    def _inline(self, elements: Any, code: bool = False) -> str:
        """Inline elements as text. Consecutive text and link runs in the same style are styled once, so two
        adjacent bold runs read `**ab**`, never `**a****b**`, and a bold link keeps its bold."""
        out: list[str] = []
        run: list[str] = []
        run_style: tuple[str, ...] = ()
        for el in _list(elements):
            el = _map(el)
            styled = not code and el.get("type") in ("text", "link")
            style = _style_keys(el.get("style")) if styled else ()
            if run and style != run_style:
                out.append(_styled("".join(run), run_style))
                run = []
            if style:
                run.append(self._element(el, code))
                run_style = style
            else:
                out.append(self._element(el, code))
        if run:
            out.append(_styled("".join(run), run_style))
        return "".join(out)

    def _element(self, el: Mapping[str, Any], code: bool) -> str:
        """One inline element, unstyled (`_inline` styles runs)."""
        kind = el.get("type")
        if kind == "text":
            return _str(el.get("text"))
        if kind == "link":
            url, label = _str(el.get("url")), el.get("text")
            if label is not None and not isinstance(label, str):
                raise _Malformed("link text")
            return (label or url) if code else markdown_link(url, label or "")
        if kind == "user":
            user_id = _str(el.get("user_id"))
            return "@" + (self.names.user_name(user_id) or user_id)
        if kind == "channel":  # the name Slack wrote in `text`, else the directory's, else the id
            channel_id = _str(el.get("channel_id"))
            return "#" + (self.channels.get(channel_id) or self.names.channel_name(channel_id) or channel_id)
        if kind == "usergroup":
            group_id = _str(el.get("usergroup_id"))
            return "@" + self.usergroups.get(group_id, group_id)
        if kind == "broadcast":
            return "@" + _str(el.get("range"))
        if kind == "emoji":
            return _emoji(_str(el.get("name")), el.get("unicode"))
        if kind == "date":
            return _str(el.get("fallback"))
        if kind == "color":
            return _str(el.get("value"))
        if kind == "team":
            return "@" + _str(el.get("team_id"))
        raise _Malformed(kind)


def _style_keys(style: Any) -> tuple[str, ...]:
    """The style flags set on an element, innermost first (empty for none)."""
    if style is None:
        return ()
    style = _map(style)
    return tuple(key for key, _ in _STYLE_MARKS if style.get(key) is True)


def _styled(text: str, keys: tuple[str, ...]) -> str:
    """Slack's text style as the Markdown a console user would type around the same words."""
    core = text.strip()
    if not keys or not core:
        return text
    lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()):]
    for key, mark in _STYLE_MARKS:
        if key in keys:
            core = f"``{core}``" if key == "code" and "`" in core else f"{mark}{core}{mark}"
    return lead + core + trail


def _emoji(name: str, code_points: Any) -> str:
    # `unicode` is "Lowercase hexadecimal Unicode representation of a standard emoji (not for use with
    # custom emoji)" (https://docs.slack.dev/tools/node-slack-sdk/reference/types/interfaces/RichTextEmoji),
    # e.g. "1f44d" or "1f44d-1f3fb"; custom emoji have none and stay as Slack writes them, `:name:`.
    if isinstance(code_points, str) and code_points:
        try:
            chars = [chr(int(cp, 16)) for cp in code_points.split("-")]
        except (ValueError, OverflowError):
            chars = []
        if chars and all(not 0xD800 <= ord(c) <= 0xDFFF for c in chars):
            return "".join(chars)
    return f":{name}:"


def _bordered(text: str, el: Mapping[str, Any]) -> str:
    # border 1 renders "a quote-block-like border on the inline side" (@slack/types RichTextBorderable):
    # what the reader sees is a quoted list or code block.
    if el.get("border") == 1:
        return "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))
    return text


# --- the text field --------------------------------------------------------------------------------
# Markup: https://docs.slack.dev/messaging/formatting-message-text ("Linking to URLs", "Mentioning
# users/channels/groups", "Special mentions", "Date formatting", "Escaping text": only & < > are escaped).

_TOKEN = re.compile(r"<([^<>\n]*)>")
# Slack writes composer lists into `text` as "• ", "    ◦ ", "        ▪ " (issue 9, item 4).
_BULLET = re.compile(r"^([ \t]*)[•◦▪▫‣]\s+(.*)$")
_CHANNEL = re.compile(r"<#([A-Z0-9]+)\|([^<>|]*)>")
_SUBTEAM = re.compile(r"<!subteam\^([A-Z0-9]+)\|@?([^<>|]*)>")


def mrkdwn_text(text: str, names: NameLookup) -> str:
    """Slack's mrkdwn `text` as plain text: markup resolved, entities unescaped, composer bullets as `- `."""
    pieces: list[str] = []
    last = 0
    for m in _TOKEN.finditer(text):
        pieces.append(_unescape(text[last:m.start()]))
        pieces.append(_token(m.group(1), names))
        last = m.end()
    pieces.append(_unescape(text[last:]))
    return _normalise_bullets("".join(pieces))


def _unescape(text: str) -> str:
    # Only the three entities Slack escapes; a literal "&hearts;" a person typed stays as typed.
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _token(body: str, names: NameLookup) -> str:
    target, _, label = body.partition("|")
    target, label = _unescape(target), _unescape(label)
    if target.startswith("@"):
        return "@" + (names.user_name(target[1:]) or label.lstrip("@") or target[1:])
    if target.startswith("#"):
        # The name Slack wrote beside the id, else the directory's (conversations.info), else the id.
        return "#" + (label.lstrip("#") or names.channel_name(target[1:]) or target[1:])
    if target.startswith("!"):
        command = target[1:]
        if command.startswith("subteam^"):
            return "@" + (label.lstrip("@") or command.split("^", 1)[1])
        if command.startswith("date^"):
            return label or command
        return "@" + command.split("^", 1)[0]  # channel / here / everyone: words now, pinging nobody
    return markdown_link(target, label)


def _normalise_bullets(text: str) -> str:
    lines, fenced = [], False
    for line in text.split("\n"):
        if line.count("```") % 2:
            fenced = not fenced
            lines.append(line)
            continue
        m = None if fenced else _BULLET.match(line)
        if m:
            level = len(m.group(1).expandtabs(4)) // 4
            line = INDENT * level + "- " + m.group(2)
        lines.append(line)
    return "\n".join(lines)


def _channel_names(text: str) -> dict[str, str]:
    # rich_text names a channel by id only; the text field may carry its name: <#C123|general>.
    return {m.group(1): _unescape(m.group(2)).lstrip("#") for m in _CHANNEL.finditer(text) if m.group(2)}


def _usergroup_handles(text: str) -> dict[str, str]:
    # rich_text names a user group by id only; the text field carries its handle: <!subteam^S1|@oncall>.
    return {m.group(1): _unescape(m.group(2)) for m in _SUBTEAM.finditer(text) if m.group(2)}


# --- shape checks -----------------------------------------------------------------------------------

def _map(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _Malformed(type(value).__name__)
    return value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise _Malformed(type(value).__name__)
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise _Malformed(type(value).__name__)
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _Malformed(repr(value))
    return value


def _drop_one_newline(text: str) -> str:
    return text[:-1] if text.endswith("\n") else text


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n")
