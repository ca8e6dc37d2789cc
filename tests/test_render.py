"""Rendering a compiled Report: Markdown byte for byte, Slack mrkdwn and Feishu posts."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
import pytest
from markdown_it import MarkdownIt

import bot.text.render
from bot.domain.report import (
    BankLine,
    Entry,
    Incident,
    MetricGroup,
    MetricLine,
    OkrGroup,
    OkrItem,
    Part,
    Project,
    Report,
    SeverityCount,
    Status,
)
from bot.text.i18n import format_date, incident_counts
from bot.text.render import Renderer, list_items, templates_dir

GOLDEN = Path(__file__).parent / "golden" / "report_2024-W26.zh-CN.md"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOT_UPDATED = Entry(Status.NOT_UPDATED)
AWAY = Entry(Status.AWAY)
NASTY = '{{ report.team }} {% if true %}x{% endif %} <script>alert(1)</script> <!channel> <!here> <@U123> @all @所有人 <at user_id="all"></at> a & b'


def _answered(text: str, **kwargs: object) -> Entry:
    return Entry(Status.ANSWERED, text, **kwargs)  # type: ignore[arg-type]


def _at(day: int, hour: int, minute: int) -> datetime:
    return datetime(2024, 6, day, hour, minute, tzinfo=SHANGHAI)


def example_report(locale: str = "zh-CN") -> Report:
    """The REPORT.md example, as `bot.compile` would hand it over."""
    business = (
        "- 商户入网新流程在上海、杭州切量，交易运行平稳。遗留问题：\n"
        "    - 存量商户资料迁移时触发银行侧单日开户上限，已协调扩容。\n"
        "    - 分批开户限流方案评审中，预计下周定稿。\n"
        "- 分账项目：预计7月3日进入联调。"
    )
    banks = (
        BankLine("建行", Status.ANSWERED, "接口文档已获取，联调环境申请中。"),
        BankLine("招行", Status.ANSWERED, "跨行代扣方案评审通过，下周启动开发。"),
        BankLine("中行", Status.ANSWERED, "收款入账方式待确认。"),
        BankLine("其他银行", Status.ANSWERED, "7月完成P0银行意向确认。"),
    )
    research = "- 收单v2.1方案评审完成，目标是缩短支付页首屏时间。\n- v2.0已于6月26日全量上线。"
    pci = "本周完成差距分析与整改清单，已提交审核方，整体进度 45%\n主要问题：密钥轮换流程的留痕方案未定"
    return Report(
        team="支付技术部",
        week="2024-W26",
        locale=locale,
        created_at=datetime(2024, 6, 28, 17, 0, tzinfo=SHANGHAI),
        projects=(
            Project(
                "聚合收单",
                parts=(
                    Part("业务", _answered(business)),
                    Part("银行", NOT_UPDATED, banks),
                    Part("产研", _answered(research)),
                ),
            ),
            Project(
                "PCI DSS 认证",
                prose=_answered(
                    pci,
                    progress=Decimal("45"),
                    previous_progress=Decimal("30"),
                    main_problem="密钥轮换流程的留痕方案未定",
                ),
            ),
        ),
        okr_groups=(
            OkrGroup(
                "O1",
                "业务服务",
                (
                    OkrItem("跨境收款", _answered("一期已上线，二期多币种结算方案设计中")),
                    OkrItem("资金安全", _answered("风控规则二期方案有变，待最新方案")),
                    OkrItem(
                        "对公代付",
                        _answered(
                            "系统开发进度70%，主要依赖：银行专线开通",
                            progress=Decimal("70"),
                            previous_progress=Decimal("55.5"),
                        ),
                    ),
                ),
            ),
            OkrGroup(
                "O2",
                "能力升级",
                (
                    OkrItem("交易路由", _answered("智能路由一期上线完成，覆盖12城")),
                    OkrItem("实时数仓", _answered("上线完成，历史数据回刷中，计划周末刷5月份数据")),
                ),
            ),
            OkrGroup(
                "O3",
                "平台治理",
                (
                    OkrItem(
                        "机房迁移",
                        _answered(
                            "整体进度达到了80%，预计下周三完成生产验证",
                            progress=Decimal("80"),
                            previous_progress=Decimal("80"),
                        ),
                    ),
                ),
            ),
        ),
        metric_groups=(
            MetricGroup(
                "支付成功率",
                (
                    MetricLine("入金有效成功率", Status.ANSWERED, "99.993%"),
                    MetricLine("出金有效成功率", Status.ANSWERED, "99.981%"),
                ),
            ),
            MetricGroup(
                "系统可用性",
                (MetricLine("年度可用性", Status.ANSWERED, "99.997%"),),
                (
                    SeverityCount(("A", "B"), Decimal("0")),
                    SeverityCount(("C",), Decimal("1")),
                    SeverityCount(("D",), Decimal("0.5")),
                ),
            ),
        ),
        incidents=(
            Incident(
                1,
                _at(24, 9, 12),
                "清结算批量任务超时，有重试，对业务无实际影响。",
                cause="对账文件体积较上周翻倍",
                severity="D",
                weight=Decimal("0.5"),
            ),
            Incident(
                2,
                _at(26, 14, 30),
                "招行代扣通道返回码异常，部分代扣失败，经银行修复后 15:10 恢复。",
                recovered_at=_at(26, 15, 10),
                severity="C",
            ),
            Incident(
                3, _at(27, 20, 5), "gateway-api节点CPU打满", cause="新接口缺少分页，一次拉取全部历史订单"
            ),
        ),
        other=_answered("1. 新人培训第二期\n2. 年中预算复盘"),
        reflection=_answered(
            "本周两次事件都与数据量增长有关，设计评审要把数据规模当作必答题。\n"
            "\n"
            "1. 变更评审：新接口必须说明最坏情况下的数据量和分页策略。\n"
            "2. 银行协同：通道异常的发现晚于商户投诉，需要补齐通道级监控。"
        ),
        next_week=_answered(
            "1. 聚合收单分批开户限流方案定稿\n2. PCI DSS 整改项推进到 70%\n3. 通道级监控方案评审"
        ),
    )


def english_report() -> Report:
    """The same week for a team whose config and replies are in English."""
    business = (
        "New merchant onboarding live in Shanghai and Hangzhou, running smoothly. Open issues:\n"
        "    - Migrating merchants hit the bank's daily account-opening cap; capacity raised.\n"
        "    - Batched opening with rate limits under review, final next week.\n"
        "Split payments: integration testing from Jul 3."
    )
    banks = (
        BankLine("CCB", Status.ANSWERED, "API docs received, test environment requested."),
        BankLine("CMB", Status.ANSWERED, "Cross-bank direct debit design approved."),
        BankLine("BOC", Status.NOT_UPDATED),
        BankLine("Other banks", Status.ANSWERED, stage="intent"),
    )
    return Report(
        team="Payments Engineering",
        week="2024-W26",
        locale="en",
        created_at=datetime(2024, 6, 28, 17, 0, tzinfo=SHANGHAI),
        projects=(
            Project(
                "Acquiring",
                parts=(
                    Part("Business", _answered(business)),
                    Part("Banks", _answered(""), banks),
                    Part("R&D", AWAY),
                ),
            ),
            Project(
                "PCI DSS",
                prose=_answered("Gap analysis done, overall progress 45%\nMain problem: key rotation trail"),
            ),
        ),
        okr_groups=(
            OkrGroup(
                "O1",
                "Business services",
                (
                    OkrItem("Cross-border", _answered("Phase 1 live\n- phase 2 in design")),
                    OkrItem("Fund safety", NOT_UPDATED),
                ),
            ),
        ),
        metric_groups=(
            MetricGroup(
                "Payment success rate",
                (
                    MetricLine("Pay-in", Status.ANSWERED, "99.993%"),
                    MetricLine("Pay-out", Status.AWAY),
                ),
                (
                    SeverityCount(("A", "B"), Decimal("0")),
                    SeverityCount(("C",), Decimal("1")),
                    SeverityCount(("D",), Decimal("0.5")),
                ),
            ),
        ),
        incidents=(
            Incident(
                1,
                _at(24, 9, 12),
                "Settlement batch timed out",
                impact="none on business",
                cause="file doubled",
            ),
            Incident(
                2, _at(26, 14, 30), "CMB debit channel errors, recovered 15:10.", recovered_at=_at(26, 15, 10)
            ),
        ),
        other=_answered(""),
        reflection=AWAY,
        next_week=_answered("1. Finalise batched opening\n2. PCI DSS to 70%"),
    )


ENGLISH = """\
# 2024-W26

