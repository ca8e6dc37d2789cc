"""Slack Block Kit payloads as pure functions of domain values, and reading modal submissions back.

Everything a person typed goes through `escape` (or arrives already escaped in the rendered
report), so `<!channel>`, `<@U…>` and `& < >` are shown as typed and ping nobody.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from bot.domain.prompts import Prompt, PromptItem
from bot.domain.team import ItemKind
from bot.text.render import slack_escape as escape

Block = dict[str, Any]
MAX_BLOCKS = 50  # blocks in one message
MAX_SECTION = 3000  # characters in one section's text
MAX_INPUT = 3000  # characters in a plain_text_input's value
_WITH_PROGRESS = (ItemKind.PART, ItemKind.PROSE, ItemKind.OKR)

__all__ = ["Action", "Callback", "MAX_BLOCKS", "MAX_SECTION", "answer_modal", "escape", "form_answers",
           "incident_command", "incident_modal", "incident_reply", "prompt_blocks", "report_messages",
           "sections", "text_blocks"]


class Action(StrEnum):
    ANSWER = "zhoubao_answer"
    INCIDENT_EDIT = "zhoubao_incident_edit"


class Callback(StrEnum):
    ANSWER_FORM = "zhoubao_answer_form"
    INCIDENT_FORM = "zhoubao_incident_form"


def _zh(locale: str) -> bool:
    return locale != "en"


def _plain(text: str, limit: int = 150) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:limit], "emoji": True}


# ----- long mrkdwn text → sections → messages --------------------------------------------------


def _cut(line: str, limit: int) -> list[str]:
    """A line longer than `limit` in pieces, never splitting an `&amp;`-style entity."""
    pieces = []
    while len(line) > limit:
        at = limit
        amp = line.rfind("&", limit - 5, limit)
        if amp != -1 and ";" not in line[amp:limit]:
            at = amp
        pieces.append(line[:at])
        line = line[at:]
    return [*pieces, line]


def sections(text: str, limit: int = MAX_SECTION) -> list[str]:
    """`text` split into section texts of at most `limit` characters, preferring paragraph breaks."""
    out: list[str] = []
    current = ""
    for paragraph in text.strip("\n").split("\n\n"):
        for unit in ([paragraph] if len(paragraph) <= limit else
                     [piece for line in paragraph.split("\n") for piece in _cut(line, limit)]):
            glue = ("\n\n" if unit is paragraph else "\n") if current else ""
            if len(current) + len(glue) + len(unit) <= limit:
                current += glue + unit
            else:
                if current.strip():
                    out.append(current)
                current = unit
    if current.strip():
        out.append(current)
    return out


def text_blocks(mrkdwn: str) -> list[Block]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": s}} for s in sections(mrkdwn)]


def report_messages(mrkdwn: str, max_blocks: int = MAX_BLOCKS) -> list[list[Block]]:
    """The rendered report as messages of at most `max_blocks` sections each (the first is the post,
    the rest continue in its thread)."""
    blocks = text_blocks(mrkdwn)
    return [blocks[i:i + max_blocks] for i in range(0, len(blocks), max_blocks)] or [[]]


# ----- prompts and the answer form ---------------------------------------------------------------


def prompt_blocks(prompt: Prompt) -> list[Block]:
    """The prompt's text, then an Answer button that opens the form for its week."""
    blocks = text_blocks(escape(prompt.text))[:MAX_BLOCKS - 1]
    label = "填写" if _zh(prompt.locale) else "Answer"
    blocks.append({"type": "actions", "block_id": "zhoubao_prompt", "elements": [{
        "type": "button", "action_id": Action.ANSWER, "text": _plain(label), "style": "primary",
        "value": prompt.week}]})
    return blocks


def answer_modal(week: str, items: Sequence[PromptItem], locale: str) -> dict[str, Any]:
    """A modal with one input per item (prefilled with this week's answer, else last week's),
    plus optional progress % and main problem for project parts, prose projects and OKRs."""
    zh = _zh(locale)
    blocks: list[Block] = []
    for it in items:
        prefill = (it.this_week or it.last_week or "")[:MAX_INPUT]
        element: dict[str, Any] = {"type": "plain_text_input", "action_id": "text", "multiline": True,
                                   "max_length": MAX_INPUT}
        if prefill:
            element["initial_value"] = prefill
        block: Block = {"type": "input", "block_id": f"item:{it.number}", "optional": True,
                        "label": _plain(it.title), "element": element}
        if it.last_week and it.this_week is None:
            block["hint"] = _plain("已填入上周内容，请修改" if zh else "Prefilled with last week's answer; edit it",
                                   2000)
        blocks.append(block)
        if it.kind in _WITH_PROGRESS:
            blocks.append({"type": "input", "block_id": f"progress:{it.number}", "optional": True,
                           "label": _plain(f"{it.name} · " + ("进度 %" if zh else "progress %")),
                           "element": {"type": "number_input", "action_id": "value", "is_decimal_allowed": True,
                                       "min_value": "0", "max_value": "100"}})
            blocks.append({"type": "input", "block_id": f"problem:{it.number}", "optional": True,
                           "label": _plain(f"{it.name} · " + ("主要问题" if zh else "main problem")),
                           "element": {"type": "plain_text_input", "action_id": "value"}})
    return {
        "type": "modal", "callback_id": Callback.ANSWER_FORM,
        "title": _plain(f"周报 {week}" if zh else f"Report {week}", 24),
        "submit": _plain("提交" if zh else "Submit"), "close": _plain("取消" if zh else "Cancel"),
        "private_metadata": json.dumps({"week": week, "keys": [it.key for it in items]}),
        "blocks": blocks[:100],
    }


