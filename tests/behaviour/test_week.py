"""A week of 2024-W26, played the same way on the console, Slack and Feishu.

Each step pins what the acting person is told; at the end the stored rows and the report are checked,
and `test_the_week_is_the_same_everywhere` plays it on all three and compares everything observed.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.domain.weeks import IsoWeek
from bot.text.catalogue import say
from tests.behaviour.conftest import MONDAY, PLATFORMS, at
from tests.behaviour.driver import Driver, Stored, prompt_text

WEEK = IsoWeek.parse("2024-W26")
HEAD = "📝 2024-W26 周报：请更新你负责的内容，6月28日（周五）17:00 发布。"
REMIND = "⏰ 提醒：2024-W26 周报还差以下内容，6月28日（周五）17:00 发布。"
GATEWAY = "06/27 20:05 gateway-api 节点CPU打满 原因：新接口缺少分页 级别：C"
PCI = "project:PCI DSS 认证"
VAULT = "🚨 已记录事件 #2 06/26 22:00 → 22:40 [D ×0.5] pci-vault证书过期\n原因：续期提醒失效\n影响：部分绑卡失败"


def told(driver: Driver, person: str, step: Callable[[], Any]) -> list[str]:
    """What `person` is told while `step` runs."""
    before = len(driver.dms_to(person))
    step()
    return driver.dms_to(person)[before:]


def act(driver: Driver, person: str, step: Callable[[], Any]) -> list[str]:
    driver.as_person(person)
    return told(driver, person, step)


def play_week(d: Driver) -> None:
    """The week, step by step, with what each person hears pinned."""
    # Thursday 10:00: every owner gets one prompt listing their items, then the incident question (issue 14).
    assert told(d, "lina", lambda: d.advance_to(at(27, 10))) == [
        prompt_text(HEAD, ["[1] 聚合收单 · 业务", "[2] O1 业务服务 · 对公代付", "[3] 生产事件"])]
    assert d.dms_to("zhoujie") == [prompt_text(HEAD, ["[1] O3 平台治理 · 机房迁移", "[2] 生产事件"])]
    assert d.dms_to("zhangwei") == [
        prompt_text(HEAD, ["[1] 其他", "[2] 收获与反思", "[3] 下周工作及目标", "[4] 生产事件"])]
    # Answers in text: by item number, by item name, in the prompt's thread.
    assert act(d, "lina", lambda: d.say("[1] 商户入网新流程切量完成")) == ["✅ 已记录：聚合收单 · 业务"]
    assert act(d, "lina", lambda: d.say("对公代付：系统开发进度70%")) == [
        "✅ 已记录：O1 业务服务 · 对公代付（对公代付 进度 70%）"]
    assert act(d, "chenjing", lambda: d.reply_in_thread("本周完成差距分析，整体进度 45%")) == [
        "✅ 已记录：PCI DSS 认证（PCI DSS 认证 进度 45%）"]
    # The answer form replaces what was said about the item, with its progress and main problem.
    assert act(d, "chenjing", lambda: d.submit_answer_form(
        item=PCI, text="差距分析完成，整改清单已提交审核方", progress="50", main_problem="密钥轮换的留痕方案未定")) == [
        "✅ 已记录：PCI DSS 认证"]
    # A deletion takes back what the message stored.
    assert act(d, "zhaolei", lambda: d.say("资金安全：误发的一条")) == ["✅ 已记录：O1 业务服务 · 资金安全"]
    assert act(d, "zhaolei", d.delete_last) == ["🗑 已撤回：O1 业务服务 · 资金安全"]
    # An incident by text, announced in the channel; a bad one is refused with the reason and the usage.
    assert act(d, "liuyang", lambda: d.incident(GATEWAY)) == [
        "🚨 已记录事件 #1 06/27 20:05 [C] gateway-api节点CPU打满\n原因：新接口缺少分页"]
    bad = act(d, "liuyang", lambda: d.incident("06/27 午饭后 级别：Z"))
    assert len(bad) == 1 and bad[0].startswith("没有级别“Z”；可用的级别：A, B, C, D。\n\n用法：/incident ")
    # The incident form files every field as typed, announced the same way; a start it cannot read files
    # nothing and says so.
    assert act(d, "chenjing", lambda: d.submit_incident_form(
        start="06/26 22:00", system="pci-vault", what="证书过期", cause="续期提醒失效", impact="部分绑卡失败",
        recovered="22:40", severity="D", weight="0.5")) == [VAULT]
    assert act(d, "chenjing", lambda: d.submit_incident_form(start="昨天上午", what="节点OOM", severity="C")) == [
        say("zh-CN", "incident.bad_start", value="昨天上午")]
    # The incident question answered "nothing to add" by its number (issue 14).
    assert act(d, "chenjing", lambda: d.say("[2] 无")) == ["✅ 已记录：本周没有要补充的生产事件。"]
    # The editor asks who is missing: the items, then (apart from them) every owner who has not answered the
    # incident question; filing with /incident is not an answer to it.
    missing = act(d, "zhangwei", lambda: d.zhoubao("missing"))
    # One line per person with their open items counted, named when there are three or fewer (issue 21).
    assert missing == ["📋 2024-W26 尚未填写：6 人共 16 项\n"
                       "- 王强：4 项\n"
                       "- 刘洋（2 项）：聚合收单 · 产研、O2 能力升级 · 交易路由\n"
                       "- 赵磊（2 项）：O1 业务服务 · 跨境收款、O1 业务服务 · 资金安全\n"
                       "- 孙丽：4 项\n"
                       "- 周杰（1 项）：O3 平台治理 · 机房迁移\n"
                       "- 张伟（3 项）：其他、收获与反思、下周工作及目标\n"
                       "🚨 尚未回答生产事件问题（7 人）：张伟、李娜、王强、刘洋、赵磊、孙丽、周杰"]
    # Friday 10:00: a reminder to whoever still owes something: the items not yet answered, then the incident
    # question, numbered as on Thursday, to whoever has not answered it; the editor gets the missing list again.
    assert told(d, "zhoujie", lambda: d.advance_to(at(28, 10))) == [
        prompt_text(REMIND, ["[1] O3 平台治理 · 机房迁移", "[2] 生产事件"])]
    assert d.dms_to("lina")[-1] == prompt_text(REMIND, ["[3] 生产事件"]), "items all answered: only the question"
    # The editor's own items (其他, 收获与反思, 下周工作及目标) are never reminded of; the question is.
    assert d.dms_to("zhangwei")[-2:] == [prompt_text(REMIND, ["[4] 生产事件"]), missing[0]]
    assert d.dms_to("chenjing")[-1] == "✅ 已记录：本周没有要补充的生产事件。", "nothing owed: no reminder"
    # Friday 17:00: published once.
    d.advance_to(at(28, 17))
    # A late answer edits the posted report in place.
    d.advance_to(at(28, 18))
    assert act(d, "zhoujie", lambda: d.say("机房迁移：整体进度达到了80%")) == [
        "✅ 已记录：O3 平台治理 · 机房迁移（机房迁移 进度 80%）\n（报告已发布，稍后同步更新。）"]


def test_a_whole_week(driver: Driver) -> None:
    play_week(driver)
    stored = Stored.of(driver.bot, WEEK)
    assert stored.entries["project:聚合收单/业务"][0] == "商户入网新流程切量完成"
    assert stored.entries["okr:O1/对公代付"][:2] == ("系统开发进度70%", 70)
    assert stored.entries[PCI] == ("差距分析完成，整改清单已提交审核方\n进度：50%\n主要问题：密钥轮换的留痕方案未定", 50,
                                   "密钥轮换的留痕方案未定")
    assert ("chenjing", "form", "PCI DSS 认证:\n差距分析完成，整改清单已提交审核方\n进度：50%\n主要问题：密钥轮换的留痕方案未定",
            False, (("create", "PCI DSS 认证:\n差距分析完成，整改清单已提交审核方\n进度：50%\n主要问题：密钥轮换的留痕方案未定"),)
            ) in stored.messages
    assert stored.entries["okr:O3/机房迁移"][:2] == ("整体进度达到了80%", 80)
    assert "okr:O1/资金安全" not in stored.entries
    # The incident question's answer is kept as typed and recorded as "nothing to add", never as an item.
    assert ("chenjing", "message", "无", False, (("create", "无"),)) in stored.messages
    assert driver.bot.week_report.incident_answers(WEEK) == {"chenjing": "none"}
    # The deleted message stays in history, marked deleted; nothing typed is lost.
    assert ("zhaolei", "message", "资金安全：误发的一条", True,
            (("create", "资金安全：误发的一条"), ("delete", "资金安全：误发的一条"))) in stored.messages
    # The week's incidents, by start: the form's #2 (Wednesday), then #1.
    assert [(i[0], i[2], i[3], i[4], i[7]) for i in stored.incidents] == [
        (2, "pci-vault", "证书过期", "续期提醒失效", "D"), (1, "gateway-api", "节点CPU打满", "新接口缺少分页", "C")]
    assert stored.incidents[0][1] == at(26, 22) and stored.incidents[0][6] == at(26, 22, 40)
    assert stored.incidents[0][5] == "部分绑卡失败" and stored.incidents[0][8:10] == (Decimal("0.5"), True)
    # The report: stored once, as compiled from the database, with the late answer and the Friday time.
    report = driver.bot.ctx.renderer.markdown(driver.bot.week_report.compile(WEEK, at(28, 17)))
    assert stored.report == report
    assert report.startswith("# 2024-W26\n\nCreated: 2024年6月28日 17:00\n")
    for typed in ("商户入网新流程切量完成", "整体进度达到了80%", "06/27 20:05 gateway-api节点CPU打满", "pci-vault证书过期",
                  "密钥轮换的留痕方案未定"):
        assert typed in report
    # The channel: the two incident announcements, then one report post, edited in place by the late answer.
    posts = driver.channel_posts()
    assert len(posts) == 3 and "gateway-api节点CPU打满" in posts[0] and posts[1] == VAULT
    assert "2024-W26" in posts[2] and "整体进度达到了80%" in posts[2]


def _fresh(database: str, tmp_path: Path, name: str, request: pytest.FixtureRequest) -> str:
    from tests.conftest import empty_postgres, migrated_sqlite

    if database == "sqlite":
        return migrated_sqlite(tmp_path / f"{name}.db")
    return empty_postgres(request.getfixturevalue("postgres_url"))


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_week_is_the_same_everywhere(database: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Every person is told the same things in the same order, and the same rows and report are stored."""
    seen: dict[str, tuple[dict[str, list[str]], Stored]] = {}
    for name, make in PLATFORMS.items():
        d = make(_fresh(database, tmp_path, name, request), MONDAY)
        try:
            play_week(d)
            seen[name] = ({p.id: d.dms_to(p.id) for p in d.bot.ctx.team.people}, Stored.of(d.bot, WEEK))
        finally:
            d.close()
    console_told, console_stored = seen["console"]
    for name, (told_there, stored_there) in seen.items():
        assert told_there == console_told, name
        assert stored_there == console_stored, name


