"""The roll-up as a pure function (bot/domain/rollup.py) and its renderings (templates/rollup.*.j2)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.domain.report import (
    BankLine,
    BudgetLine,
    Entry,
    MetricGroup,
    MetricLine,
    Missing,
    OkrGroup,
    OkrItem,
    Part,
    Project,
    Report,
    SeverityCount,
    Status,
)
from bot.domain.rollup import (
    BankMove,
    Measure,
    MeasureKind,
    ProgressMove,
    Risk,
    Rollup,
    TeamWeek,
    compose_rollup,
)
from bot.text.render import Renderer

SHANGHAI = ZoneInfo("Asia/Shanghai")
FRIDAY = datetime(2024, 6, 28, 17, 0, tzinfo=SHANGHAI)


def _acquiring() -> Report:
    banks = (BankLine("建行", Status.ANSWERED, "联调环境申请中", stage="联调", previous_stage="开发"),
             BankLine("中行", Status.ANSWERED, "待确认", stage="沟通", previous_stage="沟通"))
    return Report(
        team="收单技术组", week="2024-W26", locale="zh-CN", created_at=FRIDAY,
        projects=(Project("聚合收单", parts=(Part("银行", Entry(Status.NOT_UPDATED), banks),)),
                  Project("PCI DSS 认证", prose=Entry(Status.ANSWERED, "整体进度 45%", progress=Decimal(45),
                                                     previous_progress=Decimal(30), main_problem="密钥轮换未定"))),
        okr_groups=(OkrGroup("O1", "业务服务", (OkrItem("对公代付", Entry(Status.ANSWERED, "70%", Decimal(70),
                                                                    Decimal(70))),)),),
        metric_groups=(MetricGroup("系统可用性", (MetricLine("年度可用性", Status.ANSWERED, "99.997%"),
                                             MetricLine("入金有效成功率", Status.NOT_UPDATED)),
                                   (SeverityCount(("A", "B"), Decimal(0)), SeverityCount(("C",), Decimal(1))),
                                   budgets=(BudgetLine("支付网关", "99.93", "99.9", 30, 10, 0, False),)),),
        missing=(Missing("王强", "wangqiang", "聚合收单 · 银行 · 中行"),))


def _english() -> Report:
    return Report(
        team="Cross-border | Payments", week="2024-W26", locale="en", created_at=FRIDAY,
        metric_groups=(MetricGroup("Availability", (MetricLine("Yearly availability", Status.ANSWERED, "99.98%"),),
                                   (SeverityCount(("C",), Decimal("0.5")),)),))


def _rollup() -> Rollup:
    return compose_rollup("支付事业部", "2024-W26", "zh-CN", FRIDAY.replace(hour=18), [
        TeamWeek("收单技术组", _acquiring(), FRIDAY),
        TeamWeek("清结算组", None),
        TeamWeek("Cross-border | Payments", _english(), FRIDAY)])


def test_key_lines_per_team_are_what_moved() -> None:
    acquiring = _rollup().teams[0]
    # 对公代付 stayed at 70%: not a move; 中行 stayed in 沟通: not a change.
    assert acquiring.progress == (ProgressMove("PCI DSS 认证", Decimal(30), Decimal(45)),)
    assert acquiring.banks == (BankMove("聚合收单 · 建行", "开发", "联调"),)
    assert acquiring.risks == (Risk("PCI DSS 认证", "密钥轮换未定"),)
    assert acquiring.not_updated == 1


def test_one_table_of_team_by_measure_and_the_team_that_did_not_publish() -> None:
    rollup = _rollup()
    assert [t.team for t in rollup.teams] == ["收单技术组", "Cross-border | Payments"]
    assert rollup.unpublished == ("清结算组",)
    assert rollup.measures == (Measure(MeasureKind.METRIC, "年度可用性"), Measure(MeasureKind.SEVERITY, "A/B"),
                               Measure(MeasureKind.SEVERITY, "C"), Measure(MeasureKind.AVAILABILITY, "支付网关"),
                               Measure(MeasureKind.METRIC, "Yearly availability"))
    # A metric nobody reported (入金有效成功率) is no column; a measure a team lacks is an empty cell.
    assert [r.cells for r in rollup.rows] == [("99.997%", "0", "1", "99.93%", None),
                                             (None, None, "0.5", None, "99.98%")]


def test_markdown_rendering() -> None:
    text = Renderer().rollup(_rollup(), "md")
    assert text.startswith("# 支付事业部 2024-W26 周报汇总\n\nCreated: 2024年6月28日 18:00\n")
    assert "## 【收单技术组】\n\n2024年6月28日 17:00 发布 · 1 项未更新\n" in text
    assert "- PCI DSS 认证：30% → 45%\n" in text and "- 聚合收单 · 建行：开发 → 联调\n" in text
    assert "| 团队 | 年度可用性 | A/B级事故 | C级事故 | 支付网关可用性 | Yearly availability |\n" in text
    # A `|` in a team's name cannot end its cell.
    assert "| Cross-border \\| Payments | — | — | 0.5 | — | 99.98% |\n" in text
    assert text.rstrip().endswith("未发布：清结算组")


def test_chat_rendering_in_english_leaves_out_what_a_team_lacks() -> None:
    rollup = compose_rollup("Payments", "2024-W26", "en", FRIDAY, [
        TeamWeek("Cross-border", _english(), FRIDAY), TeamWeek("Settlement", None)])
    text = Renderer().rollup(rollup, "text")
    assert "Payments roll-up 2024-W26" in text
    assert "Cross-border: Yearly availability 99.98% · Incidents C 0.5\n" in text
    assert "No progress moved, no bank changed stage, no risk named this week." in text
    assert "Not published: Settlement" in text


def test_nobody_published() -> None:
    rollup = compose_rollup("Payments", "2024-W26", "en", FRIDAY, [TeamWeek("A", None), TeamWeek("B", None)])
    text = Renderer().rollup(rollup, "md")
    assert "No team has published its report this week yet." in text and "Not published: A, B" in text
