"""The incident question in the weekly prompt (issue 14), the same on the console, Slack and Feishu.

Thursday's prompt lists the week's logged incidents after each owner's items and asks what went unlogged;
`无` records "nothing to add", an incident line files it (the owner as reporter, the prompt as source),
anything else is kept and asked about; `/zhoubao missing` names who has not answered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.domain.weeks import IsoWeek
from tests.behaviour.conftest import at
from tests.behaviour.driver import Driver, Stored

WEEK = IsoWeek.parse("2024-W26")
NONE_STORED = "✅ 已记录：本周没有要补充的生产事件。"
UNCLEAR = ("❓ 这条回复是“没有要补充的事件”，还是一起事件？原文已保存，未登记事件。没有请回复「生产事件：无」；"
           "是事件请写明开始时间，如「生产事件：06/27 20:05 gateway-api 节点CPU打满 级别：C」，或使用 /incident。")


def _act(d: Driver, person: str, step: Callable[[], Any]) -> list[str]:
    """What `person` is told while acting `step`."""
    d.as_person(person)
    before = len(d.dms_to(person))
    step()
    return d.dms_to(person)[before:]


def _numbered(prompt: str) -> list[str]:
    return [line for line in prompt.split("\n") if line.startswith("[")]


def _week_with_one_logged_incident(d: Driver) -> None:
    d.advance_to(at(26, 15))
    _act(d, "liuyang", lambda: d.incident("06/26 14:30 招行代扣通道返回码异常 级别：C"))
    d.advance_to(at(27, 10))


def test_the_prompt_asks_the_incident_question_after_the_items(driver: Driver) -> None:
    _week_with_one_logged_incident(driver)
    assert _numbered(driver.dms_to("lina")[-1]) == ["[1] 聚合收单 · 业务", "[2] O1 业务服务 · 对公代付", "[3] 生产事件"]
    assert _numbered(driver.dms_to("zhoujie")[-1]) == ["[1] O3 平台治理 · 机房迁移", "[2] 生产事件"]
    shown = driver.bot.week_report.prompt("lina", WEEK)
    assert shown is not None and "    #1 06/26 14:30 招行代扣通道返回码异常" in shown.text.split("\n")


def test_nothing_to_add_an_incident_line_and_anything_else(driver: Driver) -> None:
    _week_with_one_logged_incident(driver)
    d = driver
    assert _act(d, "lina", lambda: d.say("[3] 无")) == [NONE_STORED]
    assert _act(d, "zhoujie", lambda: d.say("[2] 06/27 20:05 gateway-api 节点CPU打满 原因：新接口缺少分页 级别：C")) == [
        "🚨 已记录事件 #2 06/27 20:05 [C] gateway-api节点CPU打满\n原因：新接口缺少分页\n"
        "（由你的周报回复登记；可用 /incident edit 2 … 修改。）"]
    assert _act(d, "zhaolei", lambda: d.say("[3] 周二好像有点慢")) == [UNCLEAR]
    assert _act(d, "chenjing", lambda: d.say("生产事件：没有")) == [NONE_STORED]
    stored = Stored.of(d.bot, WEEK)
    assert [i[:4] for i in stored.incidents] == [
        (1, at(26, 14, 30), "", "招行代扣通道返回码异常"), (2, at(27, 20, 5), "gateway-api", "节点CPU打满")]
    assert ("zhaolei", "message", "周二好像有点慢", False, (("create", "周二好像有点慢"),)) in stored.messages
    assert stored.entries == {}, "no answer to the question lands in an item"

    # /zhoubao missing names who has not answered the question, apart from the items (never as 未更新).
    missing = _act(d, "zhangwei", lambda: d.zhoubao("missing"))[0].split("\n")
    team = d.bot.ctx.team
    waiting = [team.person_by_id[p].name for p in team.owners() if p not in ("lina", "zhoujie", "chenjing")]
    assert missing[-1] == f"🚨 尚未回答生产事件问题（{len(waiting)} 人）：{'、'.join(waiting)}"
    assert not any("生产事件" in line for line in missing[:-1])

    # Friday: the incident answered in the prompt is in the published report and its counts.
    d.advance_to(at(28, 17))
    report = Stored.of(d.bot, WEEK).report
    assert report is not None
    assert "06/27 20:05 gateway-api节点CPU打满，原因：新接口缺少分页" in report or \
        "06/27 20:05 gateway-api节点CPU打满" in report.split("## 【生产事件】")[1]
    assert "C级2次" in report
    assert "生产事件：未更新" not in report and "未更新" not in report.split("## 【生产事件】")[1].split("##")[0]


def test_an_answer_in_the_prompts_thread(driver: Driver) -> None:
    driver.advance_to(at(27, 10))
    assert _act(driver, "chenjing", lambda: driver.reply_in_thread("生产事件：无")) == [NONE_STORED]
    told = _act(driver, "chenjing", lambda: driver.reply_in_thread("本周完成差距分析，整体进度 45%"))
    assert len(told) == 1 and told[0].startswith("✅ 已记录：PCI DSS 认证"), "the thread still answers the one item"


def test_an_unreadable_incident_line_is_kept_and_nothing_is_filed(driver: Driver) -> None:
    driver.advance_to(at(27, 10))
    told = _act(driver, "lina", lambda: driver.say("[3] 06/27 20:05 网关超时 级别：Z"))
    assert told == ["没有级别“Z”；可用的级别：A, B, C, D。\n" + UNCLEAR]
    assert Stored.of(driver.bot, WEEK).incidents == ()
    assert [m[2] for m in Stored.of(driver.bot, WEEK).messages] == ["06/27 20:05 网关超时 级别：Z"]


def test_an_incident_line_answering_the_question_takes_an_attribution(driver: Driver) -> None:
    _week_with_one_logged_incident(driver)
    d = driver
    assert _act(d, "zhoujie", lambda: d.say("[2] 06/27 20:05 gateway-api 节点CPU打满 级别：C 归因：自身")) == [
        "🚨 已记录事件 #2 06/27 20:05 [C] gateway-api节点CPU打满\n归因：自身\n"
        "（由你的周报回复登记；可用 /incident edit 2 … 修改。）"]
    assert Stored.of(d.bot, WEEK).incidents[1][-2:] == ("own", "")
    # an attribution nobody configured is said, and no incident is filed
    told = _act(d, "lina", lambda: d.say("[3] 06/27 21:00 order-api 超时 归因：隔壁组"))
    assert told[0].startswith("没有归因“隔壁组”；可用的归因：自身, 银行, 第三方, 基础设施")
    assert len(Stored.of(d.bot, WEEK).incidents) == 2
