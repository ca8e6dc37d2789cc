"""Issue 21 (links stay links), on Feishu: the seed's own week keeps its wiki link. A link typed as a post's
`a` element or as `[text](url)` in a text message is `[text](url)` in the Markdown report (a link in
CommonMark, checked with markdown-it-py), an `a` element in the Feishu post and `[text](url)` in the card
Feishu shows in the channel (card Markdown, 富文本 "文字链接"); a bare address becomes an autolink;
`[x](javascript:…)` stays text everywhere."""

from __future__ import annotations

import json
import re

import pytest
from markdown_it import MarkdownIt

from bot.domain.team import Team
from tests.feishu import payloads
from tests.feishu.conftest import CHANNEL, World, open_id_of
from tests.test_notes import team_with_notes

WIKI = "https://wiki.example.com/incidents/2024-06"  # the seed week's link (tests/test_import.py EXTRA)


@pytest.fixture
def team() -> Team:
    return team_with_notes()  # the 生产事件 section takes a note, where the seed week keeps its link


def test_the_seed_weeks_wiki_link_typed_on_feishu_stays_a_link(world: World) -> None:
    world.bot.cycle.send_prompts()
    # The editor writes the incidents note as a post, the link as Feishu's `a` element
    # (post content: https://open.feishu.cn/document/server-docs/im-v1/message-content-description/create_json).
    post = payloads.message(open_id_of("zhangwei"), "", world.clock.now)
    post["event"]["message"].update(message_type="post", content=json.dumps({"title": "", "content": [[
        {"tag": "text", "text": "生产事件备注：详细记录："}, {"tag": "a", "text": "事件复盘", "href": WIKI}]]},
        ensure_ascii=False))
    assert world.post(post).status_code == 200
    # 赵磊 types links in a text message: Feishu sends them as `[text](url)`.
    typed = "资金安全：见 [方案](https://wiki.example.com/risk)，状态 https://status.example.com 或 [点我](javascript:alert(1))"
    assert world.post(payloads.message(open_id_of("zhaolei"), typed, world.clock.now)).status_code == 200
    world.settle()

    world.clock.advance(hours=31)
    markdown = world.bot.cycle.publish().markdown
    assert f"详细记录：[事件复盘]({WIKI})" in markdown
    assert "见 [方案](https://wiki.example.com/risk)，状态 <https://status.example.com> 或 " \
           "\\[点我](javascript:alert(1))" in markdown
    page = MarkdownIt("commonmark").render(markdown)
    assert f'<a href="{WIKI}">事件复盘</a>' in page and '<a href="https://wiki.example.com/risk">方案</a>' in page
    assert '<a href="https://status.example.com">' in page and "javascript" not in page.split("点我")[0][-200:]
    assert page.count("<a href") == 3

    report = world.bot.week_report.compile(world.bot.ctx.week_of(world.clock.now))
    post_content = json.loads(world.bot.week_report.render(report).feishu)
    elements = [e for paragraph in next(iter(post_content.values()))["content"] for e in paragraph]
    assert {"tag": "a", "text": "事件复盘", "href": WIKI} in elements
    assert {"tag": "a", "text": "方案", "href": "https://wiki.example.com/risk"} in elements
    assert not any(e.get("href", "").startswith("javascript") for e in elements)

    # What the channel shows: the posted card, as the stand-in received it. Card Markdown makes `[text](url)`
    # a link ("文字链接 [文字](https://x)", 富文本（Markdown） https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/
    # feishu-cards/card-json-v2-components/content-components/rich-text); the text around it is escaped, so
    # the unsafe `[点我](javascript:…)` shows as typed and opens nothing.
    [card] = world.standin.sent(to=CHANNEL, msg_type="interactive")
    rich = [e["content"] for e in card.content["body"]["elements"] if e["tag"] == "markdown"]
    shown = "\n".join(rich)
    assert f"[事件复盘]({WIKI})" in shown and "[方案](https://wiki.example.com/risk)" in shown
    # a bare address is a link labelled with itself, the label escaped like any text
    assert "[https&#58;&#47;&#47;status&#46;example&#46;com](https://status.example.com)" in shown
    assert "&#91;点我&#93;&#40;javascript&#58;alert&#40;1&#41;&#41;" in shown
    assert sorted(re.findall(r"\]\((\S+?)\)", shown)) == sorted([WIKI, "https://wiki.example.com/risk",
                                                                "https://status.example.com"])
    plain = json.dumps([e for e in card.content["body"]["elements"] if e["tag"] != "markdown"], ensure_ascii=False)
    assert "wiki.example.com" not in plain  # no link left as text in a plain block
