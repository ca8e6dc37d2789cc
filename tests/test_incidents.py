from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.incidents import (
    IncidentCommand,
    IncidentDraft,
    IncidentSyntaxError,
    format_headline,
    parse_command,
    parse_incident,
)
from bot.text.catalogue import say
from bot.text.render import incident_line

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2024, 6, 28, 17, 0, 30, tzinfo=TZ)
SEVERITIES = ["A", "B", "C", "D"]


def at(month: int, day: int, hour: int, minute: int, year: int = 2024) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


def parse(text: str) -> IncidentDraft:
    return parse_incident(text, now=NOW, severities=SEVERITIES)


def command(text: str) -> IncidentCommand:
    return parse_command(text, now=NOW, severities=SEVERITIES)


def problem(exc: IncidentSyntaxError, locale: str = "zh-CN") -> str:
    """What the incident desk tells the person about a syntax error (before the usage)."""
    return say(locale, f"incident.syntax.{exc.key}", **exc.values)


def line(d: IncidentDraft, locale: str = "zh-CN") -> str:
    return incident_line(d.started_at, format_headline(d.system, d.what), d.impact, d.cause, d.recovered_at, locale)


# ----- the report's three lines ------------------------------------------------------------


def test_report_line_with_cause_after_a_full_stop() -> None:
    d = parse("06/24 09:12 清结算批量任务超时，有重试，对业务无实际影响。原因：对账文件体积较上周翻倍 级别：D")
    assert d.what == "清结算批量任务超时，有重试，对业务无实际影响。" and d.impact == ""
    assert line(d) == "06/24 09:12 清结算批量任务超时，有重试，对业务无实际影响。原因：对账文件体积较上周翻倍"


def test_report_line_with_recovery_in_the_text() -> None:
    d = parse("06/26 14:30 招行代扣通道返回码异常，部分代扣失败，经银行修复后 15:10 恢复。")
    assert d.recovered_at == at(6, 26, 15, 10)
    assert line(d) == "06/26 14:30 招行代扣通道返回码异常，部分代扣失败，经银行修复后 15:10 恢复。"


def test_report_line_with_system() -> None:
    d = parse("/incident 06/27 20:05 gateway-api 节点CPU打满 原因：新接口缺少分页，一次拉取全部历史订单 级别：C")
    assert (d.started_at, d.system, d.what, d.severity) == (at(6, 27, 20, 5), "gateway-api", "节点CPU打满", "C")
    assert line(d) == "06/27 20:05 gateway-api节点CPU打满，原因：新接口缺少分页，一次拉取全部历史订单"


# ----- the grammar -----------------------------------------------------------------------------


def test_full_example() -> None:
    d = parse("/incident 06/21 10:04 order-api 节点OOM 原因：内存泄漏 影响：部分下单失败 恢复：17:00 级别：c 权重：0.5")
    assert d == IncidentDraft(started_at=at(6, 21, 10, 4), what="节点OOM", system="order-api", cause="内存泄漏",
                              impact="部分下单失败", recovered_at=at(6, 21, 17, 0), severity="C", weight=Decimal("0.5"))
    assert line(d) == "06/21 10:04 order-api节点OOM，影响：部分下单失败，原因：内存泄漏，17:00 恢复"


def test_english_labels() -> None:
    d = parse("2024-06-27 23:30 order-api node OOM Cause: memory leak IMPACT: some orders failed "
              "recovered: 06/28 01:15 Severity: b weight: 1.25 availability: no")
    assert (d.system, d.what, d.cause, d.impact) == ("order-api", "node OOM", "memory leak", "some orders failed")
    assert (d.recovered_at, d.severity, d.weight) == (at(6, 28, 1, 15), "B", Decimal("1.25"))
    assert d.counts_toward_availability is False
    assert line(d, "en") == ("06/27 23:30 order-api node OOM, Impact: some orders failed, Cause: memory leak, "
                             "recovered 06/28 01:15")