def _value(values: Mapping[str, Any], block_id: str, action_id: str) -> str:
    return ((values.get(block_id) or {}).get(action_id) or {}).get("value") or ""


def form_answers(view: Mapping[str, Any], locale: str) -> tuple[str, dict[str, str]]:
    """The week and the text per item key a submitted answer form holds, progress and main problem
    written the way replies state them (`进度：60%`, `主要问题：…`)."""
    meta = json.loads(view.get("private_metadata") or "{}")
    values = (view.get("state") or {}).get("values") or {}
    zh = _zh(locale)
    answers: dict[str, str] = {}
    for n, key in enumerate(meta.get("keys", []), start=1):
        lines = [_value(values, f"item:{n}", "text").strip()]
        progress = _value(values, f"progress:{n}", "value").strip()
        problem = _value(values, f"problem:{n}", "value").strip()
        if progress:
            lines.append(f"进度：{progress}%" if zh else f"progress: {progress}%")
        if problem:
            lines.append(f"主要问题：{problem}" if zh else f"main problem: {problem}")
        answers[key] = "\n".join(line for line in lines if line)
    return str(meta.get("week", "")), answers


# ----- incidents ------------------------------------------------------------------------------------

_INCIDENT_FIELDS = (  # block id, the grammar's label, zh label, en label, multiline
    ("started", "start", "开始时间（如 06/21 10:04，空为现在）", "Started (e.g. 06/21 10:04; empty = now)", False),
    ("system", "system", "系统", "System", False),
    ("what", "what", "发生了什么", "What happened", True),
    ("cause", "cause", "原因", "Cause", True),
    ("impact", "impact", "影响", "Impact", True),
    ("recovered", "recovered", "恢复时间（如 17:00）", "Recovered at (e.g. 17:00)", False),
    ("weight", "weight", "权重（如 0.5）", "Weight (e.g. 0.5)", False),
)


def incident_modal(severities: Sequence[str], locale: str, number: int | None = None) -> dict[str, Any]:
    """The incident form; with `number`, a form that changes only the fields filled in."""
    zh = _zh(locale)
    blocks: list[Block] = []
    for block_id, _, zh_label, en_label, multiline in _INCIDENT_FIELDS:
        blocks.append({"type": "input", "block_id": block_id, "optional": block_id != "what" or number is not None,
                       "label": _plain(zh_label if zh else en_label),
                       "element": {"type": "plain_text_input", "action_id": "value", "multiline": multiline}})
        if block_id == "recovered" and severities:
            blocks.append({"type": "input", "block_id": "severity", "optional": True,
                           "label": _plain("级别" if zh else "Severity"),
                           "element": {"type": "static_select", "action_id": "value",
                                       "options": [{"text": _plain(s), "value": s} for s in severities[:100]]}})
    title = (f"修改事件 #{number}" if zh else f"Edit incident #{number}") if number else \
        ("上报生产事件" if zh else "File an incident")
    return {"type": "modal", "callback_id": Callback.INCIDENT_FORM, "title": _plain(title, 24),
            "submit": _plain("提交" if zh else "Submit"), "close": _plain("取消" if zh else "Cancel"),
            "private_metadata": json.dumps({"number": number}), "blocks": blocks}


def incident_command(view: Mapping[str, Any]) -> str:
    """The `/incident` text a submitted incident form stands for (labelled fields; `edit N …` to change)."""
    meta = json.loads(view.get("private_metadata") or "{}")
    values = (view.get("state") or {}).get("values") or {}
    parts: list[str] = []
    for block_id, label, *_ in _INCIDENT_FIELDS:
        value = " ".join(_value(values, block_id, "value").split())
        if value:
            parts.append(f"{label}: {value}")
    severity = ((values.get("severity") or {}).get("value") or {}).get("selected_option") or {}
    if severity.get("value"):
        parts.append(f"severity: {severity['value']}")
    body = " ".join(parts)
    return f"edit {meta['number']} {body}" if meta.get("number") else body


def incident_reply(text: str, number: int | None, locale: str) -> list[Block]:
    """An incident summary with an Edit button (when it names an incident)."""
    blocks = text_blocks(escape(text))
    if number is not None:
        blocks.append({"type": "actions", "block_id": "zhoubao_incident", "elements": [{
            "type": "button", "action_id": Action.INCIDENT_EDIT, "value": str(number),
            "text": _plain("修改" if _zh(locale) else "Edit")}]})
    return blocks
