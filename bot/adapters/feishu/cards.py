"""Feishu interactive cards (card JSON 2.0), built by pure functions of domain values.

People's text only ever goes into `plain_text` fields and input defaults, which Feishu never parses
for `<at>` or Markdown, so nothing typed can ping anyone. Button values carry what the callback needs
(`ACTION`, week, item keys): a card callback is translated without looking anything up.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from bot.domain.prompts import Prompt, PromptItem
from bot.text.render import feishu_safe

Card = dict[str, Any]

CARD_LIMIT = 28_000  # bytes of card JSON; Feishu refuses more than 30 KB (the margin covers the envelope)
ELEMENT_LIMIT = 180  # Feishu allows 200 components per card
INPUT_LIMIT = 1_000  # characters an `input` accepts


class Action(StrEnum):
    """What a button's callback asks for."""

    ANSWER = "answer"  # the weekly form
    INCIDENT = "incident"  # the incident form


class MenuKey(StrEnum):
    """`event_key`s of the bot menu (configure these in the developer console)."""

    FILL = "fill_report"  # 填写周报
    INCIDENT = "report_incident"  # 上报事件
    PROGRESS = "week_progress"  # 本周进度


def _zh(locale: str) -> bool:
    return locale != "en"


def _text(content: str) -> dict[str, str]:
    return {"tag": "plain_text", "content": content}


def _div(content: str, size: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"tag": "div", "text": _text(content)}
    if size:
        block["text"]["text_size"] = size
    return block


def _card(title: str, elements: list[dict[str, Any]], template: str = "blue") -> Card:
    return {"schema": "2.0", "config": {"update_multi": True},
            "header": {"title": _text(title), "template": template},
            "body": {"elements": elements}}


def input_name(number: int) -> str:
    """Form input names: Feishu allows only letters, digits and `_`, so items are numbered."""
    return f"item_{number}"


def prompt_card(prompt: Prompt) -> Card:
    """The weekly prompt: the full text, then a form with one input per item, prefilled.

    The prefill is this week's stored answer, else last week's, so an owner edits rather than retypes.
    """
    zh = _zh(prompt.locale)
    head, _, _ = prompt.text.partition("\n")
    inputs: list[dict[str, Any]] = []
    for it in prompt.items:
        default = (it.this_week or it.last_week or "")[:INPUT_LIMIT]
        inputs.append({"tag": "input", "name": input_name(it.number), "input_type": "multiline_text",
                       "label": _text(f"[{it.number}] {it.title}"), "label_position": "top",
                       "default_value": default, "max_length": INPUT_LIMIT, "rows": 3,
                       "placeholder": _text("本周进展…" if zh else "This week…")})
    value = {"action": Action.ANSWER.value, "week": prompt.week, "items": [it.key for it in prompt.items]}
    inputs.append({"tag": "button", "name": "submit", "type": "primary", "form_action_type": "submit",
                   "text": _text("提交" if zh else "Submit"),
                   "behaviors": [{"type": "callback", "value": value}]})
    hint = ("也可以直接回复这条消息，或以 [编号] 开头发送文字。" if zh else
            "You can also reply to this message, or send text starting with [number].")
    # The form shows each item's title and prefill; the full text would repeat them (and grow the card).
    return _card(head, [{"tag": "form", "name": "answers", "elements": inputs}, _div(hint, "notation")],
                 "orange" if prompt.kind == "remind" else "blue")


def stored_card(week: str, items: Sequence[PromptItem], reply_text: str, locale: str) -> Card:
    """What a submitted form turns into: the reply, then what is stored per item now."""
    zh = _zh(locale)
    elements = [_div(reply_text or ("已保存。" if zh else "Saved."))]
    for it in items:
        elements.append(_div(f"[{it.number}] {it.title}", "heading"))
        elements.append(_div(it.this_week or ("（未填写）" if zh else "(not answered)")))
    elements.append(_div("如需修改，直接回复文字或再次使用菜单「填写周报」。" if zh else
                         "To change it, reply in text or use the menu's form again.", "notation"))
    return _card(f"✅ {week} " + ("已记录" if zh else "stored"), elements, "green")


INCIDENT_FIELDS = ("started", "what", "cause", "impact", "recovered", "severity")


