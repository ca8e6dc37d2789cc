"""The `/incident` grammar against hostile input (issue 20 item 9): each row was filed as an incident
before; now each is refused with the reason, so Slack, Feishu and the console refuse it alike."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.incidents import IncidentSyntaxError, parse_command, read_recovered
from bot.domain.weeks import IsoWeek, week_window

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=TZ)  # Monday of 2026-W50
WINDOW = week_window(IsoWeek(2024, 11), date(2026, 12, 7))  # 2019-W11 to 2026-W51
SEVERITIES = ["A", "B", "C", "D"]


@pytest.mark.parametrize(("text", "key"), [
    # a year 0000 was read as "no year" and filed in this year
    ("0000-01-01 10:00 gateway 超时", "bad_date"),
    ("0000/06/21 09:00 支付超时", "bad_date"),
    ("gateway 超时 开始：0000-01-01 10:00", "bad_date"),
    # years outside the window
    ("2015-06-21 10:04 gateway 超时", "outside_window"),
    ("1970-01-01 00:00 gateway 超时", "outside_window"),
    ("9998-12-01 10:00 gateway 超时", "outside_window"),
    # a recovery in the future is refused (an incident still going on is filed without one)
    ("09:00 gateway 超时 恢复：23:00", "recovery_future"),
    ("09:00 gateway 超时 恢复：12/08 09:00", "recovery_future"),
    ("09:00 gateway 超时 23:00恢复", "recovery_future"),
    # a bare recovery time earlier than the start is asked about, not read as the next day
    ("09:00 gateway 超时 恢复：08:30", "confirm_overnight"),
    ("12/06 23:00 gateway 超时 recovered: 01:00", "confirm_overnight"),
    # a bad id is refused with the usage, never filed as an incident titled "edit abc"
    ("edit abc", "bad_number"),
    ("edit -1 级别：C", "bad_number"),
    ("edit #x 级别：C", "bad_number"),
    ("resolve abc", "bad_number"),
    ("resolve -3 10:00", "bad_number"),
    ("delete -1", "bad_number"),
    ("delete 99999999999", "bad_number"),
    ("删除 -1", "bad_number"),
    ("修改 #abc 级别：C", "bad_number"),
    ("resolve 3 2026-12-07 18:00", "recovery_future"),
    ("edit 3 恢复：12/08 09:00", "recovery_future"),
])
def test_refused(text: str, key: str) -> None:
    with pytest.raises(IncidentSyntaxError) as caught:
        parse_command("/incident " + text, now=NOW, severities=SEVERITIES, window=WINDOW)
    assert caught.value.key == key, caught.value


@pytest.mark.parametrize(("text", "what", "recovered"), [
    ("12/06 23:00 gateway 超时 恢复：12/07 01:00", "超时", datetime(2026, 12, 7, 1, 0, tzinfo=TZ)),
    ("09:00 gateway 超时 恢复：09:55", "超时", datetime(2026, 12, 7, 9, 55, tzinfo=TZ)),
    ("09:00 gateway 超时 恢复：10:05", "超时", datetime(2026, 12, 7, 10, 5, tzinfo=TZ)),  # clock skew
    ("2019-03-12 10:00 gateway 超时", "超时", None),  # inside the window
    ("Edit button broken on checkout", "Edit button broken on checkout", None),
    ("editor crashed", "editor crashed", None),
    ("删除 2 个索引导致查询变慢", "删除 2 个索引导致查询变慢", None),
    ("resolved slowly", "resolved slowly", None),
])
def test_still_filed(text: str, what: str, recovered: datetime | None) -> None:
    cmd = parse_command("/incident " + text, now=NOW, severities=SEVERITIES, window=WINDOW)
    assert cmd.action == "add" and cmd.draft is not None
    assert (cmd.draft.what, cmd.draft.recovered_at) == (what, recovered)


def test_a_form_recovery_follows_the_same_rules() -> None:
    start = datetime(2026, 12, 7, 9, 0, tzinfo=TZ)
    for value, key in (("08:30", "confirm_overnight"), ("23:00", "recovery_future")):
        with pytest.raises(IncidentSyntaxError) as caught:
            read_recovered(value, start=start, now=NOW)
        assert caught.value.key == key
