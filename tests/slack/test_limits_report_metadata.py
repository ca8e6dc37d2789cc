"""Issue 21 item 7: the report's message metadata keeps to documented scalar fields (the stand-in drops
metadata outside them, as Slack may: tests/slack/stand_in.py `_documented_metadata`), and a report in
several messages is still found again after a crash, thread parts included, so it is never posted twice."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete

from bot.domain.weeks import IsoWeek
from storage.db import transaction
from storage.models import ReportPostRow
from tests.helpers import fill_long_week
from tests.slack.conftest import Workspace

WEEK = IsoWeek(2024, 26)


def _top_level(ws: Workspace) -> list[dict[str, Any]]:
    return [m for m in ws.slack.messages("C0REPORT") if m.get("thread_ts") in (None, m["ts"])]


def test_a_long_report_found_again_after_a_crash_is_edited_not_posted_twice(workspace: Workspace) -> None:
    ws = workspace
    fill_long_week(ws.bot, "slack")
    first = ws.bot.cycle.publish(WEEK, ws.clock.now)
    assert len(first.refs) > 1, "the report needs a thread for this test"
    with transaction(ws.bot.ctx.db) as s:  # as if the process died before recording where it was posted
        s.execute(delete(ReportPostRow))
    again = ws.bot.cycle.publish(WEEK, ws.clock.now)
    assert ws.slack.problems == []
    assert len(_top_level(ws)) == 1 and len(ws.slack.messages("C0REPORT")) == len(first.refs)
    assert [r.message_id for r in again.refs] == [r.message_id for r in first.refs], "every part edited in place"
    for call in ws.slack.of("chat.postMessage") + ws.slack.of("chat.update"):
        payload = (call.args.get("metadata") or {}).get("event_payload") or {}
        assert all(isinstance(v, (str, int, float, bool)) for v in payload.values())
