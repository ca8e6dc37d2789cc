"""Feishu interactive cards (card JSON 2.0), built by pure functions of domain values.

People's text only ever goes into `plain_text` fields and input defaults, which Feishu never parses
for `<at>` or Markdown, so nothing typed can ping anyone. Button values carry what the callback needs
(`ACTION`, week, item keys): a card callback is translated without looking anything up.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from bot.domain.forms import AnswerForm, IncidentForm, QuestionForm, asks_progress
from bot.domain.prompts import Prompt, PromptItem
from bot.text import messages, splitting
from bot.text.catalogue import say
from bot.text.render import feishu_safe

Card = dict[str, Any]

# Limits per docs/platform-limits.md (Feishu section), where each is cited. Feishu refuses a card whose
# request body is over 30 KB ("卡片及富文本消息请求体最大不能超过30KB", 发送消息
# https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message/create, code 230025): the
# body lark-oapi sends (`lark_oapi/core/json.py` marshals with ensure_ascii=False), where `content` is the
# card's JSON escaped once more. We aim under that, measured the same way (`body_size`).
CARD_LIMIT = 28_000  # bytes of request body
# "一张卡片最多支持 200 个元素（如 tag 为 plain_text 的文本元素）或组件" (卡片 JSON 2.0 结构
# https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-json-v2-structure): every tag counts.
ELEMENT_LIMIT = 180
INPUT_LIMIT = 1_000  # characters an `input` accepts
_EXCERPT = 300  # characters of a long answer shown read-only


class Action(StrEnum):
    """What a button's callback asks for."""

    ANSWER = "answer"  # the weekly form
    INCIDENT = "incident"  # the incident form
    QUESTION_NONE = "question_none"  # the incident question's one-click "nothing to add"
    QUESTION_FILE = "question_file"  # open the incident form from the incident question


class MenuKey(StrEnum):
    """`event_key`s of the bot menu (configure these in the developer console)."""

    FILL = "fill_report"  # 填写周报
    INCIDENT = "report_incident"  # 上报事件
    PROGRESS = "week_progress"  # 本周进度


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


def input_name(number: int, field: str = "item") -> str:
    """Form input names: Feishu allows only letters, digits and `_`, so items are numbered
    (`item_2`, `progress_2`, `problem_2`)."""
    return f"{field}_{number}"


# Form shapes (JSON 2.0): https://open.feishu.cn/document/feishu-cards/card-json-v2-components/containers/form-container
# (inputs need a `name` unique in the card; the submit button's callback carries `form_value` by name);
# select_static in a form: https://github.com/larksuite/cli/blob/main/skills/lark-im/references/card/components/select_static.md
# (`options[].value` comes back in `form_value`; `initial_option` preselects one).


def _input(name: str, label: str, default: str = "", *, rows: int = 0, required: bool = False,
           placeholder: str = "", limit: int = INPUT_LIMIT) -> dict[str, Any]:
    element: dict[str, Any] = {"tag": "input", "name": name, "label": _text(label), "label_position": "top",
                               "default_value": default[:limit], "max_length": limit, "required": required}
    if rows:
        element.update({"input_type": "multiline_text", "rows": rows})
    if placeholder:
        element["placeholder"] = _text(placeholder)
    return element


def _select(name: str, label: str, options: Sequence[tuple[str, str]], chosen: str = "") -> dict[str, Any]:
    element: dict[str, Any] = {"tag": "select_static", "name": name, "placeholder": _text(label),
                               "options": [{"text": _text(text), "value": value} for text, value in options]}
    if chosen in {value for _, value in options}:
        element["initial_option"] = chosen
    return element


