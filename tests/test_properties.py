"""Property: whatever an owner types survives storage and comes out of every rendering as text."""

from __future__ import annotations

import itertools
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.replies import normalize_text
from bot.domain.weeks import IsoWeek
from bot.services.chat import Inbound
from bot.text.render import md_text, without_bidi
from tests.fakes import FakeChat, FixedClock
from tests.helpers import make_bot

KEY = "okr:O3/机房迁移"
_ids = itertools.count()
_chars = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=300)
# Half the examples start the way owners often do, with the item's name: `机房迁移：…`.
_text = st.one_of(_chars, st.tuples(st.sampled_from(["机房迁移：", "机房迁移: ", "- 机房迁移 ：", "1. 机房迁移:"]),
                                    _chars).map("".join))
_OWN_NAME = re.compile(r"(?:[-*•][ \t]*|[0-9]{1,2}[.、)][ \t]*)?机房迁移[ \t]*[：:][ \t]*(.*)")


def _without_own_name(expected: str) -> str:
    """What the one item of the sender stores of `expected` (already normalized)."""
    first, _, rest = expected.partition("\n")
    m = _OWN_NAME.fullmatch(first)
    if m is None:
        return expected
    return normalize_text("\n".join(([m.group(1)] if m.group(1).strip() else []) + ([rest] if rest else [])))


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path_factory.mktemp('prop') / 'p.db'}"
    return make_bot(url, FakeChat(), FixedClock(datetime(2024, 6, 27, 10, tzinfo=ZoneInfo("Asia/Shanghai"))))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_text)
def test_any_reply_survives_storage_and_rendering(bot, text: str) -> None:  # type: ignore[no-untyped-def]
    # A fresh week per example, so answers do not accumulate.
    n = next(_ids)
    week = IsoWeek.of(datetime(2000, 1, 3)) if n == 0 else IsoWeek(2001 + n // 50, 1 + n % 50)
    at = datetime.combine(week.day(4), datetime.min.time(), tzinfo=ZoneInfo("Asia/Shanghai")).replace(hour=10)
    bot.inbox.receive(Inbound("fake", "zhoujie", f"p{n}", text, at))
    expected = normalize_text(text)
    facts = bot.week_report.facts(week)
    if not expected:
        assert KEY not in facts.entries
        return
    # The item's own name heading the first line (`机房迁移：…`) is consumed; everything else is kept exactly.
    want = _without_own_name(expected)
    if not want:
        assert KEY not in facts.entries
        return
    stored = facts.entries[KEY].text
    assert stored == want
    report = bot.week_report.compile(week, at)
    md = bot.ctx.renderer.markdown(report)
    for line in stored.split("\n"):
        assert without_bidi(md_text(line)).strip() in md  # as text: escaped where it would be markup
    slack = bot.ctx.renderer.slack(report)
    assert "<!" not in slack.replace("&lt;!", "")
