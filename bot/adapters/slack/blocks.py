"""Slack Block Kit payloads as pure functions of domain values, and reading modal submissions back.

Everything a person typed goes through `escape` (or arrives already escaped in the rendered
report), so `<!channel>`, `<@U…>` and `& < >` are shown as typed and ping nobody.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.adapters.slack.limits import (
    MAX_BLOCKS,
    MAX_SECTION,
    MESSAGE_TEXT,
    Block,
    block_text,
    fallback_text,
    lines_within,
    messages,
    section,
    sections,
)
from bot.adapters.slack.modal_metadata import ModalMetadata
from bot.domain.forms import AnswerForm, IncidentForm, QuestionForm, asks_progress
from bot.domain.prompts import Prompt, PromptItem
from bot.text import messages as sentences
from bot.text.catalogue import say
from bot.text.render import slack_escape as escape

MAX_INPUT = 3000  # characters in a plain_text_input's value
# Plain-text lengths (slack_sdk.models validates each when a block is built, from the same references):
_TITLE = 24  # a modal's title, submit and close (https://api.slack.com/reference/surfaces/views)
_BUTTON = 75  # a button's text (https://api.slack.com/reference/block-kit/block-elements#button)
_OPTION = 75  # an option's text (https://api.slack.com/reference/block-kit/composition-objects#option)
_LABEL = 2000  # an input block's label and hint (https://api.slack.com/reference/block-kit/blocks#input)

__all__ = ["Action", "Block", "Callback", "MAX_BLOCKS", "MAX_SECTION", "MESSAGE_TEXT", "ModalMetadata",
           "answer_forms", "answer_modal", "answer_week", "block_text", "escape", "fallback_text",
           "incident_form", "incident_modal", "incident_question_week", "incident_reply", "messages",
           "note_modal", "prompt_messages", "question_buttons", "question_form", "question_inputs",
           "report_messages", "sections", "text_blocks"]


class Action(StrEnum):
    ANSWER = "zhoubao_answer"
    INCIDENT_EDIT = "zhoubao_incident_edit"
    QUESTION_NONE = "zhoubao_question_none"  # the incident question's one-click "nothing to add"
    QUESTION_FILE = "zhoubao_question_file"  # open the incident form from the incident question


class Callback(StrEnum):
    ANSWER_FORM = "zhoubao_answer_form"
    INCIDENT_FORM = "zhoubao_incident_form"


def _fit(text: str, limit: int) -> str:
    """`text` within `limit` characters, a cut one ending in "…" so the reader sees it goes on."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _plain(text: str, limit: int) -> PlainTextObject:
    return PlainTextObject(text=_fit(text, limit), emoji=True)


def text_blocks(mrkdwn: str) -> list[Block]:
    """`mrkdwn` (already escaped) as section blocks of at most MAX_SECTION characters each."""
    return [section(s) for s in sections(mrkdwn)]


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
    answer = ButtonElement(action_id=Action.ANSWER, text=_plain(say(prompt.locale, "form.answer_button"), _BUTTON),
                           style="primary", value=prompt.week)
    button = ActionsBlock(block_id="zhoubao_prompt", elements=[answer, *_question_buttons(prompt)]).to_dict()
    return messages([*text_blocks(escape(prompt.text)), button])


MAX_VIEW_BLOCKS = 100  # blocks in a modal (Modal views reference; docs/platform-limits.md)
_EXCERPT = 300  # characters of a long answer shown read-only


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[PlainTextObject(text=text)])


def _modal(callback: Callback | None, title: str, locale: str, blocks: Sequence[Any],
           metadata: ModalMetadata | None = None, *, submit: bool = True) -> dict[str, Any]:
    view = View(type="modal", callback_id=callback.value if callback else None, title=_plain(title, _TITLE),
                submit=_plain(say(locale, "form.submit"), _TITLE) if submit else None,
                close=_plain(say(locale, "form.cancel"), _TITLE), blocks=list(blocks),
                private_metadata=metadata.dumps() if metadata else None)
    return view.to_dict()


def answer_modal(prompt: Prompt, *, team: str | None = None) -> dict[str, Any]:
    """A modal with one input per item of the prompt (prefilled with this week's answer, else last
    week's), plus progress % and main problem where the core asks for them (`asks_progress`).

    An answer longer than an input takes (3,000) is shown read-only and left out of the submission, so
    the form never cuts it. Within Slack's 100 blocks: the progress fields go first (they can be written in
    the text), then items beyond the limit are named as to be answered by text. `private_metadata` holds
    only the week, whether the incident question is asked and, with `team`, the team it is for
    (`ModalMetadata`); each input's block_id carries its item's number."""
    loc = prompt.locale
    items = prompt.items
    with_fields = [it for it in items if asks_progress(it.kind) and len(_prefill(it)) <= MAX_INPUT]
    fields = len(items) + 2 * len(with_fields) <= MAX_VIEW_BLOCKS
    blocks: list[Any] = [] if fields or not with_fields else [_context(say(loc, "form.fields_in_text"))]
    question = question_inputs(prompt)
    room = MAX_VIEW_BLOCKS - len(blocks) - 1 - len(question)  # one block kept for "N more items"
    shown = used = 0
    for it in items:
        need = 3 if fields and it in with_fields else 1
        if used + need > room:
            break
        blocks.extend(_item_blocks(it, loc, fields))
        used += need
        shown += 1
    if len(items) > shown:
        blocks.append(_context(say(loc, "form.more_items", count=len(items) - shown)))
    blocks.extend(question)
    meta = ModalMetadata(week=prompt.week, asks_question=prompt.incidents is not None, team=team)
    return _modal(Callback.ANSWER_FORM, say(loc, "form.answer_title", week=prompt.week), loc, blocks, meta)


