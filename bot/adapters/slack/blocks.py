"""Slack Block Kit payloads as pure functions of domain values, and reading modal submissions back.

Everything a person typed goes through `escape` (or arrives already escaped in the rendered
report), so `<!channel>`, `<@U…>` and `& < >` are shown as typed and ping nobody.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from bot.domain.forms import AnswerForm, IncidentForm, QuestionForm, asks_progress
from bot.domain.prompts import Prompt, PromptItem
from bot.text import messages as sentences
from bot.text.catalogue import say
from bot.text.render import slack_escape as escape

Block = dict[str, Any]
# Limits per docs/platform-limits.md (Slack section), where each is cited.
MAX_BLOCKS = 50  # blocks in one message (Block Kit reference)
MAX_SECTION = 3000  # characters in one section's text (section block reference)
# Slack refuses a message whose blocks hold more than ~12,000 characters of text in all
# (`msg_blocks_too_long`, undocumented: slackapi/bolt-js #2509, #2867, where 11,341 by this very measure
# was still refused), so a message is closed well below that.
MESSAGE_TEXT = 10_000
MAX_INPUT = 3000  # characters in a plain_text_input's value

__all__ = ["Action", "Callback", "MAX_BLOCKS", "MAX_SECTION", "MESSAGE_TEXT", "answer_forms", "answer_modal",
           "answer_week", "block_text", "escape", "fallback_text", "incident_form", "incident_modal",
           "incident_question_week", "incident_reply", "messages", "note_modal", "prompt_messages",
           "question_buttons", "question_form", "question_inputs", "report_messages", "sections", "text_blocks"]


class Action(StrEnum):
    ANSWER = "zhoubao_answer"
    INCIDENT_EDIT = "zhoubao_incident_edit"
    QUESTION_NONE = "zhoubao_question_none"  # the incident question's one-click "nothing to add"
    QUESTION_FILE = "zhoubao_question_file"  # open the incident form from the incident question


class Callback(StrEnum):
    ANSWER_FORM = "zhoubao_answer_form"
    INCIDENT_FORM = "zhoubao_incident_form"


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


def block_text(tree: Any) -> int:
    """Characters of text in a block tree, counted as Slack's `msg_blocks_too_long` appears to count them:
    every `text` string at any depth (section text, button labels, context elements …)."""
    if isinstance(tree, Mapping):
        return sum(len(v) if k == "text" and isinstance(v, str) else block_text(v) for k, v in tree.items())
    if isinstance(tree, list):
        return sum(block_text(v) for v in tree)
    return 0


def messages(block_list: Sequence[Block], max_blocks: int = MAX_BLOCKS,
             max_text: int = MESSAGE_TEXT) -> list[list[Block]]:
    """Blocks packed in order into messages of at most `max_blocks` blocks and `max_text` characters of
    block text each (a block larger than `max_text` on its own still gets a message to itself)."""
    out: list[list[Block]] = [[]]
    used = 0
    for block in block_list:
        size = block_text(block)
        if out[-1] and (len(out[-1]) >= max_blocks or used + size > max_text):
            out.append([])
            used = 0
        out[-1].append(block)
        used += size
    return out


def report_messages(mrkdwn: str, max_blocks: int = MAX_BLOCKS, max_text: int = MESSAGE_TEXT) -> list[list[Block]]:
    """The rendered report as messages within Slack's per-block, block-count and total-text limits (the
    first is the post, the rest continue in its thread)."""
    return messages(text_blocks(mrkdwn), max_blocks, max_text)


# ----- prompts and the answer form ---------------------------------------------------------------
# Shapes: https://api.slack.com/reference/surfaces/views (modal title ≤ 24 characters, ≤ 100 blocks),
# https://api.slack.com/reference/block-kit/block-elements (plain_text_input max_length ≤ 3000,
# number_input, static_select), https://api.slack.com/reference/interaction-payloads/views (a
# view_submission's `state.values[block_id][action_id]` holds `value` or `selected_option`).


def prompt_messages(prompt: Prompt) -> list[list[Block]]:
    """The prompt's text as messages within Slack's limits; the last ends with an Answer button that
    opens the form for its week."""
    button: Block = {"type": "actions", "block_id": "zhoubao_prompt", "elements": [{
        "type": "button", "action_id": Action.ANSWER, "text": _plain(say(prompt.locale, "form.answer_button")),
        "style": "primary", "value": prompt.week}, *question_buttons(prompt)]}
    return messages([*text_blocks(escape(prompt.text)), button])


def fallback_text(block_list: Sequence[Block]) -> str:
    """A message's `text` (notifications, screen readers): its sections' text, already escaped."""
    return "\n\n".join(str((b.get("text") or {}).get("text", "")) for b in block_list
                        if b.get("type") == "section")


MAX_VIEW_BLOCKS = 100  # blocks in a modal (Modal views reference; docs/platform-limits.md)
_EXCERPT = 300  # characters of a long answer shown read-only


def answer_modal(prompt: Prompt) -> dict[str, Any]:
    """A modal with one input per item of the prompt (prefilled with this week's answer, else last
    week's), plus progress % and main problem where the core asks for them (`asks_progress`).

    An answer longer than an input takes (3,000) is shown read-only and left out of the submission, so
    the form never cuts it. Within Slack's 100 blocks: the progress fields go first (they can be written in
    the text), then items beyond the limit are named as to be answered by text. `private_metadata` holds
    only the week (Slack allows 3,000 characters); each input's block_id carries its item's number."""
    loc = prompt.locale
    items = prompt.items
    with_fields = [it for it in items if asks_progress(it.kind) and len(_prefill(it)) <= MAX_INPUT]
    fields = len(items) + 2 * len(with_fields) <= MAX_VIEW_BLOCKS
    blocks: list[Block] = [] if fields or not with_fields else [
        {"type": "context", "elements": [{"type": "plain_text", "text": say(loc, "form.fields_in_text")}]}]
    question = question_inputs(prompt)
    room = MAX_VIEW_BLOCKS - len(blocks) - 1 - len(question)  # one block kept for "N more items"
    shown = 0
    for it in items:
        need = 3 if fields and it in with_fields else 1
        if shown + need > room:
            break
        blocks.extend(_item_blocks(it, loc, fields))
        shown += need
    rest = len(items) - len([b for b in blocks if str(b.get("block_id", "")).startswith(("item:", "long:"))])
    if rest:
        blocks.append({"type": "context", "elements": [{"type": "plain_text",
                                                        "text": say(loc, "form.more_items", count=rest)}]})
    blocks.extend(question)
    return {
        "type": "modal", "callback_id": Callback.ANSWER_FORM,
        "title": _plain(say(loc, "form.answer_title", week=prompt.week), 24),
        "submit": _plain(say(loc, "form.submit")), "close": _plain(say(loc, "form.cancel")),
        "private_metadata": json.dumps({"week": prompt.week, "question": prompt.incidents is not None}),
        "blocks": blocks[:MAX_VIEW_BLOCKS],
    }


def note_modal(title: str, text: str, locale: str) -> dict[str, Any]:
    """A modal that only says something (the form is on its way, or why there is none); no submit button."""
    return {"type": "modal", "title": _plain(title, 24), "close": _plain(say(locale, "form.cancel")),
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": escape(text)[:MAX_SECTION]}}]}


def _prefill(it: PromptItem) -> str:
    return it.this_week or it.last_week or ""


def _item_blocks(it: PromptItem, loc: str, fields: bool) -> list[Block]:
    prefill = _prefill(it)
    if len(prefill) > MAX_INPUT:  # read-only: the input would cut it, and submitting would store the cut
        excerpt = escape(prefill[:_EXCERPT]) + "…"
        note = escape(say(loc, "form.long_kept", length=len(prefill), limit=MAX_INPUT))
        return [{"type": "section", "block_id": f"long:{it.number}",
                 "text": {"type": "mrkdwn", "text": f"*{escape(it.title)}*\n{excerpt}\n_{note}_"}}]
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": "text", "multiline": True,
                               "max_length": MAX_INPUT}
    if prefill:
        element["initial_value"] = prefill
    block: Block = {"type": "input", "block_id": f"item:{it.number}", "optional": True,
                    "label": _plain(it.title), "element": element}
    if it.last_week and it.this_week is None:
        block["hint"] = _plain(say(loc, "form.prefilled_hint"), 2000)
    out = [block]
    if fields and asks_progress(it.kind):
        out.append({"type": "input", "block_id": f"progress:{it.number}", "optional": True,
                    "label": _plain(say(loc, "form.progress", name=it.name)),
                    "element": {"type": "number_input", "action_id": "value", "is_decimal_allowed": True,
                                "min_value": "0", "max_value": "100"}})
        out.append({"type": "input", "block_id": f"problem:{it.number}", "optional": True,
                    "label": _plain(say(loc, "form.problem", name=it.name)),
                    "element": {"type": "plain_text_input", "action_id": "value"}})
    return out


def _state(view: Mapping[str, Any]) -> Mapping[str, Any]:
    return (view.get("state") or {}).get("values") or {}


def _value(values: Mapping[str, Any], block_id: str, action_id: str = "value") -> str:
    entry = (values.get(block_id) or {}).get(action_id) or {}
    chosen = entry.get("selected_option") or {}
    return str(entry.get("value") or chosen.get("value") or "")


def answer_week(view: Mapping[str, Any]) -> str:
    """The week label a submitted answer modal was opened for."""
    return str(json.loads(view.get("private_metadata") or "{}").get("week", ""))


def answer_forms(view: Mapping[str, Any], items: Sequence[PromptItem]) -> list[AnswerForm]:
    """One AnswerForm per item input the submitted modal holds, `items` being the prompt it was opened
    with (numbered as its block ids). Items shown read-only or left out have no input, so they are not in
    the submission and stay as stored."""
    values = _state(view)
    return [AnswerForm(item_key=it.key, text=_value(values, f"item:{it.number}", "text"),
                       progress=_value(values, f"progress:{it.number}"),
                       main_problem=_value(values, f"problem:{it.number}"))
            for it in items if f"item:{it.number}" in values]


# ----- the incident question (issue 14) ---------------------------------------------------------------
# Buttons in an actions block (≤ 25 elements) and in a modal: https://api.slack.com/reference/block-kit/blocks#actions;
# a button pressed inside a modal sends block_actions with a trigger_id, and views.push stacks a modal on it:
# https://api.slack.com/reference/interaction-payloads/block-actions, https://api.slack.com/methods/views.push;
# checkboxes in an input block come back as `selected_options`:
# https://api.slack.com/reference/block-kit/block-elements#checkboxes


def question_buttons(prompt: Prompt) -> list[dict[str, Any]]:
    """"Nothing to add" (one click) and "file an incident" for a prompt that asks the incident question."""
    if prompt.incidents is None:
        return []
    loc = prompt.locale
    return [{"type": "button", "action_id": Action.QUESTION_NONE, "value": prompt.week,
             "text": _plain(say(loc, "form.question_none"))},
            {"type": "button", "action_id": Action.QUESTION_FILE, "value": prompt.week, "style": "danger",
             "text": _plain(say(loc, "form.question_file"))}]


def question_inputs(prompt: Prompt) -> list[Block]:
    """The incident question in the answer modal: the week's logged incidents, a text input answered like
    a message, a "nothing to add" box, and a button opening the incident form."""
    q = prompt.incidents
    if q is None:
        return []
    loc = prompt.locale
    logged = "\n".join(sentences.logged_line(i, loc).strip() for i in q.logged) or say(loc, "question.logged_none").strip()
    none = {"text": _plain(say(loc, "form.question_none")), "value": "none"}
    return [
        {"type": "section", "block_id": "question_logged", "text": {"type": "mrkdwn", "text": escape(
            say(loc, "form.question_logged", incidents="\n" + logged))[:MAX_SECTION]},
         "accessory": question_buttons(prompt)[1]},
        {"type": "input", "block_id": "question", "optional": True,
         "label": _plain(f"[{q.number}] {say(loc, 'question.title')}", 2000),
         "hint": _plain(say(loc, "form.question_hint"), 2000),
         "element": {"type": "plain_text_input", "action_id": "text", "multiline": True, "max_length": MAX_INPUT}},
        {"type": "input", "block_id": "question_none", "optional": True, "label": _plain(say(loc, "question.title")),
         "element": {"type": "checkboxes", "action_id": "value", "options": [none],
                     **({"initial_options": [none]} if q.answer == "none" else {})}},
    ]


def question_form(view: Mapping[str, Any]) -> QuestionForm | None:
    """The incident question's part of a submitted answer modal (None when the modal did not ask it)."""
    if not json.loads(view.get("private_metadata") or "{}").get("question"):
        return None
    values = _state(view)
    chosen = ((values.get("question_none") or {}).get("value") or {}).get("selected_options") or []
    return QuestionForm(text=_value(values, "question", "text"),
                        nothing_to_add=any(o.get("value") == "none" for o in chosen))