Created: Jun 28, 2024 17:00

- Acquiring
    1. Business:
        - New merchant onboarding live in Shanghai and Hangzhou, running smoothly. Open issues:
            - Migrating merchants hit the bank's daily account-opening cap; capacity raised.
            - Batched opening with rate limits under review, final next week.
        - Split payments: integration testing from Jul 3.
    2. Banks:
        - CCB: API docs received, test environment requested.
        - CMB: Cross-bank direct debit design approved.
        - BOC: not updated
        - Other banks: intent
    3. R&D:
        - away
- PCI DSS

    Gap analysis done, overall progress 45%\x20\x20
    Main problem: key rotation trail

## O1 Business services

1. Cross-border: Phase 1 live
   - phase 2 in design
2. Fund safety: not updated

## System metrics

Payment success rate:

- Pay-in: 99.993%
- Pay-out: away
- Incidents: A/B 0, C 1, D 0.5

## Production incidents

06/24 09:12 Settlement batch timed out, Impact: none on business, Cause: file doubled

06/26 14:30 CMB debit channel errors, recovered 15:10.

## Other

None

## Lessons and reflections

away

# Next week

1. Finalise batched opening
2. PCI DSS to 70%
"""


def test_markdown_matches_the_golden_example() -> None:
    assert Renderer().markdown(example_report()) == GOLDEN.read_text(encoding="utf-8")


def test_markdown_in_english() -> None:
    assert Renderer().markdown(english_report()) == ENGLISH


def test_unanswered_items_show_their_status_where_the_text_would_be() -> None:
    report = Report(
        team="支付技术部",
        week="2024-W27",
        locale="zh-CN",
        created_at=datetime(2024, 7, 5, 9, 5, tzinfo=SHANGHAI),
        projects=(
            Project(
                "聚合收单",
                parts=(
                    Part("业务", NOT_UPDATED),
                    Part("银行", AWAY, (BankLine("建行", Status.NOT_UPDATED), BankLine("招行", Status.AWAY))),
                    Part("产研", AWAY),
                ),
            ),
            Project("PCI DSS 认证", prose=NOT_UPDATED),
            Project("机房迁移", prose=AWAY),
        ),
        okr_groups=(
            OkrGroup("O1", "业务服务", (OkrItem("跨境收款", NOT_UPDATED), OkrItem("资金安全", AWAY))),
        ),
        metric_groups=(
            MetricGroup(
                "支付成功率",
                (MetricLine("入金有效成功率", Status.NOT_UPDATED), MetricLine("出金有效成功率", Status.AWAY)),
            ),
        ),
        reflection=AWAY,
    )
    assert (
        Renderer().markdown(report)
        == """\
