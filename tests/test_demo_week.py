"""The example week of REPORT.md, played through the console, reproduces its Markdown exactly."""

from __future__ import annotations

import io
from pathlib import Path

from bot.adapters.console.chat import ConsoleChat, VirtualClock
from bot.adapters.console.demo import DEMO_START, DEMO_WEEK, SCRIPT
from bot.adapters.console.workspace import ConsoleSession
from bot.domain.weeks import IsoWeek
from bot.runtime.composition import build_bot
from bot.runtime.jobs import DueJobs
from bot.runtime.team_file import load_team
from storage.db import session_factory
from storage.reports import Reports
from tests.conftest import EXAMPLE_TEAM

GOLDEN = Path(__file__).parent / "golden" / "report_2024-W26.zh-CN.md"


def play(database_url: str) -> tuple[object, ConsoleChat, str]:
    out = io.StringIO()
    chat, clock = ConsoleChat(out), VirtualClock(DEMO_START)
    bot = build_bot(load_team(EXAMPLE_TEAM), chat, clock, database_url=database_url)
    ConsoleSession(bot, chat, clock, out, jobs=DueJobs(bot), echo=True).run(SCRIPT.splitlines())
    return bot, chat, out.getvalue()


def test_demo_week_reproduces_report_md(database_url: str) -> None:
    bot, chat, transcript = play(database_url)
    golden = GOLDEN.read_text(encoding="utf-8")
    # What was posted to the channel at Friday 17:00 is the example, byte for byte ...
    assert chat.channel[-1][1] == golden
    # ... and so is what is stored, and what `zhoubao report` compiles again later.
    with session_factory(bot.engine)() as s:  # type: ignore[attr-defined]
        row = Reports(s).by_label(bot.ctx.team_id, DEMO_WEEK)  # type: ignore[attr-defined]
        assert row is not None and row.markdown == golden
        published = row.published_at
    again = bot.week_report.compile(IsoWeek.parse(DEMO_WEEK), published)  # type: ignore[attr-defined]
    assert bot.ctx.renderer.markdown(again) == golden  # type: ignore[attr-defined]
    # The walk-through shows the prompts, the reminder and the editor's missing list.
    assert "── DM to 李娜" in transcript and "[1] 聚合收单 · 业务" in transcript
    assert "⏰ 提醒" in transcript and "尚未填写" in transcript


def test_demo_posts_once_and_edits_in_place_for_a_late_answer(database_url: str) -> None:
    bot, chat, _ = play(database_url)
    reports_before = [m for m, t in chat.channel if t.startswith("# 2024-W26")]
    assert len(reports_before) == 1
    session = ConsoleSession(bot, chat, bot.ctx.clock, io.StringIO(), jobs=DueJobs(bot))  # type: ignore[attr-defined,arg-type]
    session.run(["clock +1h", "as 周杰", "机房迁移：整体进度达到了85%，生产验证提前完成"])
    reports_after = [t for m, t in chat.channel if t.startswith("# 2024-W26")]
    assert len(reports_after) == 1, "a late answer edits the posted report, never a second post"
    assert "整体进度达到了85%，生产验证提前完成" in reports_after[0]
    assert "Created: 2024年6月28日 17:00" in reports_after[0]
