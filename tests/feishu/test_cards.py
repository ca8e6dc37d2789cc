"""Card builders are pure: sizes, escaping and the incident form's translation, without a network."""

from __future__ import annotations

import json
from datetime import datetime

from bot.adapters.feishu import cards
from bot.adapters.slack import blocks as slack_blocks
from bot.domain.forms import AnswerForm, IncidentForm
from bot.domain.prompts import Prompt, PromptItem
from bot.domain.team import ItemKind


def _post(paragraphs: list[str], heading_every: int = 0) -> dict:
    content = []
    for n, text in enumerate(paragraphs):
        el: dict = {"tag": "text", "text": text}
        if heading_every and n % heading_every == 0:
            el["style"] = ["bold"]
        content.append([el])
    return {"zh_cn": {"title": "2024-W26 周报", "content": content}}


def test_a_small_report_is_one_card_with_its_title() -> None:
    [card] = cards.report_cards(_post(["【聚合收单】", "1. 业务：", "• 平稳"], heading_every=3))
    assert card["header"]["title"]["content"] == "2024-W26 周报"
    assert [e["text"]["content"] for e in card["body"]["elements"]] == ["【聚合收单】", "1. 业务：\n• 平稳"]


def test_every_card_stays_under_the_limit_and_nothing_is_lost() -> None:
    paragraphs = [f"第{n}行：" + "很长的说明" * 200 for n in range(40)] + ["单独一行" * 5000]
    split = cards.report_cards(_post(paragraphs, heading_every=7), limit=20_000)
    assert len(split) > 2
    assert all(cards.card_size(c) <= 20_000 for c in split)
    assert all(len(c["body"]["elements"]) <= cards.ELEMENT_LIMIT for c in split)
    joined = "".join(e["text"]["content"].replace("\n", "") for c in split for e in c["body"]["elements"])
    assert joined == "".join(paragraphs)


def test_a_link_is_card_markdown_and_everything_else_typed_shows_as_typed() -> None:
    """A paragraph with an `a` element becomes card Markdown with `[label](url)` (富文本 "文字链接",
    https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-json-v2-components/content-components/rich-text);
    what people typed around it is written as character references, so `**`, `1.`, `<at` and indentation
    stay text; paragraphs without a link stay plain_text."""
    post = {"zh_cn": {"title": "周报", "content": [
        [{"tag": "text", "text": "【项目】", "style": ["bold"]}],
        [{"tag": "text", "text": "1. 无链接 **粗**"}],
        [{"tag": "text", "text": "    - 见 "}, {"tag": "a", "text": "方案*v2*", "href": "https://wiki.example.com/a_b"},
         {"tag": "text", "text": " <at id=all></at> 1. ok"}]]}}
    [card] = cards.report_cards(post)
    heading, body = card["body"]["elements"]
    assert heading == {"tag": "div", "text": {"tag": "plain_text", "content": "【项目】", "text_size": "heading"}}
    assert body["tag"] == "markdown"
    first, second = body["content"].split("\n")
    assert first == "1&#46; 无链接 &#42;&#42;粗&#42;&#42;"
    assert second.startswith("&nbsp;&nbsp;&nbsp;&nbsp;&#45; 见 [方案&#42;v2&#42;](https://wiki.example.com/a_b) &#60;")
    assert "<" not in second and "*" not in second and "@" not in second.replace("&#64;", "")


def test_a_long_markdown_line_is_cut_between_character_references() -> None:
    line = [{"tag": "text", "text": "*" * 3000}, {"tag": "a", "text": "x", "href": "https://e.com"}]
    split = cards.report_cards({"zh_cn": {"title": "t", "content": [line]}}, limit=6_000)
    assert len(split) > 1 and all(cards.card_size(c) <= 6_000 for c in split)
    joined = "".join(e["content"] for c in split for e in c["body"]["elements"])
    assert joined == "&#42;" * 3000 + "[x](https://e.com)"
    assert all(e["content"].startswith(("&#42;", "[")) for c in split for e in c["body"]["elements"])


def test_typed_mentions_come_out_as_text() -> None:
    content = json.loads(cards.text_content('提醒 <at user_id="all">所有人</at> 和 @all'))
    assert "<at" not in content["text"] and "@all" not in content["text"]
    assert "所有人" in content["text"]


def test_the_incident_card_offers_every_field_and_reads_back_typed() -> None:
    card = cards.incident_card("zh-CN", ["A", "B", "C", "D"])
    form = next(e for e in card["body"]["elements"] if e["tag"] == "form")
    assert [e["name"] for e in form["elements"]] == [
        "start", "system", "what", "cause", "impact", "recovered", "severity", "weight", "attribution", "availability",
        "submit"]
    typed = {"start": "06/27  20:05", "system": "gateway-api", "what": "节点CPU打满", "cause": "缺少分页",
             "impact": "", "recovered": "21:00", "severity": "C", "weight": "0.5", "attribution": "自身",
             "availability": "no"}
    assert cards.incident_form(typed) == IncidentForm(
        start="06/27  20:05", system="gateway-api", what="节点CPU打满", cause="缺少分页", recovered="21:00",
        severity="C", weight="0.5", counts_toward_availability=False, attribution="自身")
    # A card sent before the rename still files at the time typed, not at "now".
    assert cards.incident_form({"started": "06/27 20:05", "what": "x"}).start == "06/27 20:05"


def test_the_prompt_card_asks_progress_and_main_problem_where_the_slack_modal_does() -> None:
    items = (PromptItem(1, "project:P/业务", "P · 业务", ItemKind.PART, "业务", "上周内容", None),
             PromptItem(2, "bank:P/建行", "P · 银行 · 建行", ItemKind.BANK, "建行", None, "本周已有"))
    prompt = Prompt("2024-W26", "prompt", items, "head", "zh-CN", datetime(2024, 6, 28, 17))
    form = next(e for e in cards.prompt_card(prompt)["body"]["elements"] if e["tag"] == "form")
    assert [e["name"] for e in form["elements"]] == ["item_1", "progress_1", "problem_1", "item_2", "submit"]
    slack = [b["block_id"] for b in slack_blocks.answer_modal(prompt)["blocks"]]
    assert [n.replace("_", ":") for n in [e["name"] for e in form["elements"]][:-1]] == slack
    assert cards.answer_forms(["project:P/业务", "bank:P/建行"], {
        "item_1": "完成切量", "progress_1": "60", "problem_1": "开户上限", "item_2": ""}) == [
        AnswerForm("project:P/业务", "完成切量", "60", "开户上限"), AnswerForm("bank:P/建行")]
