"""The answer form and the incident form: the same stored rows and the same replies on every platform.

The drivers take the fields of the core's `AnswerForm` (item key, text, progress, main problem) and
`IncidentForm` (start, system, what, cause, impact, recovered, severity, weight) and fill each platform's
widgets with them: the Slack modals, the Feishu card forms, the console's `form answers` / `form incident`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from bot.domain.weeks import IsoWeek
from bot.text.catalogue import say
from tests.behaviour.conftest import SHANGHAI, at
from tests.behaviour.driver import Driver, Stored
from tests.behaviour.test_week import act

WEEK = IsoWeek.parse("2024-W26")
BUSINESS = "project:聚合收单/业务"
# A form submits every item it shows (a view_submission carries every input block's state,
# https://api.slack.com/reference/interaction-payloads/views; a Feishu form container calls back with all of
# its fields), and Forms.submit_answers keeps the items left empty in the stored message; the console's
# `form answers` submits only the items typed.


def test_the_answer_form_stores_the_text_of_one_item(driver: Driver) -> None:
    driver.advance_to(at(27, 10))
    assert act(driver, "lina", lambda: driver.submit_answer_form(item=BUSINESS, text="商户入网切量完成")) == [
        "✅ 已记录：聚合收单 · 业务"]
    stored = Stored.of(driver.bot, WEEK)
    assert stored.entries == {BUSINESS: ("商户入网切量完成", None, None)}


def test_the_answer_form_is_stored_as_filled(driver: Driver) -> None:
    driver.advance_to(at(27, 10))
    act(driver, "lina", lambda: driver.submit_answer_form(item=BUSINESS, text="商户入网切量完成"))
    assert Stored.of(driver.bot, WEEK).messages == (
        ("lina", "form", "聚合收单 · 业务:\n商户入网切量完成", False, (("create", "聚合收单 · 业务:\n商户入网切量完成"),)),)


def test_the_answer_form_stores_progress_and_main_problem(driver: Driver) -> None:
    driver.advance_to(at(27, 10))
    assert act(driver, "lina", lambda: driver.submit_answer_form(
        item=BUSINESS, text="商户入网切量完成", progress="60", main_problem="银行开户上限")) == [
        "✅ 已记录：聚合收单 · 业务"]
    assert Stored.of(driver.bot, WEEK).entries[BUSINESS] == (
        "商户入网切量完成\n进度：60%\n主要问题：银行开户上限", 60, "银行开户上限")


def _shanghai(day: int, hour: int, minute: int) -> datetime:
    return datetime(2024, 6, day, hour, minute, tzinfo=SHANGHAI)


def test_the_incident_form_files_every_field(driver: Driver) -> None:
    driver.advance_to(at(28, 9))
    assert act(driver, "chenjing", lambda: driver.submit_incident_form(
        start="06/27 22:00", system="pci-vault", what="证书过期", cause="续期提醒失效", impact="部分绑卡失败",
        recovered="22:40", severity="D", weight="0.5")) == [
        "🚨 已记录事件 #1 06/27 22:00 → 22:40 [D ×0.5] pci-vault证书过期\n原因：续期提醒失效\n影响：部分绑卡失败"]
    assert Stored.of(driver.bot, WEEK).incidents == (
        (1, _shanghai(27, 22, 0), "pci-vault", "证书过期", "续期提醒失效", "部分绑卡失败", _shanghai(27, 22, 40),
         "D", Decimal("0.5"), True, "", ""),)
    assert driver.channel_posts() == [
        "🚨 已记录事件 #1 06/27 22:00 → 22:40 [D ×0.5] pci-vault证书过期\n原因：续期提醒失效\n影响：部分绑卡失败"]


def test_the_incident_form_keeps_what_happened_as_typed(driver: Driver) -> None:
    driver.advance_to(at(28, 9))
    assert act(driver, "chenjing", lambda: driver.submit_incident_form(
        start="06/27 22:00", what="pci-vault 证书过期", cause="续期提醒失效", severity="D")) == [
        "🚨 已记录事件 #1 06/27 22:00 [D] pci-vault 证书过期\n原因：续期提醒失效"]
    assert Stored.of(driver.bot, WEEK).incidents == (
        (1, _shanghai(27, 22, 0), "", "pci-vault 证书过期", "续期提醒失效", "", None, "D", Decimal("1"), True, "", ""),)


def test_a_bad_start_time_in_the_incident_form_is_refused_and_nothing_is_filed(driver: Driver) -> None:
    driver.advance_to(at(28, 9))
    assert act(driver, "chenjing", lambda: driver.submit_incident_form(
        start="昨天上午", what="节点OOM", severity="C")) == [say("zh-CN", "incident.bad_start", value="昨天上午")]
    assert Stored.of(driver.bot, WEEK).incidents == ()
    assert driver.channel_posts() == []


def test_the_incident_form_takes_an_attribution_and_refuses_an_unknown_one(driver: Driver) -> None:
    driver.advance_to(at(28, 9))
    assert act(driver, "wangqiang", lambda: driver.submit_incident_form(
        start="06/26 14:30", what="代扣通道返回码异常", recovered="15:10", attribution="招商银行")) == [
        "🚨 已记录事件 #1 06/26 14:30 → 15:10 代扣通道返回码异常\n归因：银行 招行"]
    assert Stored.of(driver.bot, WEEK).incidents[0][-2:] == ("bank", "招行")
    assert act(driver, "wangqiang", lambda: driver.submit_incident_form(
        start="06/27 10:00", what="短信延迟", attribution="隔壁组")) == [
        say("zh-CN", "incident.syntax.cause_class", value="隔壁组", known="自身, 银行, 第三方, 基础设施")]
    assert len(Stored.of(driver.bot, WEEK).incidents) == 1