def note_modal(title: str, text: str, locale: str) -> dict[str, Any]:
    """A modal that only says something (the form is on its way, or why there is none); no submit button."""
    return _modal(None, title, locale, text_blocks(escape(text))[:MAX_VIEW_BLOCKS] or [section(" ")],
                  submit=False)


def _prefill(it: PromptItem) -> str:
    return it.this_week or it.last_week or ""


def _item_blocks(it: PromptItem, loc: str, fields: bool) -> list[Any]:
    prefill = _prefill(it)
    if len(prefill) > MAX_INPUT:  # read-only: the input would cut it, and submitting would store the cut
        excerpt = escape(prefill[:_EXCERPT]) + "…"
        note = escape(say(loc, "form.long_kept", length=len(prefill), limit=MAX_INPUT))
        head = f"*{_fit(escape(it.title), MAX_SECTION - len(excerpt) - len(note) - 8)}*"
        return [SectionBlock(block_id=f"long:{it.number}", text=MarkdownTextObject(text=f"{head}\n{excerpt}\n_{note}_"))]
    element = PlainTextInputElement(action_id="text", multiline=True, max_length=MAX_INPUT,
                                    initial_value=prefill or None)
    hint = _plain(say(loc, "form.prefilled_hint"), _LABEL) if it.last_week and it.this_week is None else None
    out: list[Any] = [InputBlock(block_id=f"item:{it.number}", optional=True, label=_plain(it.title, _LABEL),
                                 element=element, hint=hint)]
    if fields and asks_progress(it.kind):
        out.append(InputBlock(block_id=f"progress:{it.number}", optional=True,
                              label=_plain(say(loc, "form.progress", name=it.name), _LABEL),
                              element=NumberInputElement(action_id="value", is_decimal_allowed=True,
                                                         min_value="0", max_value="100")))
        out.append(InputBlock(block_id=f"problem:{it.number}", optional=True,
                              label=_plain(say(loc, "form.problem", name=it.name), _LABEL),
                              element=PlainTextInputElement(action_id="value")))
    return out


def _state(view: Mapping[str, Any]) -> Mapping[str, Any]:
    return (view.get("state") or {}).get("values") or {}


def _value(values: Mapping[str, Any], block_id: str, action_id: str = "value") -> str:
    entry = (values.get(block_id) or {}).get(action_id) or {}
    chosen = entry.get("selected_option") or {}
    return str(entry.get("value") or chosen.get("value") or "")


def form_team(view: Mapping[str, Any]) -> str | None:
    """The team a submitted form was opened for (an app serving several teams), if it says."""
    return ModalMetadata.of(view).team


def answer_week(view: Mapping[str, Any]) -> str:
    """The week label a submitted answer modal was opened for."""
    return ModalMetadata.of(view).week or ""


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


def _question_buttons(prompt: Prompt) -> list[ButtonElement]:
    if prompt.incidents is None:
        return []
    loc = prompt.locale
    return [ButtonElement(action_id=Action.QUESTION_NONE, value=prompt.week,
                          text=_plain(say(loc, "form.question_none"), _BUTTON)),
            ButtonElement(action_id=Action.QUESTION_FILE, value=prompt.week, style="danger",
                          text=_plain(say(loc, "form.question_file"), _BUTTON))]


def question_buttons(prompt: Prompt) -> list[dict[str, Any]]:
    """"Nothing to add" (one click) and "file an incident" for a prompt that asks the incident question."""
    return [b.to_dict() for b in _question_buttons(prompt)]


def _option(label: str, value: str) -> Option:
    return Option(text=_plain(label, _OPTION), value=value)


