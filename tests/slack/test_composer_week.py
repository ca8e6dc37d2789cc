"""The example week typed into Slack's composer stores what the console stores, and compiles the same report
(issue 9 item 1): every DM of the console demo is sent as the composer sends it (`•`/`◦`/`▪` text and a
`rich_text` block), plus one with a mention, a link and `@channel`; edits go through the same translation."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.adapters.console.chat import ConsoleChat, VirtualClock
from bot.adapters.console.demo import DEMO_START, DEMO_WEEK, SCRIPT
from bot.adapters.console.workspace import ConsoleSession
from bot.domain.weeks import IsoWeek
from bot.runtime.composition import build_bot
from bot.runtime.jobs import DueJobs
from bot.runtime.team_file import load_team
from bot.services.bot import Bot
from storage.db import transaction
from storage.models import AnswerMessageRow, PersonRow
from tests.conftest import EXAMPLE_TEAM
from tests.slack.composer_form import composer_event
from tests.slack.conftest import Workspace, open_workspace, user_id

# A DM with what the demo lacks: a mention, a link and a broadcast, typed the same way on both.
EXTRA = "as 赵磊\n资金安全：风控规则二期方案有变，@李娜 跟进，详见 [方案](https://wiki.example.com/risk) @channel\n\n"
WEEK_SCRIPT = SCRIPT.replace("# 周五 17:00", EXTRA + "# 周五 17:00", 1)


class SlackComposerSession(ConsoleSession):
    """The console's script, but every DM, edit and deletion goes through Slack as the composer sends it."""

    def __init__(self, ws: Workspace, clock: VirtualClock) -> None:
        super().__init__(ws.bot, ConsoleChat(io.StringIO()), clock, io.StringIO(), jobs=DueJobs(ws.bot))
        self.ws = ws
        self.ids = {p.name: user_id(p.id) for p in ws.bot.ctx.team.people}

    def _send(self, text: str, thread: str | None = None) -> None:
        assert self.me is not None
        mrkdwn, blocks = composer_event(text, self.ids)
        ts = self.ws.dm(self.me.id, mrkdwn, blocks=blocks)
        self.ws.settle()
        self._n += 1
        self._sent[f"m{self._n}"] = (self.me.id, ts)

    def _edit(self, mid: str, text: str) -> None:
        ts = self._mine(mid)
        assert ts is not None and self.me is not None
        mrkdwn, blocks = composer_event(text, self.ids)
        self.ws.edit(self.me.id, ts, mrkdwn, blocks=blocks)
        self.ws.settle()

    def _delete(self, mid: str) -> None:
        ts = self._mine(mid)
        assert ts is not None and self.me is not None
        self.ws.delete(self.me.id, ts)
        self.ws.settle()


def _stored(bot: Bot) -> list[tuple[str, str, bool]]:
    """Every answer message as stored: (author, text, deleted), in order."""
    with transaction(bot.ctx.db) as s:
        keys = {pid: key for pid, key in s.execute(select(PersonRow.id, PersonRow.key))}
        return [(keys[r.person_id], r.text, r.deleted_at is not None)
                for r in s.scalars(select(AnswerMessageRow).order_by(AnswerMessageRow.id))]


def _report(bot: Bot) -> str:
    return bot.ctx.renderer.markdown(bot.week_report.compile(IsoWeek.parse(DEMO_WEEK)))


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Bot]:
    clock = VirtualClock(DEMO_START)
    bot = build_bot(load_team(EXAMPLE_TEAM), ConsoleChat(io.StringIO()), clock,
                    database_url=f"sqlite:///{tmp_path / 'console.db'}")
    ConsoleSession(bot, ConsoleChat(io.StringIO()), clock, io.StringIO(), jobs=DueJobs(bot)).run(
        WEEK_SCRIPT.splitlines())
    yield bot
    bot.engine.dispose()


def test_the_week_typed_in_slacks_composer_stores_what_the_console_stores(console: Bot, tmp_path: Path) -> None:
    clock = VirtualClock(DEMO_START)
    with open_workspace(f"sqlite:///{tmp_path / 'slack.db'}", clock) as ws:  # type: ignore[arg-type]
        SlackComposerSession(ws, clock).run(WEEK_SCRIPT.splitlines())
        slack = ws.bot
        stored = _stored(slack)
        assert stored == _stored(console)
        assert any("@李娜 跟进，详见 [方案](https://wiki.example.com/risk) @channel" in t for _, t, _ in stored)
        assert any("\n    - 存量商户资料迁移" in t for _, t, _ in stored), "◦ lines are nested list items"
        assert _report(slack) == _report(console)
        assert clock.now == datetime.fromisoformat("2024-06-28T17:00:00+08:00")
