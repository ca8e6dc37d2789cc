from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.replies import (
    MAX_REPLY_CHARS,
    Piece,
    Routing,
    bank_stage,
    is_too_long,
    normalize_text,
    parse_entry,
    parse_metric_value,
    route_reply,
)
from bot.domain.team import Item, Team

TEAM = Team.model_validate({
    "team": {"name": "支付研发部"},
    "people": [
        {"id": "lead", "name": "老王"},
        {"id": "biz", "name": "小李"},
        {"id": "bank", "name": "小张"},
        {"id": "pci", "name": "小陈"},
        {"id": "okr", "name": "小赵"},
        {"id": "ops", "name": "小周"},
    ],
    "editors": ["lead"],
    "projects": [
        {"name": "聚合收单", "parts": [
            {"name": "业务", "owner": "biz"},
            {"name": "银行", "owner": "bank", "banks": [
                {"name": "建行", "aliases": ["CCB", "建设银行"]},
                {"name": "招行"},
                {"name": "中行"},
                {"name": "其他银行"},
            ]},
            {"name": "产研", "owner": "biz"},
        ]},
        {"name": "PCI DSS 认证", "owner": "pci"},
    ],
    "okrs": [
        {"id": "O1", "name": "业务服务", "items": [
            {"name": "跨境收款", "owner": "okr"},
            {"name": "资金安全", "owner": "okr"},
            {"name": "对公代付", "owner": "okr"},
        ]},
        {"id": "O2", "name": "能力升级", "items": [{"name": "交易路由", "owner": "biz"}]},
    ],
    "metrics": [{"name": "支付成功率", "metrics": [
        {"name": "入金有效成功率", "owner": "ops", "unit": "%"},
        {"name": "出金有效成功率", "owner": "ops", "unit": "%"},
    ]}],
})
ITEMS = TEAM.items
KEY = {it.name: it.key for it in ITEMS}


def item(name: str) -> Item:
    return next(it for it in ITEMS if it.name == name)


def route(raw: str, who: str, target: str | None = None) -> Routing:
    return route_reply(raw, TEAM.items_of(who), target=item(target) if target else None, team_items=ITEMS)


# ----- normalize_text -------------------------------------------------------------------


def test_normalize_cleans_without_losing_structure() -> None:
    raw = "\r\n\n  \n商户入网\t平稳。  \r\n    - 存量迁移\x00\x07\x9b\r\n\r\n    - 分批开户 😀\n\n\n"
    assert normalize_text(raw) == "商户入网    平稳。\n    - 存量迁移\n\n    - 分批开户 😀"


def test_normalize_dedents_only_a_shared_indent() -> None:
    assert normalize_text("    a\n      b\n\n    c") == "a\n  b\n\nc"
    assert normalize_text("a\n    b") == "a\n    b"


def test_markup_is_plain_data() -> None:
    raw = "{{ 7*7 }} <script>alert(1)</script> <!channel> @all"
    assert normalize_text(raw) == raw


def test_too_long_is_reported_not_truncated() -> None:
    long = "字" * (MAX_REPLY_CHARS + 1)
    assert is_too_long(long) and not is_too_long(long[:-1])
    assert parse_entry(long).text == long


# ----- parse_entry ----------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "progress"), [
    ("本周完成差距分析与整改清单，已提交审核方，整体进度 45%", Decimal("45")),
    ("机房迁移整体进度达到了80%，预计下周三完成生产验证", Decimal("80")),
    ("系统开发进度70%，主要依赖：银行专线开通", Decimal("70")),
    ("progress: 62.5% overall", Decimal("62.5")),
    ("Progress 60%", Decimal("60")),
    ("覆盖 30% 商户，进度 60%", Decimal("60")),
    ("进度 20%，一周后进度 60%", Decimal("60")),
    ("完成 85%", Decimal("85")),
    ("完成 45 ％", Decimal("45")),
    ("完成８５％", Decimal("85")),
    ("30% 商户切量，目标 50%", None),
    ("进度 150%", None),
    ("一期已上线", None),
    ("v2.0已于6月26日全量上线", None),
])
def test_progress(raw: str, progress: Decimal | None) -> None:
    assert parse_entry(raw).progress == progress


def test_main_problem_is_read_and_kept_in_text() -> None:
    raw = "本周完成差距分析，整体进度 45%\n主要问题：密钥轮换流程的留痕方案未定 \n风险：另一个"
    parsed = parse_entry(raw)
    assert parsed.main_problem == "密钥轮换流程的留痕方案未定"
    assert parsed.text == normalize_text(raw)


@pytest.mark.parametrize(("raw", "problem"), [
    ("done\nmain problem: key rotation", "key rotation"),
    ("RISK: vendor delay", "vendor delay"),
    ("风险: 专线未开通", "专线未开通"),
    ("主要问题：\n无", None),
    ("HighRisk: not a label", None),
    ("主要依赖：银行专线开通", None),
])
def test_main_problem_labels(raw: str, problem: str | None) -> None:
    assert parse_entry(raw).main_problem == problem


