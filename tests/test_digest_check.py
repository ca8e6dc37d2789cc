"""The fact check of the week's key points: deterministic, no model. A line passes only when it cites
sources of the week and every number, date and name in it is in those sources' facts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot.domain import report as r
from bot.domain.digest import (
    AnswerError,
    FactSheet,
    KeyLine,
    Pseudonyms,
    Source,
    chunks,
    estimate_tokens,
    fact_sheet,
    key_points,
    parse_answer,
    request_messages,
)
from bot.domain.digest_check import check_lines, chinese_number, line_problem, numbers_in
from tests.helpers import example_team

SHEET = FactSheet("2024-W26", "zh-CN", (
    Source("P1.3", "聚合收单 · 产研", "刘洋", "- 收单v2.1方案评审完成\n- v2.0已于6月26日全量上线。"),
    Source("P2", "PCI DSS 认证", "陈静", "整体进度 45%", (("progress", "45%"),)),
    Source("I2", "生产事件 #2", None, "招行代扣通道返回码异常，经银行修复后 15:10 恢复。",
           (("started", "2024-06-26 14:30"),)),
    Source("S.reflection", "收获与反思", "张伟", "本周两次事件都与数据量增长有关"),
), names=("刘洋", "陈静", "张伟", "招行", "建行", "Zhang Wei"))


def problem(text: str, *cites: str) -> tuple[str, str] | None:
    return line_problem(KeyLine(text, cites), SHEET)


def test_a_line_whose_every_fact_is_in_its_sources_passes() -> None:
    assert problem("v2.0已于6月26日全量上线，v2.1方案评审完成", "P1.3") is None
    assert problem("PCI DSS 认证整体进度 45%", "P2") is None
    assert problem("招行通道 15:10 恢复（6月26日）", "I2") is None
    assert problem("本周两次事件都与数据量增长有关", "S.reflection") is None
    assert problem("v2.0 went fully live on Jun 26", "P1.3") is None


@pytest.mark.parametrize(("text", "cites", "why"), [
    ("PCI DSS 认证整体进度 60%", ("P2",), ("number", "60")),  # a number not stated
    ("v2.0已于6月27日全量上线", ("P1.3",), ("number", "27")),  # a date not stated
    ("v2.0 went live on Jul 26", ("P1.3",), ("month", "Jul")),  # a month not stated
    ("本周三次事件都与数据量增长有关", ("S.reflection",), ("number", "3")),  # a Chinese numeral
    ("张伟确认 v2.0 已上线", ("P1.3",), ("name", "张伟")),  # a person the source does not name
    ("建行通道 15:10 恢复", ("I2",), ("name", "建行")),  # a bank the source does not name
    ("进度 45%", ("P7",), ("unknown_id", "P7")),  # an id that is not in the week
    ("进度 45%", (), ("no_cite", "")),
    ("  ", ("P2",), ("empty", "")),
    ("整体进度 45%" + "。" * 300, ("P2",), ("too_long", "300")),
])
def test_a_line_with_a_fact_not_in_its_sources_is_refused(text: str, cites: tuple[str, ...],
                                                          why: tuple[str, str]) -> None:
    assert problem(text, *cites) == why


def test_a_fact_from_another_item_does_not_count() -> None:
    """45% is a fact of P2, not of P1.3: a line must cite where its numbers come from."""
    assert problem("v2.0 上线，整体进度 45%", "P1.3") == ("number", "45")
    assert problem("v2.0 上线，整体进度 45%", "P1.3", "P2") is None


def test_check_keeps_at_most_the_limit_and_says_why_each_other_line_went() -> None:
    lines = [KeyLine("整体进度 45%", ("P2",)), KeyLine("整体进度 99%", ("P2",)), KeyLine("整体进度 45%", ("P2",)),
             KeyLine("v2.0已于6月26日全量上线", ("P1.3",)), KeyLine("本周两次事件", ("S.reflection",))]
    checked = check_lines(lines, SHEET, max_lines=2, min_lines=2)
    assert [k.text for k in checked.kept] == ["整体进度 45%", "v2.0已于6月26日全量上线"]
    assert [(d.reason, d.detail) for d in checked.dropped] == [("number", "99"), ("repeat", ""),
                                                              ("over_limit", "2")]
    assert checked.enough
    assert not check_lines(lines[:2], SHEET, max_lines=5, min_lines=2).enough


def test_numbers_are_read_as_written() -> None:
    assert numbers_in("1,000 人，99.993%，v2.0，两次，十二月") == {Decimal(1000), Decimal("99.993"), Decimal(2),
                                                              Decimal(12)}
    assert chinese_number("两千三百") == 2300 and chinese_number("十二") == 12 and chinese_number("三") == 3


def test_the_answer_must_be_the_json_asked_for() -> None:
    assert parse_answer('{"lines": [{"text": " a  b ", "cites": ["P1"]}]}') == [KeyLine("a b", ("P1",))]
    assert parse_answer('```json\n{"lines": [{"text": "a", "cites": "P1"}]}\n```') == [KeyLine("a", ("P1",))]
    for bad in ("", "Here are the key points", '{"points": []}', '{"lines": ["a"]}',
                '{"lines": [{"text": "a", "cites": [1]}]}'):
        with pytest.raises(AnswerError):
            parse_answer(bad)


def test_pseudonyms_hide_names_in_what_is_sent_and_come_back_in_the_answer() -> None:
    p = Pseudonyms({"刘洋": "person-3", "张伟": "person-1"})
    sent = p.sheet(SHEET)
    blob = str(request_messages(sent, 5))
    assert "刘洋" not in blob and "张伟" not in blob and "person-3" in blob
    assert p.reveal("person-3 说 v2.0 已上线；person-99") == "刘洋 说 v2.0 已上线；person-99"
    # An invented pseudonym stays a number the facts do not have: the check drops it.
    assert line_problem(KeyLine(p.reveal("person-99 确认上线"), ("P1.3",)), SHEET) == ("number", "99")


def test_the_seed_week_sheet_cites_every_answered_part_with_its_owner() -> None:
    team = example_team()
    zone = ZoneInfo("Asia/Shanghai")
    answered = r.Entry(r.Status.ANSWERED, "v2.0已于6月26日全量上线。", author="刘洋")
    project = team.projects[0]
    parts = tuple(r.Part(p.name, answered if p.name == "产研" else r.Entry(r.Status.NOT_UPDATED),
                         tuple(r.BankLine(b.name, r.Status.NOT_UPDATED) for b in p.banks)) for p in project.parts)
    report = r.Report(team="t", week="2024-W26", locale="zh-CN", created_at=datetime(2024, 6, 28, 17, tzinfo=zone),
                      projects=(r.Project(project.name, parts=parts),
                                *(r.Project(p.name, prose=r.Entry(r.Status.NOT_UPDATED)) for p in team.projects[1:])),
                      metric_groups=tuple(r.MetricGroup(g.name, tuple(r.MetricLine(m.name, r.Status.NOT_UPDATED)
                                                                       for m in g.metrics)) for g in team.metrics))
    sheet = fact_sheet(team, report, r.Entry(r.Status.ANSWERED, "1. v2.0 上线", author="张伟"))
    assert [s.id for s in sheet.sources] == ["P1.3", "S.last_next"]
    points = key_points([KeyLine("v2.0已于6月26日全量上线", ("P1.3", "S.last_next"))], sheet)
    assert points == (r.KeyPoint("v2.0已于6月26日全量上线", ("刘洋 · 聚合收单 · 产研", "张伟 · 上周的下周工作及目标")),)


def test_a_sheet_too_big_for_the_context_is_sent_one_section_at_a_time() -> None:
    sources = tuple(Source(f"P{p}.{n}", f"项目{p}", f"owner{n}", "进展正常，" * 40) for p in range(1, 4)
                    for n in range(1, 30))
    sheet = FactSheet("2024-W26", "zh-CN", sources)
    assert chunks(sheet, 5, 10**6) == [sheet]
    parts = chunks(sheet, 5, 4000)
    assert len(parts) > 3 and all(estimate_tokens(request_messages(c, 5)) <= 4000 for c in parts)
    assert [s for c in parts for s in c.sources] == list(sources)
    # Whole sections are packed together; only a section too big for one request is split.
    sections = [{s.id.split(".")[0] for s in c.sources} for c in parts]
    assert all(len(ids) == 1 for ids in sections)  # each project here is bigger than a request
    small = FactSheet("2024-W26", "zh-CN", tuple(Source(f"P{p}.1", f"项目{p}", "o", "进展正常") for p in range(1, 40)))
    whole = estimate_tokens(request_messages(small, 5))
    base = estimate_tokens(request_messages(FactSheet("2024-W26", "zh-CN", ()), 5))
    packed = chunks(small, 5, base + (whole - base) // 2 + 20)  # room for about half the 39 sections
    assert len(packed) in (2, 3) and [s for c in packed for s in c.sources] == list(small.sources)


def test_a_key_point_is_text_in_every_rendering_and_pings_nobody() -> None:
    from bot.text.render import Renderer

    point = r.KeyPoint("<!channel> @all {{ 7*7 }} # 标题", ("刘洋 · 聚合收单 · 产研",))
    report = r.Report(team="t", week="2024-W26", locale="zh-CN",
                      created_at=datetime(2024, 6, 28, 17, tzinfo=ZoneInfo("Asia/Shanghai")), key_points=(point,))
    renderer = Renderer()
    assert "1. \\<!channel> @all {{ 7*7 }} # 标题（刘洋 · 聚合收单 · 产研）" in renderer.markdown(report)
    assert "1. &lt;!channel&gt; @all {{ 7*7 }} # 标题（刘洋 · 聚合收单 · 产研）" in renderer.slack(report)
    paragraphs = [e["text"] for line in renderer.feishu_post(report)["zh_cn"]["content"] for e in line]
    assert paragraphs[1:3] == ["【本周要点】", "1. <!channel> @\u200ball {{ 7*7 }} # 标题（刘洋 · 聚合收单 · 产研）"]
