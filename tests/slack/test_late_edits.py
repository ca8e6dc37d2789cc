"""Late answers after the post: stored whatever Slack's outbound does, the post edited after, coalesced,
part by part (issue 20 item 14, issue 21 item 8)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.adapters.slack import blocks, limits
from bot.domain.replies import MAX_REPLY_CHARS
from bot.domain.team import Team
from bot.domain.weeks import IsoWeek
from storage.db import transaction
from storage.models import AnswerMessageRow, EntryRow, ReportPostRow
from tests.conftest import PATIENCE, eventually
from tests.fakes import FixedClock
from tests.helpers import fill_long_week
from tests.slack.conftest import Workspace, make_workspace
from tests.slack.stand_in import SlackStandIn

WEEK = IsoWeek(2024, 26)
# Four owners of a prose item each, so every answer lands in an entry and in the report.
ITEMS = (("zhoujie", "机房迁移", "okr:O3/机房迁移"), ("liuyang", "交易路由", "okr:O2/交易路由"),
         ("zhaolei", "跨境收款", "okr:O1/跨境收款"), ("lina", "对公代付", "okr:O1/对公代付"))


@pytest.fixture
def paced(team: Team, stand_in: SlackStandIn, database_url: str, clock: FixedClock,
          tmp_path: Path) -> Iterator[Workspace]:
    """A workspace whose post is edited at most once every 10 minutes: after the first edit, what follows
    waits for `edits.flush()`, so the test decides when the next edit goes (no clock involved)."""
    ws, http = make_workspace(team, stand_in, database_url, clock, tmp_path / "spool", report_edit_seconds=600.0)
    yield ws
    ws.bot.cycle.edits.flush()
    ws.settle()
    http.stop()
    ws.runtime.stop()


def _counts(ws: Workspace) -> tuple[int, int]:
    """(answer messages, entries) stored."""
    with transaction(ws.bot.ctx.db) as s:
        return (int(s.scalar(select(func.count(AnswerMessageRow.id))) or 0),
                int(s.scalar(select(func.count(EntryRow.id)).where(EntryRow.text.is_not(None))) or 0))


def _entry(ws: Workspace, key: str) -> str:
    with transaction(ws.bot.ctx.db) as s:
        return str(s.scalar(select(EntryRow.text).where(EntryRow.item_key == key)) or "")


def _shown(ws: Workspace) -> list[list[dict[str, Any]]]:
    """The report as the channel shows it now: the post's blocks, then each thread part's."""
    return [m["blocks"] for m in ws.slack.messages("C0REPORT") if m.get("blocks")]


def _compiled(ws: Workspace) -> list[list[dict[str, Any]]]:
    """The report as compiled from the database now, in Slack's parts."""
    rendered = ws.bot.week_report.render(ws.bot.week_report.compile(WEEK, ws.clock.now))
    return [json.loads(json.dumps(p)) for p in blocks.report_messages(rendered.slack)]


def test_answers_are_stored_while_slack_refuses_replies_and_report_edits(workspace: Workspace) -> None:
    """Issue 20 item 14: Slack answering chat.postMessage and chat.update 429 with Retry-After ("a
    Retry-After HTTP header containing the number of seconds until you can retry",
    https://docs.slack.dev/apis/web-api/rate-limits) held storing back: only 16 of 20 answers were stored
    within 15 s. Here Slack holds both back, then refuses them with 429: all 20 late answers are stored
    (messages and entries) while it still refuses, and the replies and the edited post follow once it
    lets them through. (Before: the first late answer's chat.update, made inline, held the journal's worker.)"""
    ws = workspace
    ws.bot.cycle.send_prompts("prompt", ws.clock.now)
    ws.bot.cycle.publish(WEEK, ws.clock.now)
    ws.settle()
    posts, updates = len(ws.slack.of("chat.postMessage")), len(ws.slack.of("chat.update"))
    ws.slack.held = frozenset({"chat.postMessage", "chat.update"})
    ws.slack.hold = threading.Event()
    for method in ("chat.postMessage", "chat.update"):
        ws.slack.fail(method, times=4, status=429, retry_after="1")
    for n in range(20):
        person, name, _ = ITEMS[n % len(ITEMS)]
        ws.dm(person, f"{name}：限流时的回答 {n}")
    eventually(lambda: _counts(ws) == (20, len(ITEMS)), "all 20 answers stored while Slack holds every call")
    assert all(f"限流时的回答 {n}" in _entry(ws, ITEMS[n % len(ITEMS)][2]) for n in range(20))
    assert len(ws.slack.of("chat.postMessage")) == posts and len(ws.slack.of("chat.update")) == updates, \
        "nothing went out before the answers were stored"
    ws.slack.hold.set()
    ws.settle()
    assert _shown(ws) == _compiled(ws), "the post shows every stored answer"
    assert all(any("已记录" in t for t in ws.replies_to(p)) for p, _, _ in ITEMS)