def prompt_cards(prompt: Prompt, dashboard: str | None = None) -> list[Card]:
    """The weekly prompt: its head line, then a form with one input per item, prefilled, and progress %
    and main problem where the core asks for them (`asks_progress`), the same fields as Slack's modal, in as
    many cards as Feishu's size and element limits need (each card's form submits its own items).

    The prefill is this week's stored answer, else last week's, so an owner edits rather than retypes.
    The week's logged incidents sit on the last card only (the latest few, `logged_lines`), so however many
    there are, no item is moved to a card of its own for them; `dashboard` links the week's whole list.
    """
    loc = prompt.locale
    head, _, _ = prompt.text.partition("\n")
    units: list[list[dict[str, Any]]] = []
    for it in prompt.items:
        prefill = it.this_week or it.last_week or ""
        # Read-only: an input would cut it, and submitting would store the cut. A form container holds any
        # component but table and form (表单容器, https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/
        # feishu-cards/card-json-v2-components/containers/form-container), so the text sits among the inputs.
        if len(prefill) > INPUT_LIMIT:
            units.append([_div(f"[{it.number}] {it.title}", "heading"), _div(prefill[:_EXCERPT] + "…"),
                          _div(say(loc, "form.long_kept", length=len(prefill), limit=INPUT_LIMIT), "notation")])
            continue
        fields = [_input(input_name(it.number), f"[{it.number}] {it.title}", prefill,
                         rows=3, placeholder=say(loc, "form.placeholder"))]
        if asks_progress(it.kind):
            fields.append(_input(input_name(it.number, "progress"), say(loc, "form.progress", name=it.name),
                                 limit=8))
            fields.append(_input(input_name(it.number, "problem"), say(loc, "form.problem", name=it.name)))
        units.append(fields)
    question = question_inputs(prompt)
    if question:
        units.append(question)
    if prompt.actions:  # open action items: read-only lines, answered in a reply (`[n] 完成`), as in Slack's text
        *lines, usage = messages.action_lines(prompt.actions, loc)
        units.append([*(_div(line) for line in lines), _div(usage, "notation")])
    # Every card's button names all the prompt's items, so `item_<n>` reads the same in each.
    value = {"action": Action.ANSWER.value, "week": prompt.week, "items": [it.key for it in prompt.items]}
    button = {"tag": "button", "name": "submit", "type": "primary", "form_action_type": "submit",
              "text": _text(say(loc, "form.submit")), "behaviors": [{"type": "callback", "value": value}]}
    hint = _div(say(loc, "form.reply_hint"), "notation")
    template = "orange" if prompt.kind == "remind" else "blue"

    below = question_buttons(prompt, dashboard)  # the logged incidents and the question's buttons, last card

    def card(title: str, group: list[dict[str, Any]], last: bool) -> Card:
        # The form shows each item's title and prefill; the full text would repeat them (and grow the card).
        return _card(title, [{"tag": "form", "name": "answers", "elements": [*group, button]},
                             *(below if last else []), hint], template)

    empty, last = card(head + " (99/99)", [], False), card(head + " (99/99)", [], True)
    packed = _pack(units, CARD_LIMIT - body_size(empty), ELEMENT_LIMIT - element_count(empty))
    # Only the last card carries what is below the form: its units are packed again with the room it leaves.
    packed[-1:] = _pack(packed[-1], CARD_LIMIT - body_size(last), ELEMENT_LIMIT - element_count(last))
    groups = [[e for unit in group for e in unit] for group in packed]
    if len(groups) == 1:
        return [card(head, groups[0], True)]
    return [card(f"{head} ({n}/{len(groups)})", g, n == len(groups)) for n, g in enumerate(groups, start=1)]


def prompt_card(prompt: Prompt) -> Card:
    """The prompt's first card (all of it when it fits in one)."""
    return prompt_cards(prompt)[0]


# ----- the incident question (issue 14) -----------------------------------------------------------
# Buttons outside a form send their `behaviors[].value` in the card callback on their own:
# https://open.feishu.cn/document/feishu-cards/card-json-v2-components/interactive-components/button
# (a callback answered with only a toast leaves the card as it is).


def question_inputs(prompt: Prompt) -> list[dict[str, Any]]:
    """The incident question inside the prompt card's form: an input answered like a message (`无`, or an
    incident line with its start time)."""
    q = prompt.incidents
    if q is None:
        return []
    loc = prompt.locale
    return [_input(QUESTION_INPUT, f"[{q.number}] {say(loc, 'question.title')}", rows=2,
                   placeholder=say(loc, "form.question_hint"))]


# The week's logged incidents a prompt card lists: the latest LOGGED_SHOWN, within LOGGED_BYTES of request
# body, then "and M more" (and the dashboard's week page when there is one). Sixty incidents of 200
# characters listed whole made a card of 38,257 B, over Feishu's 30 KB (issue 21 item 2).
LOGGED_SHOWN = 10
LOGGED_BYTES = 4_000