# 2024-W27

Created: 2024年7月5日 09:05

- 【聚合收单】
    1. 业务：
        - 未更新
    2. 银行：
        - 建行：未更新
        - 招行：休假
    3. 产研：
        - 休假
- 【PCI DSS 认证】

    未更新

- 【机房迁移】

    休假

## 【O1 业务服务】

1. 跨境收款：未更新
2. 资金安全：休假

## 【系统运行数据】

支付成功率：

- 入金有效成功率：未更新
- 出金有效成功率：休假

## 【生产事件】

无

## 【其他】

未更新

## 收获与反思

休假

# 下周工作及目标

未更新
"""
    )


def test_unanswered_items_in_english() -> None:
    report = Report(
        team="Payments",
        week="2024-W27",
        locale="en",
        created_at=datetime(2024, 7, 5, 17, 0, tzinfo=SHANGHAI),
        okr_groups=(
            OkrGroup("O1", "Growth", (OkrItem("Cross-border", NOT_UPDATED), OkrItem("Payouts", AWAY))),
        ),
    )
    text = Renderer().markdown(report)
    assert "1. Cross-border: not updated\n2. Payouts: away\n" in text
    assert "## Production incidents\n\nNone\n" in text
    assert text.endswith("# Next week\n\nnot updated\n")
    assert "System metrics" not in text  # a team without metrics gets no empty section


def test_an_incident_recovered_later_gets_its_recovery_time() -> None:
    incident = Incident(1, _at(28, 10, 0), "网关超时", cause="连接池过小", recovered_at=_at(28, 11, 30))
    report = dataclasses.replace(example_report(), incidents=(incident,))
    assert "\n06/28 10:00 网关超时，原因：连接池过小，11:30 恢复\n" in Renderer().markdown(report)


def _nasty_report(locale: str = "zh-CN") -> Report:
    """The example with people's text that a template or a chat platform could mistake for markup."""
    report = example_report(locale)
    acquiring, pci = report.projects
    parts = (Part("业务", _answered(NASTY)), *acquiring.parts[1:])
    return dataclasses.replace(
        report,
        projects=(dataclasses.replace(acquiring, parts=parts), pci),
        okr_groups=(OkrGroup("O1", "业务服务", (OkrItem("跨境收款", _answered(NASTY)),)),),
        incidents=(Incident(1, _at(24, 9, 12), NASTY),),
        other=_answered(NASTY),
    )


