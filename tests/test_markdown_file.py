"""The Markdown file as a wiki shows it: CommonMark (markdown-it-py) keeps every report line its own line,
and what people typed stays text (no headings, raw HTML, fences, link definitions, bidi tricks)."""

from __future__ import annotations

import dataclasses
import html
import re
from pathlib import Path

from markdown_it import MarkdownIt

from bot.domain.report import Entry, Status
from bot.text.render import Renderer, hard_breaks, md_text
from tests.test_render import example_report

GOLDEN = Path(__file__).parent / "golden" / "report_2024-W26.zh-CN.md"
_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+|^#{1,6}\s+")
_BLOCK_END = re.compile(r"</(?:p|li|h[1-6]|ul|ol|blockquote|pre)>|<br\s*/?>|<(?:ul|ol)>")


def shown_lines(markdown: str) -> list[str]:
    """The lines a reader sees when a CommonMark renderer shows `markdown`."""
    page = MarkdownIt("commonmark").render(markdown)
    text = html.unescape(re.sub(r"<[^>]+>", "", _BLOCK_END.sub("\n", page)))
    return [line.strip() for line in text.split("\n") if line.strip()]


def typed_lines(markdown: str) -> list[str]:
    """The report's own lines, without indentation, list markers, heading marks or trailing spaces."""
    return [_MARKER.sub("", line).strip() for line in markdown.split("\n") if line.strip()]


def test_every_line_of_the_example_week_is_its_own_line_in_a_wiki() -> None:
    golden = GOLDEN.read_text(encoding="utf-8")
    assert shown_lines(golden) == typed_lines(golden)


def test_the_example_week_shows_incidents_apart_and_a_hard_break_in_prose() -> None:
    golden = GOLDEN.read_text(encoding="utf-8")
    assert "平稳。\n\n06/26 14:30" not in golden  # sanity: the incident block is where we look below
    incidents = golden.split("## 【生产事件】\n\n")[1].split("\n\n## ")[0]
    assert incidents.count("\n\n") == 2  # three lines, a blank line between each, as the team writes them
    assert "整体进度 45%  \n    主要问题：" in golden  # a two-space hard break, invisible in the raw text


def _report_with(text: str) -> str:
    base = example_report()
    return Renderer().markdown(dataclasses.replace(base, reflection=Entry(Status.ANSWERED, text)))


def test_typed_markdown_cannot_open_blocks_at_report_level() -> None:
    hostile = "\n".join([
        "# foo",
        "## 【O9 伪造】",
        "under a line",
        "===",
        "---",
        "```",
        "[x]: https://evil.example/",
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
    ])
    page = MarkdownIt("commonmark").render(_report_with(hostile))
    reflection = page.split("收获与反思</h2>")[1].split("<h1>")[0]
    assert "<h1>" not in reflection and "<h2>" not in reflection and "<hr" not in reflection
    assert "<pre>" not in reflection and "<script>" not in reflection and "<img" not in reflection
    assert "【O9 伪造】" in html.unescape(reflection)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in reflection
    lines = shown_lines(_report_with(hostile))
    start = lines.index("收获与反思") + 1
    assert lines[start:lines.index("下周工作及目标")] == hostile.split("\n")  # each line shown, as typed


def test_nested_lists_people_type_keep_working() -> None:
    nested = "1. 变更评审\n    - 数据量\n    - 分页\n2. 银行协同"
    page = MarkdownIt("commonmark").render(_report_with(nested))
    reflection = page.split("收获与反思</h2>")[1].split("<h1>")[0]
    assert reflection.count("<ol>") == 1 and reflection.count("<ul>") == 1 and reflection.count("<li>") == 4


def test_md_text_escapes_only_what_would_open_a_block() -> None:
    assert md_text("- # 标题") == "- \\# 标题"
    assert md_text("    1. [a]: b") == "    1. \\[a]: b"
    assert md_text("进度 45%，#3 号机") == "进度 45%，#3 号机"
    assert md_text("a < b") == "a \\< b"


def test_hard_breaks_only_inside_paragraphs() -> None:
    assert hard_breaks("a\nb\n\n- c\n- d\n  e") == "a  \nb\n\n- c\n- d  \n  e"


def test_bidi_controls_are_removed_from_every_rendering() -> None:
    trojan = "正常\u202e文本\u2066隐藏\u2069"
    report = dataclasses.replace(example_report(), reflection=Entry(Status.ANSWERED, trojan))
    renderer = Renderer()
    for rendered in (renderer.markdown(report), renderer.slack(report), renderer.render(report, "feishu")):
        assert "正常文本隐藏" in rendered
        assert not any(ch in rendered for ch in "\u202e\u2066\u2069")