@pytest.mark.parametrize(("text", "started"), [
    ("06/21 10:04 x", at(6, 21, 10, 4)),
    ("6/21 9:05 x", at(6, 21, 9, 5)),
    ("2024-06-21 10:04 x", at(6, 21, 10, 4)),
    ("2024/06/21 10:04 x", at(6, 21, 10, 4)),
    ("06/21 x", at(6, 21, 17, 0)),
    ("10:04 x", at(6, 28, 10, 4)),
    ("23:50 x", at(6, 27, 23, 50)),  # later than now today: it was yesterday
    ("6月21日 10:04 x", at(6, 21, 10, 4)),
    ("x", at(6, 28, 17, 0)),
    ("2023-12-30 10:00 x", at(12, 30, 10, 0, year=2023)),  # an old date says its year (12/30 is asked about)
    ("05/29 18:00 x", at(5, 29, 18, 0)),  # within the last 30 days
    ("06/29 10:00 x", at(6, 29, 10, 0)),
])
def test_start_time(text: str, started: datetime) -> None:
    assert parse(text).started_at == started


@pytest.mark.parametrize(("text", "system", "what"), [
    ("gateway-api 节点CPU打满", "gateway-api", "节点CPU打满"),
    ("gateway-api节点CPU打满", "gateway-api", "节点CPU打满"),
    ("redis 连接池耗尽", "redis", "连接池耗尽"),
    ("order-api node OOM", "order-api", "node OOM"),
    ("Database failover took 5 minutes", "", "Database failover took 5 minutes"),
    ("清结算批量任务超时", "", "清结算批量任务超时"),
    ("gateway-api", "", "gateway-api"),
    ("节点打满 系统：gateway-api", "gateway-api", "节点打满"),
])
def test_system(text: str, system: str, what: str) -> None:
    d = parse(text)
    assert (d.system, d.what) == (system, what)


def test_label_needs_a_clause_start() -> None:
    d = parse("渠道抖动，对业务的影响：无 原因：网络")
    assert d.what == "渠道抖动，对业务的影响：无" and d.cause == "网络"


def test_a_bare_recovery_time_before_the_start_is_asked_about_not_read_as_the_next_day() -> None:
    with pytest.raises(IncidentSyntaxError) as caught:
        parse("06/27 23:00 x 恢复：01:00")
    assert caught.value.key == "confirm_overnight" and caught.value.values["next_day"] == "06/28 01:00"
    assert parse("06/27 23:00 x 恢复：06/28 02:00").recovered_at == at(6, 28, 2, 0)


@pytest.mark.parametrize(("text", "expected"), [
    ("", "描述"),
    ("06/21 10:04", "描述"),
    ("06/21 10:04 原因：内存泄漏", "描述"),
    ("13/40 10:00 x", "13/40"),
    ("06/21 25:00 x", "25:00"),
    ("x 级别：Z", "A, B, C, D"),
    ("x 权重：0", "0"),
    ("x 权重：0.555", "0.555"),
    ("x 权重：11", "11"),
    ("x 原因：", "原因"),
    ("x 原因：a 原因：b", "两次"),
    ("x 恢复：明天", "明天"),
    ("x 恢复：06/27", "06/27"),
    ("06/27 10:00 x 恢复：2024-06-26 10:00", "早于"),
    ("x 可用性：也许", "也许"),
    ("2025-01-01 10:00 x", "未来"),
])
def test_malformed(text: str, expected: str) -> None:
    with pytest.raises(IncidentSyntaxError) as exc:
        parse(text)
    assert expected in problem(exc.value)


def test_errors_are_worded_by_the_catalogue_in_each_locale() -> None:
    with pytest.raises(IncidentSyntaxError) as exc:
        parse("x severity: Z")
    assert (exc.value.key, exc.value.values) == ("severity", {"value": "Z", "known": "A, B, C, D"})
    assert problem(exc.value, "en") == "There is no severity 'Z'; the severities are: A, B, C, D."
    assert problem(exc.value, "zh-CN") == "没有级别“Z”；可用的级别：A, B, C, D。"