# ----- metrics and banks -------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    ("99.993", ("99.993", Decimal("99.993"))),
    ("99.993%", ("99.993", Decimal("99.993"))),
    ("：99.98 %", ("99.98", Decimal("99.98"))),
    ("99.990%", ("99.990", Decimal("99.990"))),
    ("本周 99.981%，与上周持平（99.981%）", ("99.981", Decimal("99.981"))),
    ("1,234 笔", ("1,234", Decimal("1234"))),
    ("P99延迟 120", ("120", Decimal("120"))),
    ("没有数据", None),
    ("99.98% 比上周 99.97% 略高", None),
])
def test_metric_value(raw: str, expected: tuple[str, Decimal] | None) -> None:
    assert parse_metric_value(raw, "%") == expected


def test_metric_unit_cannot_contribute_a_number() -> None:
    assert parse_metric_value("85 TP99", "TP99") == ("85", Decimal("85"))


@pytest.mark.parametrize(("note", "stage"), [
    ("接口文档已获取，联调环境申请中。", "联调"),
    ("跨行代扣方案评审通过，下周启动开发。", "开发"),
    ("收款入账方式待确认。", None),
    ("7月完成P0银行意向确认。", "意向"),
    ("已投产", "上线"),
    ("Integration testing started", "联调"),
])
def test_bank_stage(note: str, stage: str | None) -> None:
    assert bank_stage(note) == stage


# ----- routing ---------------------------------------------------------------------------

BANK_REPLY = """\
- 建行：接口文档已获取，联调环境申请中。
- 招行：跨行代扣方案评审通过，下周启动开发。
    细节：等待专线
- 中行：收款入账方式待确认。
- 农行：刚开始接触
- 其他银行：7月完成P0银行意向确认。
整体节奏正常。"""


def test_bank_part_owner_lines_go_to_banks() -> None:
    r = route(BANK_REPLY, "bank", target="银行")
    assert r.pieces == (
        Piece(item("建行").key, "接口文档已获取，联调环境申请中。"),
        Piece(item("招行").key, "跨行代扣方案评审通过，下周启动开发。\n    细节：等待专线"),
        Piece(item("中行").key, "收款入账方式待确认。"),
        Piece(KEY["银行"], "- 农行：刚开始接触"),
        Piece(item("其他银行").key, "7月完成P0银行意向确认。"),
        Piece(KEY["银行"], "整体节奏正常。"),
    )
    assert r.unknown_banks == ("农行",)
    assert r.unassigned == ""


def test_bank_owner_without_target_is_treated_as_the_part() -> None:
    assert route(BANK_REPLY, "bank") == route(BANK_REPLY, "bank", target="银行")


def test_bank_thread_reply_strips_its_own_name() -> None:
    r = route("CCB: 联调环境申请中\n下周开始联调", "bank", target="建行")
    assert r.pieces == (Piece(item("建行").key, "联调环境申请中\n下周开始联调"),)


def test_part_target_keeps_everything_as_text() -> None:
    raw = ("商户入网新流程在上海、杭州切量，交易运行平稳。遗留问题：\n"
           "    - 存量商户资料迁移时触发银行侧单日开户上限，已协调扩容。\n"
           "分账项目：预计7月3日进入联调。")
    r = route(raw, "biz", target="业务")
    assert r.pieces == (Piece(KEY["业务"], raw),)


def test_named_lines_split_into_items() -> None:
    raw = ("1. 跨境收款：一期已上线，二期多币种结算方案设计中\n"
           "资金安全：\n    风控规则二期方案有变\n    待最新方案\n\n"
           "- 对公代付：系统开发进度70%\n"
           "交易路由：智能路由一期上线完成\n"
           "跨境收款：补充一句")
    r = route(raw, "okr")
    assert r.pieces == (
        Piece(KEY["跨境收款"], "一期已上线，二期多币种结算方案设计中"),
        Piece(KEY["资金安全"], "风控规则二期方案有变\n待最新方案"),
        Piece(KEY["对公代付"], "系统开发进度70%"),
        Piece(KEY["跨境收款"], "补充一句"),
    )
    assert r.not_owned == ("交易路由",)
    assert r.unassigned == "交易路由：智能路由一期上线完成"


def test_blocks_through_a_part_with_banks() -> None:
    raw = "银行：\n前言\n- 建行：联调中\n- 浦发银行：意向\n入金有效成功率：99.99%"
    r = route(raw, "bank")
    assert r.pieces == (Piece(KEY["银行"], "前言"), Piece(item("建行").key, "联调中"),
                        Piece(KEY["银行"], "- 浦发银行：意向"))
    assert r.unknown_banks == ("浦发银行",)
    assert r.not_owned == ("入金有效成功率",)


