"""Friday's post never doubles on Slack: found again by its metadata after a crash, a 500 after posting
or a lost response; posted again (and the editor told) when a person deleted it."""

from __future__ import annotations

from bot.domain.weeks import IsoWeek
from bot.services.chat import ChatError
from tests.slack.conftest import Workspace

WEEK = IsoWeek(2024, 26)


def _reports(ws: Workspace) -> list[dict]:  # type: ignore[type-arg]
    return [m for m in ws.slack.messages("C0REPORT") if (m.get("metadata") or {}).get("event_type") == "zhoubao_report"]


def test_the_post_carries_the_team_and_the_week(workspace: Workspace) -> None:
    ws = workspace
    ws.bot.cycle.publish(WEEK, ws.clock.now)
    (post,) = _reports(ws)
    assert post["metadata"]["event_payload"]["week"] == "2024-W26"
    assert post["metadata"]["event_payload"]["team"] == ws.bot.ctx.team.team.name


def test_a_crash_between_post_and_record_does_not_post_again(workspace: Workspace) -> None:
    ws = workspace
    ws.bot.cycle.publish(WEEK, ws.clock.now)
    from sqlalchemy import delete

    from storage.db import transaction
    from storage.models import ReportPostRow
    with transaction(ws.bot.ctx.db) as s:  # as if the process died before recording the post
        s.execute(delete(ReportPostRow))
    ws.dm("zhoujie", "机房迁移：进度 50%")
    ws.settle()
    result = ws.bot.cycle.publish(WEEK, ws.clock.now)
    assert len(_reports(ws)) == 1 and len(ws.slack.messages("C0REPORT")) == 1
    assert "进度 50%" in str(_reports(ws)[0]["blocks"]), "the post found again is brought up to date"
    assert result.refs[0].message_id == _reports(ws)[0]["ts"]


def test_slack_posting_then_answering_500_does_not_double(workspace: Workspace) -> None:
    ws = workspace
    ws.slack.fail("chat.postMessage", status=500, after=True)
    ws.bot.cycle.publish(WEEK, ws.clock.now)
    assert len(ws.slack.messages("C0REPORT")) == 1
    assert ws.bot.cycle.publish(WEEK, ws.clock.now).updated
    assert len(ws.slack.messages("C0REPORT")) == 1


def test_a_lost_response_does_not_double(workspace: Workspace) -> None:
    ws = workspace
    ws.slack.fail("chat.postMessage", lose=True)
    ws.bot.cycle.publish(WEEK, ws.clock.now)
    assert len(ws.slack.messages("C0REPORT")) == 1 and len(ws.slack.of("chat.postMessage")) == 1
    assert ws.slack.of("conversations.history"), "it looked before posting again"


def test_a_500_without_a_post_is_posted_once(workspace: Workspace) -> None:
    ws = workspace
    ws.slack.fail("chat.postMessage", status=500)
    ws.bot.cycle.publish(WEEK, ws.clock.now)
    assert len(_reports(ws)) == 1


def test_a_post_deleted_in_the_channel_is_posted_again_and_the_editor_told(workspace: Workspace) -> None:
    ws = workspace
    first = ws.bot.cycle.publish(WEEK, ws.clock.now).refs[0]
    ws.slack.delete("C0REPORT", first.message_id)
    ws.dm("zhoujie", "机房迁移：进度 60%")  # a late answer updates the report
    ws.settle()
    (post,) = _reports(ws)
    assert post["ts"] != first.message_id and "进度 60%" in str(post["blocks"])
    assert any("已被删除，已重新发布" in t for t in ws.replies_to("zhangwei"))
    ws.bot.cycle.publish(WEEK, ws.clock.now)  # recorded: the next publish edits the new post
    assert len(_reports(ws)) == 1 and ws.slack.messages("C0REPORT")[0].get("edited")


def test_a_failed_publish_tells_the_editor(workspace: Workspace) -> None:
    ws = workspace
    ws.slack.fail("chat.postMessage", error="channel_not_found")
    try:
        ws.bot.cycle.publish(WEEK, ws.clock.now)
    except ChatError as exc:
        assert exc.reason == "channel_not_found"
    else:
        raise AssertionError("the failure reaches the caller")
    told = [t for t in ws.replies_to("zhangwei") if "channel_not_found" in t]
    assert len(told) == 1 and "chat.postMessage" in told[0]
