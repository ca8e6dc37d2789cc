"""A department of teams in one instance (issue 25): the department file, a team per command, one prompt per
team for a person in several, and the roll-up posted once to the department channel, naming the team that
had not published. Console-level: every team's bot shares one database and one chat port, as
`build_department` wires them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.adapters.console.demo import EXAMPLE_DEPARTMENT, EXAMPLE_TEAM
from bot.domain.department import TeamChoiceError
from bot.domain.weeks import IsoWeek
from bot.runtime.composition import DepartmentBots, build_department
from bot.runtime.team_file import TeamFileError, load_department
from bot.services.chat import Inbound
from tests.fakes import FakeChat, FixedClock

SHANGHAI = ZoneInfo("Asia/Shanghai")
W26 = IsoWeek.parse("2024-W26")


def at(day: int, hour: int) -> datetime:
    return datetime(2024, 6, day, hour, 0, tzinfo=SHANGHAI)


def say(built: DepartmentBots, team: str, user: str, text: str, when: datetime) -> str:
    bot = built.bot(team)
    reply = bot.inbox.receive(Inbound("fake", user, f"{team}-{user}-{when:%d%H}-{len(text)}", text, when))
    assert reply is not None
    return reply.text


def test_three_teams_run_a_week_and_the_rollup_posts_once_naming_the_team_that_did_not_publish(
        database_url: str) -> None:
    department = load_department(EXAMPLE_DEPARTMENT / "department.yaml")
    chat, clock = FakeChat(), FixedClock(at(27, 10))
    built = build_department(department, chat, clock, database_url=database_url)
    for bot in built.bots:
        assert bot.cycle.send_prompts("prompt", at(27, 10)) > 0
    say(built, "acquiring", "chenjing", "本周完成差距分析，整体进度 45%\n主要问题：密钥轮换流程的留痕方案未定", at(27, 11))
    say(built, "acquiring", "sunli", "年度可用性：99.997%", at(27, 11))
    say(built, "settlement", "zhengshuang", "清算准时率：99.95%", at(27, 11))
    say(built, "crossborder", "carol", "Yearly availability: 99.98%", at(27, 11))
    # Friday 17:00: two teams publish; 清结算组's bot was down and published nothing.
    for team in ("acquiring", "crossborder"):
        assert built.bot(team).cycle.publish_on_schedule(at(28, 17)) is not None
    assert built.rollup is not None
    first = built.rollup.publish(W26, at(28, 18))
    # A second instance of the same department (its own bots, the same database) runs the same schedule.
    other = build_department(department, FakeChat(), clock, database_url=database_url)
    assert other.rollup is not None
    again = other.rollup.publish(W26, at(28, 18))
    assert first.posted and not again.posted
    posts = [s for s in chat.sent + other.bots[0].ctx.chat.sent  # type: ignore[attr-defined]
             if s.to == "department-weekly"]
    assert len(posts) == 1
    text = posts[0].text
    assert text.startswith("支付事业部 2024-W26 周报汇总\nCreated: 2024年6月28日 18:00\n")
    assert "【收单技术组】\n2024年6月28日 17:00 发布" in text and "【Cross-border Payments】" in text
    assert "• 进展：PCI DSS 认证 45%" in text and "• 风险：PCI DSS 认证：密钥轮换流程的留痕方案未定" in text
    assert "收单技术组：年度可用性 99.997% · A/B级事故 0 · C级事故 0 · D级事故 0" in text
    assert "Cross-border Payments：A/B级事故 0 · C级事故 0 · D级事故 0 · Yearly availability 99.98%" in text
    assert text.rstrip().endswith("未发布：清结算组")
    # Each team's report went to its own channel; 清结算组's to none.
    channels = {s.to for s in chat.sent if s.kind in ("report", "post")}
    assert {"acquiring-weekly", "crossborder-weekly"} <= channels and "settlement-weekly" not in channels


def test_a_person_in_two_teams_gets_one_prompt_per_team(tmp_path: Path, database_url: str) -> None:
    (tmp_path / "a.yaml").write_text(EXAMPLE_TEAM.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "b.yaml").write_text("""
team: {name: 风控组, report_channel: risk-weekly}
people:
  - {id: lina, name: 李娜, email: lina@example.com}
  - {id: he, name: 何平}
editors: [he]
okrs:
  - {id: O1, name: 风控, items: [{name: 规则引擎, owner: lina}]}
