"""Friday's post never doubles on Slack: found again by its metadata after a crash, a 500 after posting
or a lost response; posted again (and the editor told) when a person deleted it."""

from __future__ import annotations

from sqlalchemy import delete, select

from bot.adapters.slack import blocks
from bot.domain.weeks import IsoWeek
from bot.services.chat import ChatError
from storage.db import transaction
from storage.models import ReportPostRow
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


def _grow(ws: Workspace, n: int, chars: int) -> None:
    """A late form from zhoujie replacing their item's answer with `chars` characters of lines: the post's
    edit (made at once: the workspace edits without a pace) needs more thread parts."""
    text = "\n".join(f"第{n}次补充 {k:04d} " + "x" * 60 for k in range(chars // 70))
    ws.bot.inbox.submit_form("slack", "zhoujie", f"grow-{n}", {"okr:O3/机房迁移": text}, ws.clock.now, WEEK)
    ws.settle()


def _post_is_the_report(ws: Workspace) -> int:
    """The channel shows the report compiled now, one message per part, and report_posts records each;
    returns how many parts."""
    rendered = ws.bot.week_report.render(ws.bot.week_report.compile(WEEK, ws.clock.now))
    parts = blocks.report_messages(rendered.slack)
    shown = [m for m in ws.slack.messages("C0REPORT") if m.get("blocks")]
    assert [m["blocks"] for m in shown] == parts, "the channel shows each part once"
    with transaction(ws.bot.ctx.db) as s:
        recorded = [r.message_id for r in s.scalars(select(ReportPostRow).order_by(ReportPostRow.part))]
    assert recorded == [m["ts"] for m in shown], "each message recorded, one for one"
    return len(parts)


def test_a_lost_response_to_a_new_part_does_not_double(workspace: Workspace) -> None:
    """A late answer makes the report a part longer; Slack posts that part but its answer is lost. The
    gateway looks in the post's thread before posting it again (it had retried blindly: the part twice)."""
    ws = workspace
    first = ws.bot.cycle.publish(WEEK, ws.clock.now)
    ws.slack.fail("chat.postMessage", lose=True)
    _grow(ws, 1, 12_000)
    assert _post_is_the_report(ws) > len(first.refs), "the late answer needs another part"
    assert ws.slack.of("conversations.replies"), "it looked before posting again"


def test_a_part_posted_but_not_recorded_is_edited_not_posted_again(workspace: Workspace) -> None:
    """The process stops after posting a new thread part and before recording it (or a later part of the
    same edit is refused, so none of them is recorded): the next edit that needs more parts finds it in
    the thread and edits it."""
    ws = workspace
    first = ws.bot.cycle.publish(WEEK, ws.clock.now)
    _grow(ws, 1, 12_000)
    grown = _post_is_the_report(ws)
    assert grown > len(first.refs)
    with transaction(ws.bot.ctx.db) as s:  # as if the process died before recording the new part
        s.execute(delete(ReportPostRow).where(ReportPostRow.part >= len(first.refs)))
    _grow(ws, 2, 19_000)
    assert _post_is_the_report(ws) > grown, "the next edit needs more parts again"