# ----- incidents ------------------------------------------------------------------------------------

# block id = IncidentForm field; (multiline?)
_INCIDENT_TEXT = (("start", False), ("system", False), ("what", True), ("cause", True), ("impact", True),
                  ("recovered", False))


def _choice(label: str, value: str) -> dict[str, Any]:
    return {"text": _plain(label), "value": value}


def incident_modal(severities: Sequence[str], locale: str, number: int | None = None,
                   for_question: str | None = None) -> dict[str, Any]:
    """The incident form (every IncidentForm field); with `number`, a form that changes only the fields filled in;
    with `for_question`, opened from that week's incident question (filing it answers the question)."""
    blocks: list[Block] = []
    for field, multiline in _INCIDENT_TEXT:
        blocks.append({"type": "input", "block_id": field, "optional": field != "what" or number is not None,
                       "label": _plain(say(locale, f"form.incident.{field}")),
                       "element": {"type": "plain_text_input", "action_id": "value", "multiline": multiline}})
    if severities:
        blocks.append({"type": "input", "block_id": "severity", "optional": True,
                       "label": _plain(say(locale, "form.incident.severity")),
                       "element": {"type": "static_select", "action_id": "value",
                                   "options": [_choice(s, s) for s in severities[:100]]}})
    blocks.append({"type": "input", "block_id": "weight", "optional": True,
                   "label": _plain(say(locale, "form.incident.weight")),
                   "element": {"type": "plain_text_input", "action_id": "value"}})
    blocks.append({"type": "input", "block_id": "availability", "optional": True,
                   "label": _plain(say(locale, "form.incident.availability")),
                   "element": {"type": "static_select", "action_id": "value", "options": [
                       _choice(say(locale, "form.yes"), "yes"), _choice(say(locale, "form.no"), "no")]}})
    title = say(locale, "form.incident_edit_title", number=number) if number else say(locale, "form.incident_title")
    return {"type": "modal", "callback_id": Callback.INCIDENT_FORM, "title": _plain(title, 24),
            "submit": _plain(say(locale, "form.submit")), "close": _plain(say(locale, "form.cancel")),
            "private_metadata": json.dumps({"number": number, "question": for_question}), "blocks": blocks}