def logged_lines(prompt: Prompt, dashboard: str | None = None) -> list[str]:
    """The lines listing the week's logged incidents on a prompt card: the latest that fit (whole lines,
    oldest first; only a single line larger than the room is shortened, with "…"), then how many earlier
    ones are left out and where the week's whole list is."""
    q = prompt.incidents
    loc = prompt.locale
    if q is None or not q.logged:
        return [say(loc, "question.logged_none").strip()]
    lines = [messages.logged_line(i, loc).strip() for i in q.logged[-LOGGED_SHOWN:]]
    while len(lines) > 1 and _cost(_div("\n".join(lines))) > LOGGED_BYTES:
        lines.pop(0)
    if _cost(_div(lines[0])) > LOGGED_BYTES:
        lines = [_cut(lines[0], LOGGED_BYTES - _cost(_div("")) - 8)[0] + "…"]
    left = len(q.logged) - len(lines)
    if left:
        lines.append(say(loc, "question.logged_more", count=left).strip())
    if left and dashboard:
        lines.append(say(loc, "question.logged_link", url=f"{dashboard.rstrip('/')}/week/{prompt.week}").strip())
    return lines


def question_buttons(prompt: Prompt, dashboard: str | None = None) -> list[dict[str, Any]]:
    """Below the form, when the prompt asks the question: the week's logged incidents (so nobody files one
    twice; `logged_lines`), "nothing to add" (one click) and "file an incident"."""
    q = prompt.incidents
    if q is None:
        return []
    loc = prompt.locale
    logged = "\n".join(logged_lines(prompt, dashboard))
    return [
        _div(say(loc, "form.question_logged", incidents="\n" + logged), "notation"),
        {"tag": "button", "name": "question_none", "type": "default", "text": _text(say(loc, "form.question_none")),
         "behaviors": [{"type": "callback", "value": {"action": Action.QUESTION_NONE.value, "week": prompt.week}}]},
        {"tag": "button", "name": "question_file", "type": "danger", "text": _text(say(loc, "form.question_file")),
         "behaviors": [{"type": "callback", "value": {"action": Action.QUESTION_FILE.value, "week": prompt.week}}]}]


QUESTION_INPUT = "question"


def question_form(form: dict[str, Any]) -> QuestionForm | None:
    """The incident question's part of a submitted prompt card (None when the card did not ask it)."""
    if QUESTION_INPUT not in form:
        return None
    return QuestionForm(text=str(form.get(QUESTION_INPUT) or ""))


def answer_forms(keys: Sequence[str], form: dict[str, Any]) -> list[AnswerForm]:
    """One AnswerForm per item key of a submitted prompt card, in the card's order."""
    def field(n: int, name: str) -> str:
        return str(form.get(input_name(n, name)) or "")

    return [AnswerForm(item_key=key, text=field(n, "item"), progress=field(n, "progress"),
                       main_problem=field(n, "problem"))
            for n, key in enumerate(keys, start=1) if input_name(n) in form]