def question_inputs(prompt: Prompt) -> list[Block]:
    """The incident question in the answer modal: the week's logged incidents (as many whole lines as a
    section holds, then "and M more"), a text input answered like a message, a "nothing to add" box, and a
    button opening the incident form."""
    q = prompt.incidents
    if q is None:
        return []
    loc = prompt.locale
    frame = escape(say(loc, "form.question_logged", incidents="\x00"))  # the sentence around the list
    lines = [escape(sentences.logged_line(i, loc).strip()) for i in q.logged] or \
        [escape(say(loc, "question.logged_none").strip())]
    shown = lines_within(lines, MAX_SECTION - len(frame), lambda count: escape(say(loc, "slack.more", count=count)))
    logged = frame.replace("\x00", "\n" + "\n".join(shown))
    none = _option(say(loc, "form.question_none"), "none")
    blocks: list[Any] = [
        SectionBlock(block_id="question_logged", text=MarkdownTextObject(text=logged),
                     accessory=_question_buttons(prompt)[1]),
        InputBlock(block_id="question", optional=True,
                   label=_plain(f"[{q.number}] {say(loc, 'question.title')}", _LABEL),
                   hint=_plain(say(loc, "form.question_hint"), _LABEL),
                   element=PlainTextInputElement(action_id="text", multiline=True, max_length=MAX_INPUT)),
        InputBlock(block_id="question_none", optional=True, label=_plain(say(loc, "question.title"), _LABEL),
                   element=CheckboxesElement(action_id="value", options=[none],
                                             initial_options=[none] if q.answer == "none" else None)),
    ]
    return [b.to_dict() for b in blocks]


def question_form(view: Mapping[str, Any]) -> QuestionForm | None:
    """The incident question's part of a submitted answer modal (None when the modal did not ask it)."""
    if not ModalMetadata.of(view).asks_question:
        return None
    values = _state(view)
    chosen = ((values.get("question_none") or {}).get("value") or {}).get("selected_options") or []
    return QuestionForm(text=_value(values, "question", "text"),
                        nothing_to_add=any(o.get("value") == "none" for o in chosen))


# ----- incidents ------------------------------------------------------------------------------------

# block id = IncidentForm field; (multiline?)
_INCIDENT_TEXT = (("start", False), ("system", False), ("what", True), ("cause", True), ("impact", True),
                  ("recovered", False))
_MAX_OPTIONS = 100  # options in a static_select (https://api.slack.com/reference/block-kit/block-elements#static_select)


def incident_modal(severities: Sequence[str], locale: str, number: int | None = None,
                   for_question: str | None = None, *, team: str | None = None) -> dict[str, Any]:
    """The incident form (every IncidentForm field); with `number`, a form that changes only the fields filled in;
    with `for_question`, opened from that week's incident question (filing it answers the question); with
    `team`, for that team (an app serving several)."""
    def field(block_id: str, element: Any, optional: bool = True) -> InputBlock:
        return InputBlock(block_id=block_id, optional=optional, element=element,
                          label=_plain(say(locale, f"form.incident.{block_id}"), _LABEL))

    blocks = [field(name, PlainTextInputElement(action_id="value", multiline=multiline),
                    optional=name != "what" or number is not None) for name, multiline in _INCIDENT_TEXT]
    if severities:
        blocks.append(field("severity", StaticSelectElement(action_id="value", options=[
            _option(s, s) for s in severities[:_MAX_OPTIONS]])))
    blocks.append(field("weight", PlainTextInputElement(action_id="value")))
    blocks.append(field("attribution", PlainTextInputElement(action_id="value")))
    blocks.append(field("availability", StaticSelectElement(action_id="value", options=[
        _option(say(locale, "form.yes"), "yes"), _option(say(locale, "form.no"), "no")])))
    title = say(locale, "form.incident_edit_title", number=number) if number else say(locale, "form.incident_title")
    return _modal(Callback.INCIDENT_FORM, title, locale, blocks,
                  ModalMetadata(number=number, for_question=for_question, team=team))


def incident_form(view: Mapping[str, Any]) -> IncidentForm:
    """The IncidentForm a submitted incident modal holds (an edit when it was opened for a number)."""
    values = _state(view)
    availability = _value(values, "availability")
    return IncidentForm(
        # A modal opened before the fields were renamed (during a deploy) still says `started`.
        start=_value(values, "start") or _value(values, "started"), system=_value(values, "system"), what=_value(values, "what"),
        cause=_value(values, "cause"), impact=_value(values, "impact"), recovered=_value(values, "recovered"),
        severity=_value(values, "severity"), weight=_value(values, "weight"),
        counts_toward_availability={"yes": True, "no": False}.get(availability),
        attribution=_value(values, "attribution"), number=ModalMetadata.of(view).number or None)


def incident_question_week(view: Mapping[str, Any]) -> str | None:
    """The week whose incident question a submitted incident modal was opened from, if any."""
    return ModalMetadata.of(view).for_question or None


def incident_reply(text: str, number: int | None, locale: str) -> list[Block]:
    """An incident summary with an Edit button (when it names an incident). It may be longer than one
    message holds: the gateway sends it as `limits.split` packs it."""
    blocks = text_blocks(escape(text))
    if number is not None:
        edit = ButtonElement(action_id=Action.INCIDENT_EDIT, value=str(number),
                             text=_plain(say(locale, "form.incident_edit"), _BUTTON))
        blocks.append(ActionsBlock(block_id="zhoubao_incident", elements=[edit]).to_dict())
    return blocks