def test_markdown_shows_typed_markup_as_text() -> None:
    text = Renderer().markdown(_nasty_report())
    escaped = NASTY.replace("<", "\\<")  # a CommonMark backslash escape: shown as `<`, never raw HTML
    assert f"        - {escaped}\n" in text
    assert f"1. 跨境收款：{escaped}\n" in text
    assert f"06/24 09:12 {escaped}\n" in text
    assert f"## 【其他】\n\n{escaped}\n" in text
    assert "<script>" not in MarkdownIt("commonmark").render(text)
    assert "{{ report.team }} {% if true %}x{% endif %}" in text


def test_slack_escapes_everything_people_typed() -> None:
    text = Renderer().slack(_nasty_report())
    assert "<" not in text and ">" not in text  # no mention, link or HTML can survive
    assert "&lt;!channel&gt; &lt;!here&gt; &lt;@U123&gt;" in text
    assert "a &amp; b" in text
    assert "{{ report.team }} {% if true %}x{% endif %}" in text


def test_slack_layout() -> None:
    text = Renderer().slack(example_report())
    assert text.startswith("*2024-W26 周报*\nCreated: 2024年6月28日 17:00\n\n*【聚合收单】*\n    1. 业务：\n")
    assert "**" not in text
    assert (
        "        • 商户入网新流程在上海、杭州切量，交易运行平稳。遗留问题：\n            • 存量商户" in text
    )
    assert "        • 建行：接口文档已获取，联调环境申请中。\n" in text
    assert "\n*【PCI DSS 认证】* (30% → 45%)\n" in text
    assert "3. 对公代付：系统开发进度70%，主要依赖：银行专线开通 (55.5% → 70%)\n" in text
    assert "1. 机房迁移：整体进度达到了80%，预计下周三完成生产验证\n" in text  # 80% → 80% is no change
    assert "• 事故数AB级0次，C级1次，D级0.5次\n" in text
    assert "\n*【生产事件】*\n06/24 09:12 " in text
    assert text.endswith(
        "*下周工作及目标*\n1. 聚合收单分批开户限流方案定稿\n2. PCI DSS 整改项推进到 70%\n3. 通道级监控方案评审\n"
    )


def test_markdown_never_shows_progress_change() -> None:
    assert "→" not in Renderer().markdown(example_report())


def _paragraph_texts(post: dict[str, object], key: str = "zh_cn") -> list[str]:
    content = post[key]["content"]  # type: ignore[index]
    return [paragraph[0]["text"] for paragraph in content]


