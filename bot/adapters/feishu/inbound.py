"""What a person wrote, out of an im.message.receive_v1 message (pure functions)."""

from __future__ import annotations

import json
from typing import Any


def message_text(message: dict[str, Any], bot_open_id: str | None) -> tuple[str | None, bool]:
    """The message as plain text (None if it is not text or rich text), and whether it @mentions the bot.

    Mentions arrive as `@_user_1` placeholders: the bot's own is removed, anyone else's becomes
    `@name`, so the stored text reads as the person saw it. Without a known bot open_id, any mention
    in the message counts as addressing the bot (Feishu only delivers group messages that @ it).
    """
    try:
        content = json.loads(message.get("content") or "{}")
    except ValueError:
        return None, False
    kind = message.get("message_type")
    if kind == "text":
        text = str(content.get("text", ""))
    elif kind == "post":
        text = _post_text(content)
    else:
        return None, False
    mentioned = False
    for m in message.get("mentions") or []:
        key = str(m.get("key", ""))
        open_id = (m.get("id") or {}).get("open_id")
        is_bot = open_id == bot_open_id if bot_open_id else True
        mentioned = mentioned or is_bot
        if key:
            text = text.replace(key, "" if is_bot else f"@{m.get('name', '')}")
    return text.strip(), mentioned


def _post_text(content: dict[str, Any]) -> str:
    # Received posts hold {title, content}; sent ones may be keyed by language.
    if "content" not in content and content:
        content = next(iter(content.values())) if isinstance(next(iter(content.values())), dict) else {}
    lines = [str(content.get("title") or "")] if content.get("title") else []
    for paragraph in content.get("content") or []:
        parts = []
        for el in paragraph:
            if el.get("tag") in ("text", "a", "code_block"):
                parts.append(str(el.get("text", "")))
            elif el.get("tag") == "at":
                parts.append(str(el.get("user_id", "")))  # the placeholder; replaced like text mentions
        lines.append("".join(parts))
    return "\n".join(lines)
