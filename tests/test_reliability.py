"""Error-budget arithmetic against hand-computed cases (issue 23)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain.action_items import (
    ActionAnswer,
    FollowUp,
    needs_postmortem,
    parse_follow_up,
    read_action_answer,
    read_due,
)
from bot.domain.facts import IncidentFact, WeekFacts
from bot.domain.facts_json import week_from_json, week_to_json
from bot.domain.incidents import IncidentSyntaxError, parse_command, parse_incident
from bot.domain.reliability import Outage, budget, floor_percent, merged_downtime, whole_minutes
from bot.domain.report import ActionLine, BudgetLine, CauseCount
from bot.runtime.team_file import TeamFileError, parse_team
from bot.text import i18n
from bot.text.catalogue import say
from tests.conftest import EXAMPLE_TEAM

TZ = ZoneInfo("Asia/Shanghai")
END = datetime(2024, 7, 1, 0, 0, tzinfo=TZ)  # the end of 2024-W26
DAYS_30 = timedelta(days=30)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=TZ)


def test_thirty_days_at_99_9_percent_is_43_point_2_minutes() -> None:
    b = budget(Decimal("99.9"), END, DAYS_30, [])
    assert b.allowed == timedelta(minutes=43, seconds=12)
    assert b.start == at(6, 1, 0)


def test_no_incidents_is_100_percent_with_the_whole_budget_left() -> None:
    b = budget(Decimal("99.95"), END, timedelta(days=28), [])
    assert b.availability == 100 and b.downtime == timedelta(0)
    assert b.left_share == 100 and not b.spent
    # 28 days * 0.05 % = 20.16 minutes
    assert b.allowed == timedelta(minutes=20, seconds=9.6) and whole_minutes(b.left) == 20


def test_a_40_minute_outage_spends_most_of_the_budget() -> None:
    b = budget(Decimal("99.9"), END, DAYS_30, [Outage(at(6, 26, 14, 30), at(6, 26, 15, 10), "bank")])
    assert b.downtime == timedelta(minutes=40)
    # left 3.2 of 43.2 minutes: 7.4 % floored to 7
    assert b.left == timedelta(minutes=3, seconds=12) and b.left_share == 7 and whole_minutes(b.left) == 3
    # 1 - 2400 / 2592000 = 0.99907407… -> 99.907 % floored
    assert floor_percent(b.availability, 3) == "99.907"
    assert not b.spent and b.own_downtime == timedelta(0) and b.own_share_of_spend == 0


def test_an_incident_spanning_the_window_start_counts_only_inside_it() -> None:
    # The window opens 06/01 00:00; an outage from 05/31 23:00 to 06/01 00:30 counts 30 minutes.
    spanning = Outage(at(5, 31, 23), at(6, 1, 0, 30), "own")
    b = budget(Decimal("99.9"), END, DAYS_30, [spanning])
    assert b.downtime == timedelta(minutes=30) and b.own_downtime == timedelta(minutes=30)
    # ... and one entirely before it counts nothing.
    assert budget(Decimal("99.9"), END, DAYS_30, [Outage(at(5, 20, 1), at(5, 20, 2))]).downtime == timedelta(0)


def test_an_incident_spanning_the_window_end_counts_only_up_to_it() -> None:
    b = budget(Decimal("99.9"), at(6, 27, 0), DAYS_30, [Outage(at(6, 26, 23, 50), at(6, 27, 0, 40))])
    assert b.downtime == timedelta(minutes=10)


def test_overlapping_incidents_on_one_system_count_once() -> None:
    outages = [Outage(at(6, 27, 20, 5), at(6, 27, 21, 5), "own"),  # 60 min
               Outage(at(6, 27, 20, 35), at(6, 27, 21, 35), "bank"),  # overlaps by 30 min
               Outage(at(6, 27, 21, 0), at(6, 27, 21, 10), "own")]  # inside both
    b = budget(Decimal("99.9"), END, DAYS_30, outages)
    assert b.downtime == timedelta(minutes=90)
    assert b.own_downtime == timedelta(minutes=65)
    assert b.spent and b.left == timedelta(minutes=43.2 - 90) and b.left_share == 0
    assert b.own_share_of_spend == 72  # 65 / 90


def test_an_incident_still_going_on_is_not_counted_yet() -> None:
    assert merged_downtime([Outage(at(6, 27, 20), None)], at(6, 1, 0), END) == timedelta(0)


def test_touching_incidents_add_up_without_a_gap() -> None:
    outages = [Outage(at(6, 27, 20), at(6, 27, 20, 10)), Outage(at(6, 27, 20, 10), at(6, 27, 20, 30))]
    assert merged_downtime(outages, at(6, 1, 0), END) == timedelta(minutes=30)


def test_a_whole_window_down_is_zero_percent() -> None:
    b = budget(Decimal("99.9"), END, DAYS_30, [Outage(at(5, 1, 0), at(7, 2, 0))])
    assert b.availability == 0 and b.spent


def test_availability_is_floored_never_rounded_up() -> None:
    # one second down in 30 days: 99.99996 %, shown as 99.999 with three digits
    b = budget(Decimal("99.999"), END, DAYS_30, [Outage(at(6, 2, 0), at(6, 2, 0) + timedelta(seconds=1))])
    assert floor_percent(b.availability, 3) == "99.999"


# ----- the team file's objectives and causes, and the `归因` label -----------------------------------

SOURCE = EXAMPLE_TEAM.read_text(encoding="utf-8")
ANCHOR = "  reporters: anyone"
NOW = datetime(2024, 6, 28, 17, 0, tzinfo=TZ)


def with_incident_options(options: str) -> str:
    return SOURCE.replace(ANCHOR, options.strip("\n") + "\n" + ANCHOR)


def test_objectives_are_read_from_the_team_file() -> None:
    team = parse_team(with_incident_options("  systems:\n    - {name: 支付网关, aliases: [gateway-api], slo: 99.95%}\n"
                                            "    - {name: 清结算, slo: 99.9, window_days: 30}"))
    gateway = team.objective_of("Gateway-API")
    assert gateway is not None and gateway.name == "支付网关" and gateway.slo == Decimal("99.95")
    assert gateway.window_days == 28  # the default rolling window
    assert team.objective_of("清结算") is not None and team.objective_of("order-api") is None


def test_a_bad_objective_names_line_and_key() -> None:
    bad = with_incident_options("  systems:\n    - {name: 支付网关, slo: 100%}")
    with pytest.raises(TeamFileError) as info:
        parse_team(bad, Path("team.yaml"))
    p = info.value.problems[0]
    assert p.key == "incidents.systems[0].slo" and "100% leaves no budget" in p.message
    assert p.line == next(n for n, line in enumerate(bad.splitlines(), start=1) if "slo: 100%" in line)
    with pytest.raises(TeamFileError) as info:
        parse_team(with_incident_options("  systems:\n    - {name: 支付网关, slo: high}"))
    assert "'high' is not a percentage" in info.value.problems[0].message


def test_attribution_label_by_class_bank_name_or_alias() -> None:
    book = parse_team(SOURCE).cause_book

    def attribution(text: str) -> tuple[str, str]:
        d = parse_incident(f"06/26 14:30 代扣通道异常 {text}", now=NOW, severities=["D"], causes=book)
        return d.cause_class, d.cause_bank

    assert attribution("归因：自身") == ("own", "")
    assert attribution("归因：银行") == ("bank", "")
    assert attribution("归因：招行") == ("bank", "招行")
    assert attribution("归因：招商银行") == ("bank", "招行")
    assert attribution("归因：银行/CMB") == ("bank", "招行")
    assert attribution("attribution: third-party") == ("third-party", "")
    assert attribution("caused by: Infrastructure") == ("infrastructure", "")
    # `原因` stays the root cause's text beside it
    d = parse_incident("06/26 14:30 代扣通道异常 原因：证书过期 归因：自身", now=NOW, severities=[], causes=book)
    assert (d.cause, d.cause_class) == ("证书过期", "own")


def test_an_unknown_attribution_is_refused_with_the_known_ones() -> None:
    book = parse_team(SOURCE).cause_book
    for value in ("隔壁组", "自身 招行", "工行"):
        with pytest.raises(IncidentSyntaxError) as info:
            parse_command(f"/incident 06/26 14:30 代扣通道异常 归因：{value}", now=NOW, severities=[], causes=book)
        assert say("zh-CN", f"incident.syntax.{info.value.key}", **info.value.values) == \
            f"没有归因“{value}”；可用的归因：自身, 银行, 第三方, 基础设施（银行也可写银行名，如“招行”）。"


def test_a_team_file_may_list_its_own_causes() -> None:
    team = parse_team(with_incident_options(
        "  causes:\n    - {id: own, name: 自身}\n    - {id: vendor, name: 供应商, aliases: [厂商]}"))
    d = parse_incident("06/26 14:30 短信延迟 归因：厂商", now=NOW, severities=[], causes=team.cause_book)
    assert d.cause_class == "vendor" and team.cause_book.name("vendor") == "供应商"
    with pytest.raises(IncidentSyntaxError):
        parse_incident("06/26 14:30 短信延迟 归因：银行", now=NOW, severities=[], causes=team.cause_book)


# ----- follow-ups: action items and postmortems, as read ----------------------------------------------

TODAY = date(2024, 6, 28)


def _person(who: str) -> str | None:
    return {"刘洋": "liuyang", "liuyang": "liuyang"}.get(who)


def follow_up(text: str) -> FollowUp | None:
    return parse_follow_up(text, today=TODAY, person=_person)


def test_follow_up_commands_in_either_language() -> None:
    assert follow_up("/incident action 3 补齐分页 owner: liuyang due: 2024-07-15") == FollowUp(
        "action", incident=3, text="补齐分页", owner="liuyang", due=date(2024, 7, 15))
    assert follow_up("行动项 3 补齐分页，负责人：刘洋，截止：7月15日") == FollowUp(
        "action", incident=3, text="补齐分页", owner="liuyang", due=date(2024, 7, 15))
    assert follow_up("完成 A7") == follow_up("done a7") == FollowUp("done", item=7)
    assert follow_up("复盘 3 [复盘记录](https://wiki.example.com/pm-3)") == FollowUp(
        "postmortem", incident=3, link="[复盘记录](https://wiki.example.com/pm-3)")
    # a description that starts with one of the Chinese words is an incident, not a follow-up
    assert follow_up("完成率下跌 原因：渠道抖动") is None and follow_up("06/27 20:05 复盘系统慢") is None


def test_follow_up_errors_name_what_is_wrong() -> None:
    cases = {"action 3 补齐分页 负责人：张三 截止：7/15": ("unknown_person", {"value": "张三"}),
             "action 3 补齐分页 负责人：刘洋 截止：6/27": ("due_past", {"value": "6/27", "due": "2024-06-27",
                                                               "today": "2024-06-28"}),
             "action 3 补齐分页 负责人：刘洋 截止：下周": ("bad_due", {"value": "下周"}),
             "action 3 补齐分页 负责人：刘洋": ("action_needs", {}),
             "action 3 负责人：刘洋 截止：7/15": ("action_what", {}),
             "done 7": ("action_id", {"value": "7"}),
             "postmortem": ("follow_up_usage", {"word": "postmortem"})}
    for text, (key, values) in cases.items():
        with pytest.raises(IncidentSyntaxError) as info:
            follow_up(text)
        assert (info.value.key, info.value.values) == (key, values), text


def test_due_dates_without_a_year() -> None:
    assert read_due("6/28", today=TODAY) == TODAY  # due today is not past
    assert read_due("1/10", today=date(2024, 12, 20)) == date(2025, 1, 10)  # over New Year
    with pytest.raises(IncidentSyntaxError):
        read_due("2/30", today=TODAY)


def test_prompt_answers_about_an_action_item() -> None:
    assert read_action_answer("完成。", today=TODAY) == ActionAnswer("done")
    assert read_action_answer("延期 7/15 等待银行排期", today=TODAY) == ActionAnswer(
        "postponed", due=date(2024, 7, 15), why="等待银行排期")
    assert read_action_answer("postpone 2024-07-15 waiting for the bank", today=TODAY).why == "waiting for the bank"
    for text, key in (("延期 7/15", "postpone_why"), ("延期 6/01 晚了", "due_past"), ("快好了", "action_answer")):
        with pytest.raises(IncidentSyntaxError) as info:
            read_action_answer(text, today=TODAY)
        assert info.value.key == key, text


def test_a_postmortem_rule_names_a_known_severity() -> None:
    with pytest.raises(TeamFileError) as info:
        parse_team(with_incident_options("  postmortem: {severity: P0}"))
    assert "postmortem.severity 'P0' is not one of" in info.value.problems[0].message
    assert needs_postmortem("B", ["A", "B", "C", "D"], "C", False, False)
    assert not needs_postmortem("D", ["A", "B", "C", "D"], "C", False, False)
    assert needs_postmortem(None, ["A", "B"], None, True, True) and not needs_postmortem(None, ["A"], None, True, False)


def test_an_export_keeps_the_attribution() -> None:
    fact = IncidentFact(number=1, started_at=NOW, what="代扣通道异常", cause_class="bank", cause_bank="招行")
    back, _ = week_from_json(week_to_json(WeekFacts("2024-W26", incidents=(fact,)), None))
    assert (back.incidents[0].cause_class, back.incidents[0].cause_bank) == ("bank", "招行")


def test_the_new_lines_in_english() -> None:
    line = BudgetLine("Payment gateway", "99.93", "99.9", 30, 13, 0, False, own_minutes=30)
    assert i18n.budget_line(line, "en") == (
        "Payment gateway 99.93% (objective 99.9%, 30% of budget left, about 13 min; 30 min of it our own)")
    spent = BudgetLine("Payment gateway", "99.92", "99.95", 0, 0, 10, True)
    assert i18n.budget_line(spent, "en") == "Payment gateway 99.92% (objective 99.95%, budget spent, 10 min over)"
    assert i18n.cause_counts([CauseCount("own", Decimal(2), 30), CauseCount("", Decimal("0.5"), 0)], "en") == (
        "By attribution: own 2 (30 min down), unattributed 0.5 (0 min down)")
    action = ActionLine(1, "add paging", 3, "Liu Yang", "liuyang", date(2024, 7, 5), "overdue")
    assert i18n.action_line(action, "en") == "A1 add paging (#3, Liu Yang, due 07/05, overdue)"