def incident_form(view: Mapping[str, Any]) -> IncidentForm:
    """The IncidentForm a submitted incident modal holds (an edit when it was opened for a number)."""
    meta = json.loads(view.get("private_metadata") or "{}")
    values = _state(view)
    availability = _value(values, "availability")
    return IncidentForm(
        # A modal opened before the fields were renamed (during a deploy) still says `started`.
        start=_value(values, "start") or _value(values, "started"), system=_value(values, "system"), what=_value(values, "what"),
        cause=_value(values, "cause"), impact=_value(values, "impact"), recovered=_value(values, "recovered"),
        severity=_value(values, "severity"), weight=_value(values, "weight"),
        counts_toward_availability={"yes": True, "no": False}.get(availability),
        number=int(meta["number"]) if meta.get("number") else None)


def incident_question_week(view: Mapping[str, Any]) -> str | None:
    """The week whose incident question a submitted incident modal was opened from, if any."""
    week = json.loads(view.get("private_metadata") or "{}").get("question")
    return str(week) if week else None


def incident_reply(text: str, number: int | None, locale: str) -> list[Block]:
    """An incident summary with an Edit button (when it names an incident)."""
    blocks = text_blocks(escape(text))
    if number is not None:
        blocks.append({"type": "actions", "block_id": "zhoubao_incident", "elements": [{
            "type": "button", "action_id": Action.INCIDENT_EDIT, "value": str(number),
            "text": _plain(say(locale, "form.incident_edit"))}]})
    return blocks
