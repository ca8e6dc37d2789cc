"""Error-budget arithmetic against hand-computed cases (issue 23)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.domain.reliability import Outage, budget, floor_percent, merged_downtime, whole_minutes

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