def stored_card(week: str, items: Sequence[PromptItem], reply_text: str, locale: str) -> Card:
    """What a submitted form turns into: the reply, then what is stored per item now (each item's text
    shortened, if need be, so the card stays within Feishu's limits; nothing stored is changed)."""
    title = say(locale, "form.stored_title", week=week)
    shown = [f"[{it.number}] {it.title}\n{it.this_week or say(locale, 'form.not_answered')}" for it in items]
    note = _div(say(locale, "form.change_hint"), "notation")
    head = _div(reply_text or say(locale, "form.saved"))
    room = ELEMENT_LIMIT - element_count(_card(title, [head, note]))
    if len(shown) * 2 > room:  # one div (two elements) per item while they fit, the rest in the last one
        keep = max(1, room // 2 - 1)
        shown = [*shown[:keep], "\n\n".join(shown[keep:])]
    budget = CARD_LIMIT - body_size(_card(title, [head, note]))
    share = len("".join(shown))
    while sum(_cost(_div(t)) for t in shown) > budget and share > 40:
        share = share * 3 // 4
        per_item = max(20, share // max(1, len(shown)))
        shown = [t if len(t) <= per_item else t[:per_item] + "…" for t in shown]
    return _card(title, [head, *(_div(t) for t in shown), note], "green")


Unit = Sequence[dict[str, Any]]  # elements that stay on one card (an item's fields)


def _pack(units: Sequence[Unit], budget: int, room: int) -> list[list[Unit]]:
    """Units in order, grouped so each group costs at most `budget` bytes and `room` elements."""
    groups: list[list[Unit]] = [[]]
    used = count = 0
    for unit in units:
        size, n = sum(_cost(e) for e in unit), element_count(list(unit))
        if groups[-1] and (used + size > budget or count + n > room):
            groups.append([])
            used = count = 0
        groups[-1].append(unit)
        used += size
        count += n
    return groups


# IncidentForm field -> input rows (0: one line)
INCIDENT_TEXT = (("start", 0), ("system", 0), ("what", 2), ("cause", 2), ("impact", 2), ("recovered", 0),
                 ("weight", 0), ("attribution", 0))
_YES_NO = {"yes": True, "no": False}


def incident_card(locale: str, severities: Sequence[str], *, problem: str = "",
                  form: IncidentForm | None = None, for_question: str | None = None) -> Card:
    """The incident form, the same fields as Slack's modal; after a problem, the problem above the form
    and the form holding what was typed, so nothing is lost."""
    form = form or IncidentForm()
    inputs: list[dict[str, Any]] = [
        _input(name, say(locale, f"form.incident.{name}"), str(getattr(form, name)), rows=rows,
               required=name == "what")
        for name, rows in INCIDENT_TEXT]
    if severities:
        inputs.insert(6, _select("severity", say(locale, "form.incident.severity"),
                                 [(s, s) for s in severities], form.severity))
    chosen = {True: "yes", False: "no", None: ""}[form.counts_toward_availability]
    inputs.append(_select("availability", say(locale, "form.incident.availability"),
                          [(say(locale, "form.yes"), "yes"), (say(locale, "form.no"), "no")], chosen))
    inputs.append({"tag": "button", "name": "submit", "type": "danger", "form_action_type": "submit",
                   "text": _text(say(locale, "form.incident_file")),
                   "behaviors": [{"type": "callback", "value": {"action": Action.INCIDENT.value,
                                                                **({"question": for_question} if for_question else {})}}]})
    elements: list[dict[str, Any]] = [_div(problem)] if problem else []
    elements.append({"tag": "form", "name": "incident", "elements": inputs})
    return _card("🚨 " + say(locale, "form.incident_title"), elements, "red")


def incident_form(form: dict[str, Any]) -> IncidentForm:
    """The IncidentForm a submitted incident card holds."""
    def field(name: str) -> str:
        return str(form.get(name) or "")

    # Cards sent before the fields were renamed (interactive for 14 days) still say `started`.
    return IncidentForm(start=field("start") or field("started"), system=field("system"), what=field("what"), cause=field("cause"),
                        impact=field("impact"), recovered=field("recovered"), severity=field("severity"),
                        weight=field("weight"), counts_toward_availability=_YES_NO.get(field("availability")),
                        attribution=field("attribution"))


def incident_filed_card(text: str, locale: str) -> Card:
    """What the incident card turns into once filed: the incident's summary."""
    return note_card(say(locale, "form.incident_filed_title"), text, "red")


def refused_card(text: str, locale: str) -> Card:
    """What a form turns into when the core refuses it (not a member, a bad week)."""
    return note_card("⛔ " + say(locale, "form.bot_name"), text, "grey")


def saving_toast(locale: str) -> dict[str, str]:
    """The toast while a slow submission is still being stored (the card is patched when it is)."""
    return {"type": "info", "content": say(locale, "answer.saving")}


def note_card(title: str, text: str, template: str = "green") -> Card:
    """A card that only says something."""
    return _card(title, [_div(text)], template)


# ----- the report ---------------------------------------------------------------


# The rest of a create-message body: ids as long as Feishu's (ou_/oc_ + 32 characters) with room to
# spare, and the 50-character `uuid` (gateway.message_uuid).
_ENVELOPE = {"receive_id": "o" * 64, "msg_type": "interactive", "uuid": "z" * 50}


def _escaped(text: str) -> int:
    """Bytes `text` takes as a JSON string's inside, as lark-oapi marshals it (UTF-8, not ASCII-escaped)."""
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8")) - 2


def body_size(card: Card) -> int:
    """Bytes of the request body that sends `card` (what Feishu's 30 KB limit measures)."""
    return len(json.dumps({**_ENVELOPE, "content": card_content(card)}, ensure_ascii=False).encode("utf-8"))


def card_size(card: Card) -> int:
    """The card's size as Feishu measures it: see `body_size`."""
    return body_size(card)


def element_count(tree: Any) -> int:
    """Elements and components in a card as Feishu counts them: everything with a `tag`, at any depth."""
    if isinstance(tree, dict):
        return ("tag" in tree) + sum(element_count(v) for v in tree.values())
    if isinstance(tree, list):
        return sum(element_count(v) for v in tree)
    return 0


def _cost(element: dict[str, Any]) -> int:
    """What one more body element adds to the request body: its JSON escaped into `content`, plus the
    `, ` that separates it (escaping works character by character, so costs add up)."""
    return _escaped(json.dumps(element, ensure_ascii=False)) + 2


# Characters the card's rich text (JSON 2.0 `markdown`) would read as Markdown or HTML, written as the
# character references Feishu lists for showing them as they are ("特殊字符转义", 富文本（Markdown）
# https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-json-v2-components/content-components/rich-text;
# JSON 2.0 renders HTML entities, card-json-v2-breaking-changes-release-notes). Every ASCII punctuation
# character is escaped, so nothing people typed can open emphasis, a list, a heading, a tag or a link.
_MD_ESCAPES = {ord(ch): f"&#{ord(ch)};" for ch in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"}
_ENTITY = re.compile(r"&#\d+;|&nbsp;|.", re.DOTALL)  # what a cut may not split: a reference, or one character


def md_escape(text: str) -> str:
    """People's text for a card's `markdown` element, shown as typed (`*`, `<at`, `[x](y)` stay text)."""
    return feishu_safe(text).translate(_MD_ESCAPES)


def _md_line(md: str) -> str:
    """A line of card Markdown with its leading spaces kept (Markdown drops them, or reads four as code)."""
    body = md.lstrip(" ")
    return "&nbsp;" * (len(md) - len(body)) + body


def _paragraph(elements: Sequence[dict[str, Any]]) -> tuple[str, str | None, bool]:
    """A `post` paragraph as plain text, as card Markdown when it holds a link (else None), and whether it
    is a heading (bold). In the plain text a link (`a`) reads as typed, `[label](url)`; in the Markdown it
    is `[label](url)` again, which card Markdown shows as a link ("文字链接 [文字](https://x)", 富文本
    https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-json-v2-components/content-components/rich-text),
    around text escaped to show as typed (`md_escape`). The post's `a` elements only carry addresses
    `links.safe` allows (http, https, mailto), without spaces or parentheses."""
    text = "".join(f"[{e.get('text', '')}]({e['href']})" if e.get("tag") == "a" and e.get("href")
                   else str(e.get("text", "")) for e in elements)
    heading = any("bold" in e.get("style", ()) for e in elements)
    if not any(e.get("tag") == "a" and e.get("href") for e in elements):
        return text, None, heading
    md = "".join(f"[{md_escape(str(e.get('text', '')))}]({e['href']})" if e.get("tag") == "a" and e.get("href")
                 else md_escape(str(e.get("text", ""))) for e in elements)
    return text, _md_line(md), heading


def report_cards(post: dict[str, Any], limit: int = CARD_LIMIT, max_elements: int = ELEMENT_LIMIT) -> list[Card]:
    """The rendered Feishu `post` (`{lang: {title, content}}`) as cards, each under `limit` bytes of request
    body and `max_elements` elements.

    Consecutive body paragraphs share one text block; a heading starts a new block. A card is closed
    before it would pass a limit, and a single block too large for a card is cut at line breaks
    (or, for one enormous line, where the budget runs out).
    """
    lang = next(iter(post.values()))
    title = feishu_safe(str(lang.get("title", "")))
    blocks: list[dict[str, Any]] = []
    body: list[tuple[str, str | None]] = []

    def flush() -> None:
        if body:
            blocks.append(_block([plain for plain, _ in body], [md for _, md in body]))
            body.clear()

    for paragraph in lang.get("content", []):
        text, md, heading = _paragraph(paragraph)
        if heading:
            flush()
            blocks.append(_block([text], [md], "heading"))
        else:
            body.append((text, md))
    flush()
    empty = _card(title + " (99/99)", [])
    budget = limit - body_size(empty)
    room = max_elements - element_count(empty)
    pieces: list[dict[str, Any]] = []
    for block in blocks:
        pieces.extend(_fit(block, budget))
    cards = [[e for unit in group for e in unit] for group in _pack([[piece] for piece in pieces], budget, room)]
    if len(cards) == 1:
        return [_card(title, cards[0])]
    return [_card(f"{title} ({n}/{len(cards)})", els) for n, els in enumerate(cards, start=1)]


def _markdown(content: str, size: str | None = None) -> dict[str, Any]:
    """A card's rich text (JSON 2.0 `markdown`, with `content` and `text_size`: 富文本（Markdown）
    https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-json-v2-components/content-components/rich-text)."""
    block: dict[str, Any] = {"tag": "markdown", "content": content}
    if size:
        block["text_size"] = size
    return block


def _block(plain: list[str], md: list[str | None], size: str | None = None) -> dict[str, Any]:
    """Report lines as one text block: plain text, or card Markdown when any line holds a link (the other
    lines escaped to show as typed)."""
    if all(m is None for m in md):
        return _div("\n".join(plain), size)
    return _markdown("\n".join(m if m is not None else _md_line(md_escape(p)) for p, m in zip(plain, md, strict=True)),
                     size)


def _content(block: dict[str, Any]) -> str:
    return str(block["content"]) if block["tag"] == "markdown" else str(block["text"]["content"])


def _like(block: dict[str, Any], content: str) -> dict[str, Any]:
    """A block of the same kind and size as `block`, holding `content`."""
    size = block.get("text_size") if block["tag"] == "markdown" else block["text"].get("text_size")
    return _markdown(content, size) if block["tag"] == "markdown" else _div(content, size)


def _fit(block: dict[str, Any], budget: int) -> list[dict[str, Any]]:
    """`block` as one or more blocks that each cost at most `budget`."""
    if _cost(block) <= budget:
        return [block]
    out: list[dict[str, Any]] = []
    chunk: list[str] = []
    for line in _content(block).split("\n"):
        if chunk and _cost(_like(block, "\n".join([*chunk, line]))) > budget:
            out.append(_like(block, "\n".join(chunk)))
            chunk = []
        if _cost(_like(block, line)) > budget:
            out.extend(_like(block, piece) for piece in _cut(line, budget - _cost(_like(block, ""))))
            continue
        chunk.append(line)
    if chunk:
        out.append(_like(block, "\n".join(chunk)))
    return out


def _cut(line: str, budget: int) -> list[str]:
    """`line` in pieces whose text costs at most `budget` bytes once escaped twice (a quote takes 4, a
    CJK character 3, a control character 7); a character reference (`&#42;`) is never split."""
    pieces: list[str] = []
    piece: list[str] = []
    used = 0
    for token in _ENTITY.findall(line):
        cost = _escaped(_escaped_text(token))
        if used + cost > budget and piece:
            pieces.append("".join(piece))
            piece, used = [], 0
        piece.append(token)
        used += cost
    pieces.append("".join(piece))
    return pieces


def _escaped_text(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1]


def continued_card(title: str, locale: str) -> Card:
    """What an extra report card becomes when a republished report needs fewer cards."""
    return _card(title, [_div(say(locale, "form.merged"))], "grey")


# Feishu refuses a text message whose request body is over 150 KB ("文本消息请求体最大不能超过150KB", 发送消息
# https://open.feishu.cn/document/server-docs/im-v1/message/create, code 230025); a 143k-character report
# was a 378 KB body (issue 21 item 3). We aim under it, measured as the body lark-oapi sends.
TEXT_LIMIT = 140_000  # bytes of request body
_TEXT_ENVELOPE = {"receive_id": "o" * 64, "msg_type": "text", "uuid": "z" * 50}
_MARKER_ROOM = 100  # bytes kept free in a text for its "(1/3)" marker


def text_body_size(text: str) -> int:
    """Bytes of the request body that sends `text` as a text message (what Feishu's 150 KB measures)."""
    return len(json.dumps({**_TEXT_ENVELOPE, "content": text_content(text)}, ensure_ascii=False).encode("utf-8"))


def _text_cost(text: str) -> int:
    """What `text` adds to a text message's body: escaped into `content`, then `content` into the body."""
    return _escaped(_escaped_text(text))


def texts(text: str, locale: str, limit: int = TEXT_LIMIT) -> list[str]:
    """What must be said as Feishu text messages, each body within `limit` bytes: the text whole when it
    fits, else split on line boundaries (bot/text/splitting), each piece ending in "(n/total)"."""
    safe = feishu_safe(text)
    if text_body_size(safe) <= limit:
        return [text]
    room = limit - text_body_size("") - _MARKER_ROOM
    parts = splitting.pieces(safe, room, _text_cost)
    return [f"{part}\n{say(locale, 'message.part', n=n, total=len(parts))}" for n, part in enumerate(parts, 1)]


def text_content(text: str) -> str:
    """A `text` message's content; `<at …>` and `@all` typed by people come out as text."""
    return json.dumps({"text": feishu_safe(text)}, ensure_ascii=False)


def card_content(card: Card) -> str:
    return json.dumps(card, ensure_ascii=False)
