"""ReportEdits: a posted report's edits after late answers, coalesced per week, paced, retried, apart from
the caller (issue 21 item 8). No clock is involved: a 10-minute pace holds every edit after the first until
`flush` (or `stop`) lets it go."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.report import Report
from bot.domain.weeks import IsoWeek
from bot.services.chat import ChatError, MessageRef, RenderedReport
from bot.services.report_edits import ReportEdits
from tests.conftest import PATIENCE, SHANGHAI, eventually
from tests.fakes import FakeChat, FixedClock
from tests.helpers import make_bot, say

W26, W27 = IsoWeek(2024, 26), IsoWeek(2024, 27)
T0 = datetime(2024, 6, 28, 18, 0, tzinfo=SHANGHAI)


class Refresh:
    """Records each edit; the first waits for `gate` (as if the platform were slow), `fail` raises."""

    def __init__(self, *, gate: threading.Event | None = None, fail: int = 0) -> None:
        self.gate, self.fail = gate, fail
        self.made: list[tuple[str, datetime]] = []
        self.started = threading.Event()

    def __call__(self, week: IsoWeek, at: datetime) -> None:
        self.started.set()
        if self.gate is not None and not self.made:
            assert self.gate.wait(PATIENCE)
        if self.fail:
            self.fail -= 1
            raise ChatError("ratelimited", method="chat.update")
        self.made.append((week.label, at))


def test_requests_during_an_edit_are_one_more_edit_with_the_latest_state() -> None:
    refresh = Refresh(gate=threading.Event())
    edits = ReportEdits(refresh, every=0.0)
    edits.request(W26, T0)
    assert refresh.started.wait(PATIENCE)
    for n in range(1, 30):
        edits.request(W26, T0 + timedelta(minutes=n))  # returns at once while the first edit is held
    assert refresh.made == []
    assert refresh.gate is not None
    refresh.gate.set()
    assert edits.wait_idle(PATIENCE)
    assert refresh.made == [("2024-W26", T0), ("2024-W26", T0 + timedelta(minutes=29))]


def test_a_week_is_edited_at_most_once_per_pace_and_weeks_apart() -> None:
    refresh = Refresh()
    edits = ReportEdits(refresh, every=600.0)
    edits.request(W26, T0)
    edits.request(W27, T0)
    eventually(lambda: len(refresh.made) == 2, "both weeks' first edits, at once")
    edits.request(W26, T0 + timedelta(minutes=1))
    edits.request(W26, T0 + timedelta(minutes=2))
    assert not edits.wait_idle(0.2), "held for its turn"
    edits.flush()
    assert edits.wait_idle(PATIENCE)
    assert sorted(refresh.made) == [("2024-W26", T0), ("2024-W26", T0 + timedelta(minutes=2)), ("2024-W27", T0)]


def test_a_refused_edit_is_tried_again() -> None:
    refresh = Refresh(fail=1)
    edits = ReportEdits(refresh, every=0.0, retry_after=600.0)
    edits.request(W26, T0)
    assert not edits.wait_idle(0.2), "the retry waits"
    assert refresh.made == []
    edits.flush()
    assert edits.wait_idle(PATIENCE)
    assert refresh.made == [("2024-W26", T0)]


def test_stop_makes_what_is_due_and_without_a_pace_edits_are_made_inline() -> None:
    refresh = Refresh()
    edits = ReportEdits(refresh, every=600.0)
    edits.request(W26, T0)
    eventually(lambda: len(refresh.made) == 1, "the first edit")
    edits.request(W26, T0 + timedelta(minutes=1))
    assert edits.stop(PATIENCE)
    assert refresh.made == [("2024-W26", T0), ("2024-W26", T0 + timedelta(minutes=1))]
    edits.request(W26, T0 + timedelta(minutes=2))  # stopped: refused (logged)
    assert len(refresh.made) == 2
    inline = Refresh()
    ReportEdits(inline, every=None).request(W27, T0)
    assert inline.made == [("2024-W27", T0)], "made on the caller's thread before request returns"


@dataclass
class Recording(FakeChat):
    """A fake chat that notes what the core said the post showed before each edit (None: not known)."""

    shown_before: list[str | None] = field(default_factory=list)

    def update_report(self, posted: list[MessageRef], report: Report, rendered: RenderedReport, *,
                      previous: RenderedReport | None = None) -> list[MessageRef]:
        self.shown_before.append(previous.markdown if previous is not None else None)
        return super().update_report(posted, report, rendered, previous=previous)


def test_after_another_instance_edited_the_post_every_part_is_edited(database_url: str, clock: FixedClock) -> None:
    """Two instances on one database: what one process last posted is no guide once the other has saved
    the report since, so its next edit is a whole one (the post may show the other's state)."""
    a_chat, b_chat = Recording(), Recording()
    a, b = make_bot(database_url, a_chat, clock), make_bot(database_url, b_chat, clock)
    posted = a.cycle.publish(at=clock.now).markdown
    say(a, "zhoujie", "机房迁移：第一次")
    assert a_chat.shown_before == [posted], "a late answer's edit: only what changed since a's post"
    say(b, "zhoujie", "机房迁移：第二次")
    say(a, "zhoujie", "机房迁移：第三次")
    assert b_chat.shown_before == [None] and a_chat.shown_before[-1] is None
    assert "第三次" in a_chat.of_kind("update")[-1].text
