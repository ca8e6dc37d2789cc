"""Issue 25's done-when: a department of three teams in ONE process — 收单技术组 (zh-CN) on Feishu,
Cross-border Payments (en) on Slack, 清结算组 on the console — runs a week. Each team's report posts to its
own channel at its own publish time, and the roll-up posts once, through the department's app, to the
department channel, with the comparison table and naming the team that had not published by then."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.behaviour.conftest import MONDAY, at
from tests.behaviour.department import DepartmentProcess, department, team_file
from tests.feishu import payloads
from tests.feishu.conftest import open_id_of
from tests.slack.conftest import user_id


@pytest.fixture
def process(database_url: str) -> Iterator[DepartmentProcess]:
    dept = department(
        team_file("acquiring", platform="feishu", publish="fri 17:00"),
        team_file("settlement", platform="console", publish="fri 19:00"),  # after the roll-up's 18:00
        team_file("crossborder", platform="slack", publish="fri 16:00"),
        platform="feishu")
    p = DepartmentProcess.open(dept, database_url, MONDAY,
                               slack_channels={"crossborder-weekly": "C0CROSS"},
                               feishu_chats={"acquiring-weekly", "department-weekly"})
    yield p
    p.close()


def test_three_teams_on_three_apps_run_a_week_in_one_process(process: DepartmentProcess) -> None:
    p = process
    # Thursday 10:00: one scheduler fires every team's prompt, each through its team's app.
    ran = p.advance_to(at(27, 10))
    assert [(kind, account) for _, kind, account in ran] == [
        ("prompt", "prompt: 8 sent"), ("prompt", "prompt: 3 sent"), ("prompt", "prompt: 3 sent")]
    assert p.feishu.sent(to=open_id_of("chenjing"), msg_type="interactive")  # the card prompt
    carol_prompt = next(m for m in p.slack.messages("D" + "CAROL")
                        if any(b.get("block_id") == "zhoubao_prompt" for b in m.get("blocks") or []))
    assert "zhengshuang" in p.console_chat.dms

    # Each team's people answer on their own app.
    p.feishu_app("acquiring").post(payloads.message(
        open_id_of("chenjing"), "本周完成差距分析，整体进度 45%\n主要问题：密钥轮换流程的留痕方案未定", p.clock.now,
        message_id="om_chenjing_1"))
    p.feishu_app("acquiring").post(payloads.message(open_id_of("sunli"), "年度可用性：99.997%", p.clock.now,
                                                    message_id="om_sunli_1"))
    slack = p.slack_app
    slack.dm("carol", "Yearly availability: 99.98%", thread_ts=carol_prompt["ts"])
    slack.dm("bob", "[1] Signed the second acquirer, progress 60%")
    console = p.console("settlement")
    console.run(["as zhengshuang", "清算准时率：99.95%"])
    p.settle()
    assert slack.replies_to("carol")[-1] == "✅ Stored: Availability · Yearly availability"  # in her DM, in English
    assert p.bot("crossborder").week_report.facts(p.bot("crossborder").ctx.week_of(p.clock.now)).metrics
    assert p.bot("settlement").week_report.facts(p.bot("settlement").ctx.week_of(p.clock.now)).metrics

    # Friday: Cross-border publishes at 16:00 to its Slack channel, and only there.
    ran = p.advance_to(at(28, 16, 30))
    assert [kind for _, kind, _ in ran] == ["remind", "remind", "remind", "publish"]
    cross = p.slack_posts("crossborder-weekly")
    assert len(cross) >= 1 and "Weekly report 2024-W26" in cross[0] and "99.98%" in "\n".join(cross)
    assert not p.feishu_posts("acquiring-weekly") and not p.console_posts("settlement-weekly")

    # 17:00: 收单技术组 publishes to its Feishu chat.
    p.advance_to(at(28, 17, 30))
    acquiring = p.feishu_posts("acquiring-weekly")
    assert acquiring and acquiring[0].msg_type == "interactive"
    assert "99.997%" in str([m.current for m in acquiring])

    # 18:00: the roll-up, once, through Feishu (department.platform) to the department chat: the table,
    # and 清结算组 named as not published (its publish is at 19:00; the roll-up does not wait for it).
    ran = p.advance_to(at(28, 18, 30))
    assert [(kind, account) for _, kind, account in ran] == [("rollup", "roll-up 2024-W26: posted")]
    rollup = p.feishu_posts("department-weekly")
    assert len(rollup) == 1 and rollup[0].msg_type == "text"
    text = rollup[0].content["text"]
    assert text.startswith("支付事业部 2024-W26 周报汇总")
    assert "运行数据对比" in text  # the comparison table, team × measure
    assert "【收单技术组】" in text and "【Cross-border Payments】" in text
    assert "未发布：清结算组" in text
    assert not p.slack_posts("department-weekly") and "department-weekly" not in p.console_out.getvalue()

    # 19:00: 清结算组 publishes on the console. A catch-up pass (the scheduler's housekeeping) posts the
    # roll-up no second time.
    p.advance_to(at(28, 19, 30))
    settlement = p.console_posts("settlement-weekly")
    assert len(settlement) == 1 and "99.95%" in settlement[0]
    assert p.runtime.scheduler is not None
    assert p.runtime.scheduler.catch_up() == []
    assert len(p.feishu_posts("department-weekly")) == 1
    # Each report went to its own channel only.
    assert len(p.slack_posts("crossborder-weekly")) == len(cross)
    assert all("收单" not in t for t in p.slack_posts("crossborder-weekly"))
    assert user_id("carol") not in p.console_out.getvalue()