""", encoding="utf-8")
    (tmp_path / "department.yaml").write_text(
        "department: {name: 支付事业部}\nteams: [a.yaml, b.yaml]\n", encoding="utf-8")
    department = load_department(tmp_path / "department.yaml")
    chat = FakeChat()
    built = build_department(department, chat, FixedClock(at(27, 10)), database_url=database_url)
    for bot in built.bots:
        bot.cycle.send_prompts("prompt", at(27, 10))
    prompts = [s.text for s in chat.sent if s.kind == "prompt" and s.to == "lina"]
    assert len(prompts) == 2
    assert "对公代付" in prompts[0] and "规则引擎" not in prompts[0]
    assert "规则引擎" in prompts[1] and "对公代付" not in prompts[1]
    # Her answer to each team is stored in that team only.
    say(built, "b", "lina", "规则引擎：灰度 50%", at(27, 11))
    assert "规则引擎" in built.bot("b").week_report.render(built.bot("b").week_report.compile(W26)).markdown
    assert built.bot("a").week_report.compile(W26).okr_groups[0].items[2].entry.text == ""


def test_a_plain_team_file_is_a_department_of_one() -> None:
    department = load_department(EXAMPLE_TEAM)
    assert department.info is None and department.team_names == ("支付技术部",)
    assert department.choose(None).team.name == "支付技术部"
    assert department.choose("team").team.name == "支付技术部"  # the file's stem


def test_choosing_a_team() -> None:
    department = load_department(EXAMPLE_DEPARTMENT / "department.yaml")
    assert department.choose("Settlement").team.name == "清结算组"
    assert department.choose("清结算组").team.locale == "zh-CN"
    assert department.choose("cross-border payments").team.locale == "en"
    with pytest.raises(TeamChoiceError, match=r"has 3 teams; choose one with --team \(acquiring \(收单技术组\), "):
        department.choose(None)
    with pytest.raises(TeamChoiceError, match="no team 'risk' in this department"):
        department.choose("risk")


def test_department_file_errors_name_file_line_and_key(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(EXAMPLE_TEAM.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "copy.yaml").write_text(EXAMPLE_TEAM.read_text(encoding="utf-8"), encoding="utf-8")
    path = tmp_path / "department.yaml"
    path.write_text("department:\n  name: 支付事业部\n  publish: someday\nteams: [a.yaml]\n", encoding="utf-8")
    with pytest.raises(TeamFileError, match=r"department.yaml:3 \[department.publish\]: 'someday' is not a weekly"):
        load_department(path)
    path.write_text("department: {name: 支付事业部}\nteams:\n  - a.yaml\n  - missing.yaml\n", encoding="utf-8")
    with pytest.raises(TeamFileError, match=r"missing.yaml: the team file has 1 problem\(s\):\n.*file not found"):
        load_department(path)
    path.write_text("department: {name: 支付事业部}\nteams:\n  - a.yaml\n  - copy.yaml\n", encoding="utf-8")
    with pytest.raises(TeamFileError, match=r"department.yaml:4 \[teams\[1\]\]: 'copy.yaml' names a team already "
                                            r"listed \(a: 支付技术部\)"):
        load_department(path)


def test_the_rollup_schedule_posts_the_owed_week_once_across_processes(database_url: str) -> None:
    from bot.runtime.rollup_schedule import RollupSchedule

    department = load_department(EXAMPLE_DEPARTMENT / "department.yaml")
    chat, clock = FakeChat(), FixedClock(at(28, 17))
    built = build_department(department, chat, clock, database_url=database_url)
    built.bot("settlement").cycle.publish(W26, at(28, 17))
    assert built.rollup is not None
    schedule = RollupSchedule(built.rollup, clock)
    assert schedule.run_due() is None  # Friday 17:00: last week's roll-up is past its grace, this week's not due
    clock.now = at(29, 3)  # a process starting at 03:00 on Saturday owes Friday 18:00's roll-up
    first = schedule.run_due()
    other = build_department(department, FakeChat(), clock, database_url=database_url)
    assert other.rollup is not None
    second = RollupSchedule(other.rollup, clock).run_due()
    assert first is not None and first.posted and first.week == "2024-W26"
    assert second is not None and not second.posted
    posts = [s for s in chat.sent if s.to == "department-weekly"]
    assert len(posts) == 1 and "【清结算组】" in posts[0].text and "未发布：收单技术组、Cross-border Payments" in posts[0].text
    clock.now = at(29, 7)  # past the 12 hours' grace: nothing is owed any more
    assert schedule.run_due() is None