# ----- commands -------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("", IncidentCommand("help")),
    ("/incident help", IncidentCommand("help")),
    ("帮助", IncidentCommand("help")),
    ("list", IncidentCommand("list")),
    ("/incident 列表", IncidentCommand("list")),
    ("delete 3", IncidentCommand("delete", number=3)),
    ("删除 #12", IncidentCommand("delete", number=12)),
    ("resolve 3", IncidentCommand("resolve", number=3)),
    ("恢复 #3 16:30", IncidentCommand("resolve", number=3, at=at(6, 28, 16, 30))),
    ("resolve 3 06/27 23:00", IncidentCommand("resolve", number=3, at=at(6, 27, 23, 0))),
    ("edit 3 cause: memory leak level: d", IncidentCommand("edit", number=3, changes={"cause": "memory leak", "severity": "D"})),
    ("修改 #3 内容：新的描述 权重：0.5 可用性：否",
     IncidentCommand("edit", number=3, changes={"what": "新的描述", "weight": Decimal("0.5"),
                                                "counts_toward_availability": False})),
    ("修改 3 开始：06/27 20:00 恢复：21:00",
     IncidentCommand("edit", number=3, changes={"started_at": at(6, 27, 20, 0), "recovered_at": at(6, 27, 21, 0)})),
])
def test_commands(text: str, expected: IncidentCommand) -> None:
    assert command(text) == expected


@pytest.mark.parametrize("text", ["删除 2 个索引导致查询变慢", "恢复 3 个节点失败", "修改 3 个配置导致超时"])
def test_chinese_command_words_can_start_a_description(text: str) -> None:
    cmd = command(text)
    assert cmd.action == "add" and cmd.draft is not None and cmd.draft.what == text


def test_add() -> None:
    cmd = command("/incident 06/27 20:05 gateway-api 节点CPU打满")
    assert cmd.action == "add" and cmd.draft == parse("06/27 20:05 gateway-api 节点CPU打满")


@pytest.mark.parametrize(("text", "expected"), [
    ("edit 3", "字段"),
    ("edit 3 foo", "内容"),
    ("delete", "编号"),
    ("delete 3 now", "now"),
    ("resolve #3 soon", "soon"),
    ("resolve 3 06/27", "06/27"),
    ("edit 3 级别：Z", "级别"),
])
def test_malformed_commands(text: str, expected: str) -> None:
    with pytest.raises(IncidentSyntaxError) as exc:
        command(text)
    assert expected in problem(exc.value)


# ----- rendering helpers ---------------------------------------------------------------------


def test_headline() -> None:
    assert format_headline("", "节点打满") == "节点打满"
    assert format_headline("gateway-api", "节点打满") == "gateway-api节点打满"
    assert format_headline("gateway-api", "node OOM") == "gateway-api node OOM"


def test_line_does_not_repeat_a_recovery_time_already_written() -> None:
    assert incident_line(at(6, 26, 14, 30), "x 15:10 恢复", "", "", at(6, 26, 15, 10), "zh-CN") == \
        "06/26 14:30 x 15:10 恢复"
    assert incident_line(at(6, 26, 15, 10), "x", "", "", at(6, 27, 15, 10), "zh-CN") == \
        "06/26 15:10 x，06/27 15:10 恢复"


# ----- robustness ------------------------------------------------------------------------------

_FRAGMENTS = st.sampled_from(["06/21", "10:04", "2024-06-21", "13/40", "order-api", "节点OOM", "原因：", "影响:",
                              "恢复：", "17:00", "级别：", "c", "权重：", "0.5", "可用性：", "否", "cause:",
                              "edit", "删除", "#3", "3", " ", "。", "恢复", "9999/12/31", "23:59", "内容："])


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(), st.lists(_FRAGMENTS, max_size=10).map(" ".join)))
def test_only_syntax_errors_escape(text: str) -> None:
    # Any text is either refused with IncidentSyntaxError (which carries the usage) or read into a
    # complete value; any other exception fails the test.
    try:
        draft = parse_incident(text, now=NOW, severities=SEVERITIES)
    except IncidentSyntaxError as exc:
        assert str(exc)
    else:
        assert isinstance(draft, IncidentDraft) and draft.what.strip()
    try:
        command = parse_command(text, now=NOW, severities=SEVERITIES)
    except IncidentSyntaxError as exc:
        assert str(exc)
    else:
        assert command.action in ("add", "list", "edit", "resolve", "delete", "help")
        assert (command.draft is not None) == (command.action == "add")
        assert (command.number is not None) == (command.action in ("edit", "resolve", "delete"))


@given(st.lists(_FRAGMENTS, max_size=10).map(" ".join))
def test_a_parsed_incident_is_complete(text: str) -> None:
    try:
        d = parse(text)
    except IncidentSyntaxError:
        return
    assert d.what and d.started_at.tzinfo is TZ
    assert d.recovered_at is None or d.recovered_at >= d.started_at
    assert d.severity in (None, *SEVERITIES)