def incident_card(locale: str, severities: Sequence[str]) -> Card:
    """The incident form (`/incident` alone, or the menu); its fields become one `/incident` command."""
    zh = _zh(locale)
    labels = {"started": ("开始时间（如 06/21 10:04，留空为现在）", "Started (e.g. 06/21 10:04; empty = now)"),
              "what": ("系统与现象", "System and what happened"), "cause": ("原因", "Cause"),
              "impact": ("影响", "Impact"), "recovered": ("恢复时间（如 17:00）", "Recovered at (e.g. 17:00)"),
              "severity": (f"级别（{'/'.join(severities)}）", f"Severity ({'/'.join(severities)})")}
    inputs: list[dict[str, Any]] = [
        {"tag": "input", "name": name, "label": _text(labels[name][0 if zh else 1]), "label_position": "top",
         "max_length": INPUT_LIMIT, "required": name == "what",
         **({"input_type": "multiline_text", "rows": 2} if name in ("what", "cause", "impact") else {})}
        for name in INCIDENT_FIELDS]
    inputs.append({"tag": "button", "name": "submit", "type": "danger", "form_action_type": "submit",
                   "text": _text("上报" if zh else "File"),
                   "behaviors": [{"type": "callback", "value": {"action": Action.INCIDENT.value}}]})
    return _card("🚨 上报生产事件" if zh else "🚨 File a production incident",
                 [{"tag": "form", "name": "incident", "elements": inputs}], "red")


def note_card(title: str, text: str, template: str = "green") -> Card:
    """A card that only says something (an incident's summary after its form)."""
    return _card(title, [_div(text)], template)


# ----- the report ---------------------------------------------------------------


def card_size(card: Card) -> int:
    return len(json.dumps(card, ensure_ascii=False).encode("utf-8"))


def _paragraph(elements: Sequence[dict[str, Any]]) -> tuple[str, bool]:
    """A `post` paragraph as plain text, and whether it is a heading (bold)."""
    text = "".join(str(e.get("text", "")) for e in elements)
    return text, any("bold" in e.get("style", ()) for e in elements)


def report_cards(post: dict[str, Any], limit: int = CARD_LIMIT) -> list[Card]:
    """The rendered Feishu `post` (`{lang: {title, content}}`) as cards, each under `limit` bytes.

    Consecutive body paragraphs share one text block; a heading starts a new block. A card is closed
    before it would pass the limit, and a single block too large for a card is cut at line breaks
    (or, for one enormous line, at the limit).
    """
    lang = next(iter(post.values()))
    title = feishu_safe(str(lang.get("title", "")))
    blocks: list[dict[str, Any]] = []
    body: list[str] = []

    def flush() -> None:
        if body:
            blocks.append(_div("\n".join(body)))
            body.clear()

    for paragraph in lang.get("content", []):
        text, heading = _paragraph(paragraph)
        if heading:
            flush()
            blocks.append(_div(text, "heading"))
        else:
            body.append(text)
    flush()
    budget = limit - card_size(_card(title + " (99/99)", [])) - 16
    pieces: list[dict[str, Any]] = []
    for block in blocks:
        pieces.extend(_fit(block, budget))
    cards: list[list[dict[str, Any]]] = [[]]
    used = 0
    for piece in pieces:
        size = card_size(piece) + 1
        if cards[-1] and (used + size > budget or len(cards[-1]) >= ELEMENT_LIMIT):
            cards.append([])
            used = 0
        cards[-1].append(piece)
        used += size
    if len(cards) == 1:
        return [_card(title, cards[0])]
    return [_card(f"{title} ({n}/{len(cards)})", els) for n, els in enumerate(cards, start=1)]


def _fit(block: dict[str, Any], budget: int) -> list[dict[str, Any]]:
    if card_size(block) <= budget:
        return [block]
    size = block["text"].get("text_size")
    out: list[dict[str, Any]] = []
    chunk: list[str] = []
    for line in block["text"]["content"].split("\n"):
        candidate = _div("\n".join([*chunk, line]), size)
        if chunk and card_size(candidate) > budget:
            out.append(_div("\n".join(chunk), size))
            chunk = []
        if card_size(_div(line, size)) > budget:
            step = max(1, budget // 4)  # a CJK character is 3 bytes, escapes may take more
            out.extend(_div(line[i:i + step], size) for i in range(0, len(line), step))
            continue
        chunk.append(line)
    if chunk:
        out.append(_div("\n".join(chunk), size))
    return out


def continued_card(title: str, locale: str) -> Card:
    """What an extra report card becomes when a republished report needs fewer cards."""
    return _card(title, [_div("（内容已合并到上一条）" if _zh(locale) else "(merged into the message above)")],
                 "grey")


def text_content(text: str) -> str:
    """A `text` message's content; `<at …>` and `@all` typed by people come out as text."""
    return json.dumps({"text": feishu_safe(text)}, ensure_ascii=False)


def card_content(card: Card) -> str:
    return json.dumps(card, ensure_ascii=False)
