"""Issue 18, bug 1: in a holiday week every prompt states the publish time the calendar moved to, and the
publish fires then. 2025-W14: Friday 4/4 is 清明 (a statutory holiday in `chinese_calendar`), so the
example team's `fri 17:00` publish moves back to Thursday 4/3 17:00 and the `fri 10:00` reminder is skipped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from tests.behaviour.conftest import PLATFORMS, SHANGHAI
from tests.behaviour.driver import Driver, prompt_text

W14_MONDAY = datetime(2025, 3, 31, 9, 0, tzinfo=SHANGHAI)
HEAD = "📝 2025-W14 周报：请更新你负责的内容，4月3日（周四）17:00 发布。"


@pytest.fixture(params=list(PLATFORMS))
def holiday_week(request: pytest.FixtureRequest, database_url: str) -> Iterator[Driver]:
    d = PLATFORMS[request.param](database_url, W14_MONDAY)
    yield d
    d.close()


def test_a_holiday_week_states_the_day_it_really_publishes(holiday_week: Driver) -> None:
    d = holiday_week
    d.advance_to(datetime(2025, 4, 3, 10, 0, tzinfo=SHANGHAI))
    assert d.dms_to("zhoujie") == [prompt_text(HEAD, ["[1] O3 平台治理 · 机房迁移", "[2] 生产事件"])]
    assert d.channel_posts() == []
    d.advance_to(datetime(2025, 4, 3, 17, 0, tzinfo=SHANGHAI))
    posts = d.channel_posts()
    assert len(posts) == 1 and "2025-W14" in posts[0]
    # Nothing more on the holiday itself: the reminder is skipped, the report is not posted again.
    d.advance_to(datetime(2025, 4, 4, 18, 0, tzinfo=SHANGHAI))
    assert len(d.channel_posts()) == 1 and len(d.dms_to("zhoujie")) == 1