def test_feishu_post_shape() -> None:
    post = Renderer().feishu_post(example_report())
    assert list(post) == ["zh_cn"]
    assert post["zh_cn"]["title"] == "2024-W26 周报"
    content = post["zh_cn"]["content"]
    assert all(len(paragraph) == 1 and paragraph[0]["tag"] == "text" for paragraph in content)
    bold = [p[0]["text"] for p in content if p[0].get("style") == ["bold"]]
    assert bold == [
        "【聚合收单】",
        "【PCI DSS 认证】 (30% → 45%)",
        "【O1 业务服务】",
        "【O2 能力升级】",
        "【O3 平台治理】",
        "【系统运行数据】",
        "【生产事件】",
        "【其他】",
        "收获与反思",
        "下周工作及目标",
    ]
    texts = _paragraph_texts(post)
    assert texts[:3] == ["Created: 2024年6月28日 17:00", "【聚合收单】", "    1. 业务："]
    assert "            • 存量商户资料迁移时触发银行侧单日开户上限，已协调扩容。" in texts
    assert "• 事故数AB级0次，C级1次，D级0.5次" in texts
    assert all(text.strip() for text in texts)  # no empty paragraphs


def test_feishu_post_in_english_uses_the_english_key() -> None:
    post = Renderer().feishu_post(english_report())
    assert post["en_us"]["title"] == "Weekly report 2024-W26"
    assert "Payment success rate:" in _paragraph_texts(post, "en_us")


def test_feishu_defuses_mentions_people_typed() -> None:
    texts = _paragraph_texts(Renderer().feishu_post(_nasty_report()))
    joined = "\n".join(texts)
    assert not re.search(r"<at|@all|@所有人", joined)
    assert '<\u200bat user_id="all"></at>' in joined
    assert "@\u200ball @\u200b所有人" in joined
    assert "{{ report.team }} {% if true %}x{% endif %} <script>" in joined


def test_render_by_format() -> None:
    renderer = Renderer()
    report = example_report()
    assert renderer.render(report, "md") == renderer.markdown(report)
    assert renderer.render(report, "slack") == renderer.slack(report)
    feishu = renderer.render(report, "feishu")
    assert json.loads(feishu) == renderer.feishu_post(report)
    assert "聚合收单" in feishu  # ensure_ascii=False
    with pytest.raises(ValueError):
        renderer.render(report, "html")  # type: ignore[arg-type]


def test_unknown_locale_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown locale"):
        Renderer().markdown(dataclasses.replace(example_report(), locale="fr"))


def test_templates_are_found_and_can_be_replaced(tmp_path: Path) -> None:
    assert (templates_dir() / "report.md.j2").is_file()
    (tmp_path / "report.md.j2").write_text("{{ report.week }} {{ labels.none }}\n", encoding="utf-8")
    assert Renderer(tmp_path).markdown(example_report()) == "2024-W26 无\n"


def test_templates_see_no_undefined_names(tmp_path: Path) -> None:
    (tmp_path / "report.md.j2").write_text("{{ report.nothing }}\n", encoding="utf-8")
    with pytest.raises(jinja2.UndefinedError, match="nothing"):
        Renderer(tmp_path).markdown(example_report())


def test_no_jinja_environment_at_module_level() -> None:
    assert not any(isinstance(value, jinja2.Environment) for value in vars(bot.text.render).values())


def test_typed_lines_become_list_items() -> None:
    typed = [
        "plain line",
        "    - nested keeps its place",
        "* star",
        "1. numbered",
        "• from slack",
        "",
        "-5% is text",
    ]
    assert list_items(typed) == [
        "- plain line",
        "    - nested keeps its place",
        "* star",
        "1. numbered",
        "- from slack",
        "",
        "- -5% is text",
    ]
    assert list_items(typed, "•") == [
        "• plain line",
        "    • nested keeps its place",
        "• star",
        "1. numbered",
        "• from slack",
        "",
        "• -5% is text",
    ]


def test_dates_and_incident_counts_per_locale() -> None:
    day = datetime(2024, 1, 5, 8, 0, tzinfo=SHANGHAI).date()
    assert format_date(day, "zh-CN") == "2024年1月5日"
    assert format_date(day, "en") == "Jan 5, 2024"
    counts = (SeverityCount(("A", "B"), Decimal("1.0")), SeverityCount(("C",), Decimal("2.50")))
    assert incident_counts(counts, "zh-CN") == "事故数AB级1次，C级2.5次"
    assert incident_counts(counts, "en") == "Incidents: A/B 1, C 2.5"