def test_an_edit_replaces_what_the_message_stored(driver: Driver) -> None:
    driver.advance_to(at(27, 10))
    assert act(driver, "zhoujie", lambda: driver.say("机房迁移：进度 40%")) == [
        "✅ 已记录：O3 平台治理 · 机房迁移（机房迁移 进度 40%）"]
    assert act(driver, "zhoujie", lambda: driver.edit_last("机房迁移：进度 45%，演练完成")) == [
        "✅ 已记录：O3 平台治理 · 机房迁移（机房迁移 进度 45%）"]
    stored = Stored.of(driver.bot, WEEK)
    assert stored.entries["okr:O3/机房迁移"][:2] == ("进度 45%，演练完成", 45)
    assert stored.messages == (("zhoujie", "message", "机房迁移：进度 45%，演练完成", False,
                                (("create", "机房迁移：进度 40%"), ("edit", "机房迁移：进度 45%，演练完成"))),)


def test_a_late_answer_edits_the_post_and_never_posts_twice(driver: Driver) -> None:
    driver.advance_to(at(28, 17))
    posts = driver.channel_posts()
    assert len(posts) == 1 and "2024-W26" in posts[0] and "整体进度达到了85%" not in posts[0]
    act(driver, "zhoujie", lambda: driver.say("机房迁移：整体进度达到了85%"))
    after = driver.channel_posts()
    assert len(after) == 1 and "整体进度达到了85%" in after[0]
    stored = Stored.of(driver.bot, WEEK)
    assert stored.report is not None and "1. 机房迁移：整体进度达到了85%" in stored.report
    assert "Created: 2024年6月28日 17:00" in stored.report
