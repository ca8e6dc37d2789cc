"""Week labels at the edges of the calendar, and the window of weeks a team may name (issue 20 item 1)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.weeks import IsoWeek, WeekLabelError, WeekOutsideWindow, parse_week_in_window, week_window

UTC = ZoneInfo("UTC")
ZONES = [ZoneInfo("Asia/Shanghai"), ZoneInfo("America/Los_Angeles"), UTC, ZoneInfo("Pacific/Kiritimati")]
EDGES = [IsoWeek(1, 1), IsoWeek(1, 2), IsoWeek(9999, 51), IsoWeek(9999, 52)]


@pytest.mark.parametrize("week", EDGES, ids=str)
@pytest.mark.parametrize("zone", ZONES, ids=str)
def test_week_arithmetic_never_raises_at_the_ends_of_the_calendar(week: IsoWeek, zone: ZoneInfo) -> None:
    # `9999-W52` ends in year 10000 and `0001-W01` begins at datetime's first day: before, a stored label
    # of either made pages answer 500 (`ValueError: year 10000 is out of range`).
    start, end = week.start(zone), week.end(zone)
    assert timedelta(0) < end - start <= timedelta(days=7)
    start.astimezone(UTC), end.astimezone(UTC)  # what the database is handed: must not overflow either
    assert [week.day(n) for n in range(1, 8)] == sorted(week.day(n) for n in range(1, 8))
    assert week.previous() <= week <= week.next()
    assert IsoWeek.parse(week.label) == week and IsoWeek.of(week.monday) == week


def test_the_calendar_ends_saturate_and_everything_between_moves_by_one_week() -> None:
    assert IsoWeek(1, 1).previous() == IsoWeek(1, 1) and IsoWeek(9999, 52).next() == IsoWeek(9999, 52)
    assert IsoWeek(2020, 53).next() == IsoWeek(2021, 1) and IsoWeek(2021, 1).previous() == IsoWeek(2020, 53)
    assert IsoWeek(1, 1).label == "0001-W01"


@pytest.mark.parametrize("label", ["0000-W01", "0000-W52", "2024-W00", "2024-W53", "9999-W53", "10000-W01",
                                   "-001-W01", "2024-W26x", "2024W", ""])
def test_labels_that_are_no_week_are_refused_with_a_reason_not_a_traceback(label: str) -> None:
    with pytest.raises(WeekLabelError):
        IsoWeek.parse(label)


TODAY = date(2026, 12, 7)  # 2026-W50


@pytest.mark.parametrize(("first_stored", "first", "last"), [
    (None, "2021-W50", "2026-W51"),  # nothing stored: today minus five years to next week
    (IsoWeek(2024, 11), "2019-W11", "2026-W51"),  # the team's first stored week minus five years
    (IsoWeek(9999, 52), "2021-W50", "2026-W51"),  # a stored week in the future does not widen it
    (IsoWeek(2004, 53), "1999-W52", "2026-W51"),  # 1999 has no W53
    (IsoWeek(3, 1), "0001-W01", "2026-W51"),  # never before the calendar
])
def test_the_window_runs_from_the_first_stored_week_minus_five_years_to_next_week(
        first_stored: IsoWeek | None, first: str, last: str) -> None:
    window = week_window(first_stored, TODAY)
    assert (window.first.label, window.last.label) == (first, last)


@pytest.mark.parametrize(("label", "inside"), [
    ("2026-W50", True), ("2026-W51", True), ("2021-W50", True),
    ("2026-W52", False), ("2021-W49", False), ("9999-W52", False), ("0001-W01", False), ("1970-W01", False),
])
def test_a_week_outside_the_window_is_refused_naming_the_window(label: str, inside: bool) -> None:
    if inside:
        assert parse_week_in_window(label, None, TODAY).label == label
        return
    with pytest.raises(WeekOutsideWindow) as caught:
        parse_week_in_window(label, None, TODAY)
    assert str(caught.value) == f"{label} is outside the weeks this team can use: 2021-W50 to 2026-W51"


def test_a_week_at_the_end_of_the_calendar_has_a_window_too() -> None:
    window = week_window(None, date(9999, 12, 31))
    assert window.last == IsoWeek(9999, 52) and IsoWeek(9999, 52) in window
    assert datetime(9999, 12, 31).isocalendar()[:2] == (9999, 52)
