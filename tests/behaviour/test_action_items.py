"""Postmortem action items (issue 23), the same on the console, Slack and Feishu: made with `/incident action`,
listed in the owner's next prompt, closed from the prompt's answer, and, past due, shown as overdue in the
report and named in the editors' Friday notice. Bad input is refused with a sentence and stores nothing."""

from __future__ import annotations

from bot.domain.weeks import IsoWeek
from bot.text.catalogue import say
from tests.behaviour.conftest import at
from tests.behaviour.driver import Driver, Stored, prompt_text
from tests.behaviour.test_week import HEAD, act
from tests.stored_rows import row_counts

WEEK = IsoWeek.parse("2024-W26")
USAGE = say("zh-CN", "incident.usage")


def _refused(key: str, **values: str) -> list[str]:
    return [f"{say('zh-CN', f'incident.syntax.{key}', **values)}\n\n{USAGE}"]


def test_action_items_from_command_to_prompt_to_report(driver: Driver) -> None:
    d = driver
    d.advance_to(at(26, 15))
    act(d, "liuyang", lambda: d.incident("06/26 14:30 gateway-api 节点CPU打满 级别：C 归因：自身"))
    assert act(d, "zhangwei", lambda: d.incident("action 1 补齐分页 负责人：刘洋 截止：6/27")) == [
        "✅ 已记录行动项 A1（#1）：补齐分页，负责人：刘洋，截止：06/27"]
    assert act(d, "zhangwei", lambda: d.incident("行动项 1 补齐接口监控 负责人：liuyang 截止：7/5")) == [
        "✅ 已记录行动项 A2（#1）：补齐接口监控，负责人：刘洋，截止：07/05"]

    # Thursday's prompt lists the owner's open action items after the incident question.
    d.advance_to(at(27, 10))
    assert d.dms_to("liuyang")[-1] == prompt_text(HEAD, [
        "[1] 聚合收单 · 产研", "[2] O2 能力升级 · 交易路由", "[3] 生产事件",
        "[4] 行动项 A1：补齐分页（#1，截止 06/27）", "[5] 行动项 A2：补齐接口监控（#1，截止 07/05）"])
    # Somebody else cannot close it; its owner closes it from the prompt.
    assert act(d, "lina", lambda: d.incident("done A2")) == [say("zh-CN", "command.refused")]
    assert act(d, "liuyang", lambda: d.say("[5] 完成")) == ["✅ 行动项 A2 已完成：补齐接口监控"]

    # Friday's notice to the editors names A1, due Thursday and still open.
    d.advance_to(at(28, 10))
    notice = d.dms_to("zhangwei")[-1]
    assert "逾期的行动项：\n- A1 补齐分页（刘洋，截止 06/27）" in notice

    d.advance_to(at(28, 17))
    report = Stored.of(d.bot, WEEK).report
    assert report is not None
    assert ("06/26 14:30 gateway-api节点CPU打满\n\n行动项：\n\n"
            "- A1 补齐分页（#1，刘洋，截止 06/27，已逾期）\n"
            "- A2 补齐接口监控（#1，刘洋，截止 07/05，本周完成）\n") in report
    assert "A1 补齐分页（#1，刘洋，截止 06/27，已逾期）" in d.channel_posts()[-1]


def test_bad_follow_ups_are_refused_and_store_nothing(driver: Driver) -> None:
    d = driver
    d.advance_to(at(26, 15))
    act(d, "liuyang", lambda: d.incident("06/26 14:30 gateway-api 节点CPU打满 级别：C"))
    before = row_counts(d.bot.engine)  # type: ignore[attr-defined]
    assert act(d, "zhangwei", lambda: d.incident("action 1 补齐分页 负责人：张三 截止：7/5")) == \
        _refused("unknown_person", value="张三")
    assert act(d, "zhangwei", lambda: d.incident("action 1 补齐分页 负责人：刘洋 截止：6/20")) == \
        _refused("due_past", value="6/20", due="2024-06-20", today="2024-06-26")
    assert act(d, "zhangwei", lambda: d.incident("action 9 补齐分页 负责人：刘洋 截止：7/5")) == [
        say("zh-CN", "incident.no_such", number=9)]
    assert act(d, "zhangwei", lambda: d.incident("action 1 补齐分页")) == _refused("action_needs")
    assert act(d, "zhangwei", lambda: d.incident("done A7")) == [say("zh-CN", "followup.no_such", number=7)]
    assert act(d, "zhangwei", lambda: d.incident("done 7")) == _refused("action_id", value="7")
    assert row_counts(d.bot.engine) == before  # type: ignore[attr-defined]