def test_single_item_owner_gets_everything() -> None:
    raw = "本周完成差距分析与整改清单\n主要问题：密钥轮换"
    assert route(raw, "pci") == Routing((Piece(KEY["PCI DSS 认证"], raw),))


def test_metrics_owner() -> None:
    r = route("入金有效成功率：99.993%\n出金有效成功率：99.981%", "ops")
    assert [(p.item_key, p.text) for p in r.pieces] == [
        (KEY["入金有效成功率"], "99.993%"), (KEY["出金有效成功率"], "99.981%")]


def test_unnamed_text_for_several_items_is_unassigned() -> None:
    assert route("一期已上线", "okr") == Routing((), unassigned="一期已上线")


def test_first_line_of_someone_elses_item() -> None:
    r = route("交易路由：上线完成\n更多", "okr")
    assert r == Routing((), not_owned=("交易路由",), unassigned="交易路由：上线完成\n更多")


def test_empty_reply() -> None:
    assert route(" \n\t\r\n", "okr") == Routing(())


# ----- nothing is ever lost ------------------------------------------------------------------

_NAMES = ["业务", "银行", "产研", "建行", "CCB", "招行", "农行", "跨境收款", "交易路由", "入金有效成功率", "分账项目"]
_LINE = st.one_of(
    st.builds(lambda bullet, name, colon, rest: f"{bullet}{name}{colon}{rest}",
              st.sampled_from(["", "- ", "* ", "1. ", "  ", "    - "]), st.sampled_from(_NAMES),
              st.sampled_from(["：", ":", " ："]), st.text(max_size=12)),
    st.text(max_size=20),
)
_WHO = st.sampled_from(["lead", "biz", "bank", "pci", "okr", "ops", "nobody"])
_TARGET = st.one_of(st.none(), st.sampled_from(ITEMS))


def _covered(line: str, output_lines: set[str]) -> bool:
    if line.strip() in output_lines:
        return True
    head, _, rest = line.partition("：") if "：" in line.split(":")[0] else line.partition(":")
    return bool(head) and (not rest.strip() or rest.strip() in output_lines)


@settings(max_examples=400, deadline=None)
@given(st.lists(_LINE, max_size=12), _WHO, _TARGET)
def test_route_never_loses_a_line(lines: list[str], who: str, target: Item | None) -> None:
    raw = "\n".join(lines)
    r = route_reply(raw, TEAM.items_of(who), target=target, team_items=ITEMS)
    output = "\n".join([p.text for p in r.pieces] + [r.unassigned])
    output_lines = {line.strip() for line in output.split("\n")}
    for line in normalize_text(raw).split("\n"):
        if line.strip():
            assert _covered(line, output_lines), (line, r)
    assert all(p.text and p.text == normalize_text(p.text) for p in r.pieces)


@given(st.text())
def test_normalize_is_idempotent(raw: str) -> None:
    once = normalize_text(raw)
    assert normalize_text(once) == once
    assert "\r" not in once and "\t" not in once and "\x00" not in once


@given(st.text(), st.sampled_from(["", "%", "ms"]))
def test_parsers_accept_any_text(raw: str, unit: str) -> None:
    entry = parse_entry(raw)
    assert entry.text == normalize_text(raw)  # nothing dropped, nothing added
    assert entry.progress is None or 0 <= entry.progress <= 100
    assert entry.main_problem is None or (entry.main_problem == entry.main_problem.strip() != ""
                                          and entry.main_problem in entry.text)
    metric = parse_metric_value(raw, unit)
    if metric is not None:
        written, value = metric
        assert Decimal(written.replace(",", "")) == value
        assert written in normalize_text(raw).translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    assert bank_stage(raw) in (None, "上线", "联调", "开发", "方案", "意向")


def test_item_prefix_picks_an_item_by_number_on_every_platform() -> None:
    from bot.domain.replies import item_prefix

    assert item_prefix("[2] 本周完成") == (2, "本周完成")
    assert item_prefix("【3】\n- 多行") == (3, "- 多行")
    assert item_prefix("  [12]x") == (12, "x")
    assert item_prefix("[a] 不是编号") == (None, "[a] 不是编号")
    assert item_prefix("进度 [2] 在中间") == (None, "进度 [2] 在中间")


def test_english_bank_names_under_a_bank_part_are_flagged_and_status_labels_are_not() -> None:
    text = "Barclays: kick-off held\nStandard Chartered: NDA signed\nNext steps: sign the contract\nETA: July"
    r = route(text, "bank", target="银行")
    assert r.unknown_banks == ("Barclays", "Standard Chartered")
    assert r.pieces == (Piece(KEY["银行"], text),)