def test_thirty_late_answers_are_a_few_edits_of_the_post(paced: Workspace) -> None:
    """Issue 21 item 8: each late answer re-edited the whole post, in the inbound path. Now the edits are
    coalesced: the first late answer's edit goes at once, what arrives meanwhile waits for its turn (10
    minutes here, released by `flush`) and goes as one edit of the latest state."""
    ws = paced
    ws.bot.cycle.publish(WEEK, ws.clock.now)
    ws.settle()
    updates = len(ws.slack.of("chat.update"))
    for n in range(30):
        person, name, _ = ITEMS[n % len(ITEMS)]
        ws.dm(person, f"{name}：晚到的回答 {n}")
    eventually(lambda: _counts(ws)[0] == 30, "all 30 late answers stored")
    ws.bot.journal.wait_idle(PATIENCE)
    ws.bot.cycle.edits.flush()
    ws.settle()
    assert 1 <= ws.bot.cycle.edits.edits <= 2, "30 late answers: the first edit, then one with the rest"
    assert len(ws.slack.of("chat.update")) - updates <= 2
    assert _shown(ws) == _compiled(ws), "the post equals the compiled report"
    assert "晚到的回答 29" in json.dumps(_shown(ws), ensure_ascii=False)


def test_a_late_answer_edits_only_the_part_it_changes(workspace: Workspace) -> None:
    """A long report is several messages (the first, then thread parts); a late answer edits the one
    holding the answered item, not every part (chat.update is Tier 3: 50 a minute)."""
    ws = workspace
    fill_long_week(ws.bot, "slack")
    first = ws.bot.cycle.publish(WEEK, ws.clock.now)
    assert len(first.refs) > 2, "the report needs several parts for this test"
    ws.settle()
    updates = len(ws.slack.of("chat.update"))
    ws.dm("zhoujie", "机房迁移：切换演练完成")
    ws.settle()
    edited = ws.slack.of("chat.update")[updates:]
    assert len(edited) == 1, "one part edited"
    assert "切换演练完成" in json.dumps(edited[0].args["blocks"], ensure_ascii=False)
    assert _shown(ws) == _compiled(ws)
    assert ws.slack.problems == []


def _recorded(ws: Workspace) -> list[str]:
    """The message ids report_posts holds for the week's post, part by part."""
    with transaction(ws.bot.ctx.db) as s:
        return [str(r.message_id) for r in s.scalars(select(ReportPostRow).where(
            ReportPostRow.platform == "slack").order_by(ReportPostRow.part))]


def _lengthening_that_fills_a_new_part(rendered: str, marker: str, parts_before: int) -> int:
    """How many characters added after `marker` in the rendered report give it one more part than
    `parts_before`, that part holding more than MESSAGE_TEXT - 40 characters: as full as a part may be.
    Steps of 39 land in any 40-wide stretch that grows a character per character added."""
    for more in range(0, MAX_REPLY_CHARS - 100, 39):
        parts = blocks.report_messages(rendered.replace(marker, marker + "x" * more))
        if len(parts) == parts_before + 1 and limits.block_text(parts[-1]) > limits.MESSAGE_TEXT - 40:
            return more
    raise AssertionError("no answer length fills a new part: the report's layout changed")


def test_a_late_answer_that_adds_a_full_part_posts_it_once_and_records_it(workspace: Workspace) -> None:
    """Issue 21, bench/week.py at 1,000 owners: `posted = compiled False`. A report part as full as a part
    may be (block text just under MESSAGE_TEXT) was posted by the gateway's general `_post`, which splits
    what it sends at its own, smaller limit (room for a "(1/2)" marker): two thread messages, of which only
    the first was returned and recorded. The other stayed in the thread, never edited again, and every part
    after it was one place off. Here a late edit of an answer makes the report one part longer and that
    part full: the channel shows exactly the compiled parts, and report_posts holds each message once."""
    ws = workspace
    fill_long_week(ws.bot, "slack", words=40)
    marker = "LATEMARK"
    ts = ws.dm("zhoujie", f"机房迁移：{marker}")
    ws.settle()
    published = ws.bot.cycle.publish(WEEK, ws.clock.now)
    ws.settle()
    assert len(published.refs) >= 2, "a post with thread parts before the late answer"
    assert _shown(ws) == _compiled(ws) and _recorded(ws) == [r.message_id for r in published.refs]
    rendered = ws.bot.week_report.render(ws.bot.week_report.compile(WEEK, ws.clock.now)).slack
    assert rendered.count(marker) == 1
    more = _lengthening_that_fills_a_new_part(rendered, marker, len(published.refs))

    ws.edit("zhoujie", ts, f"机房迁移：{marker}{'x' * more}")
    ws.settle()
    compiled = _compiled(ws)
    assert len(compiled) == len(published.refs) + 1 and \
        limits.block_text(compiled[-1]) > limits.MESSAGE_TEXT - 40, "the late answer added a full part"
    shown = [m for m in ws.slack.messages("C0REPORT") if m.get("blocks")]
    assert [m["blocks"] for m in shown] == compiled, "the channel shows the compiled parts, each once"
    assert _recorded(ws) == [m["ts"] for m in shown], "each message of the post recorded, one for one"
    assert ws.slack.problems == []
