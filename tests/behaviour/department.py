"""A department served by one process, as `zhoubao run` builds it for a department file without `--team`
(`compose_department`): each team on its own chat app, with the stand-ins the single-team drivers use.

- Slack: the loopback Web API (`tests/slack/stand_in.py`) and signed Events API / slash-command requests
  to the process's HTTP app (`tests.slack.conftest.Workspace`).
- Feishu: the loopback Open API (`tests/feishu/openapi.py`) and encrypted, signed callbacks to
  POST /feishu/events (`tests.feishu.conftest.World`).
- The console: lines typed into a `ConsoleSession` over the console team's bot and the process's console chat.

The clock is one `VirtualClock`; `advance_to` moves it through the process's one scheduler
(`Scheduler.between`): every team's prompt, reminder and publish, and the roll-up, each claimed as a live
fire is.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from bot.adapters.console.chat import ConsoleChat, VirtualClock
from bot.adapters.console.demo import EXAMPLE_DEPARTMENT
from bot.adapters.console.workspace import ConsoleSession
from bot.adapters.feishu.api import Limits, OpenApi
from bot.adapters.slack.limits import Pacer
from bot.domain.department import Department, DepartmentInfo, DepartmentTeam
from bot.domain.team import WeeklyTime
from bot.runtime.composition import (
    ConsoleParts,
    FeishuParts,
    HttpThread,
    Overrides,
    Runtime,
    SlackParts,
    bind,
    compose_department,
)
from bot.runtime.scheduler import SchedulerOptions
from bot.runtime.settings import Settings
from bot.runtime.team_file import parse_team
from bot.services.bot import Bot
from tests.conftest import PATIENCE
from tests.feishu import payloads
from tests.feishu.conftest import World, open_id_of
from tests.feishu.openapi import OpenApiStandIn
from tests.slack.conftest import SECRET, Workspace, user_id
from tests.slack.stand_in import SlackStandIn


def team_file(key: str, *, platform: str | None = None, publish: str | None = None,
              emails: Mapping[str, str] | None = None) -> DepartmentTeam:
    """An example department's team file as its admin would edit it: `team.platform` added, the publish time
    changed, people's emails changed (`emails`: person id -> email, to make one person a member of two teams)."""
    path = EXAMPLE_DEPARTMENT / f"{key}.yaml"
    text = path.read_text(encoding="utf-8")
    if platform is not None:
        text = re.sub(r"(?m)^team:\n", f"team:\n  platform: {platform}\n", text, count=1)
    if publish is not None:
        text = re.sub(r"(?m)^  publish: .*$", f"  publish: {publish}", text, count=1)
    for person, email in (emails or {}).items():
        text = text.replace(f"{person}@example.com", email)
    return DepartmentTeam(key, parse_team(text, path), None)


def department(*teams: DepartmentTeam, platform: str | None = "feishu", publish: str = "fri 18:00") -> Department:
    info = DepartmentInfo(name="支付事业部", report_channel="department-weekly", platform=platform,  # type: ignore[arg-type]
                          publish=WeeklyTime.model_validate(publish))
    return Department(info, teams)


def settings(slack: SlackStandIn, feishu: OpenApiStandIn, database_url: str, spool: Path) -> Settings:
    """Both chat apps configured, as a deployment serving teams on each has them (HTTP transports)."""
    return Settings(_env_file=None, database_url=database_url, spool_dir=spool,  # type: ignore[call-arg]
                    slack_bot_token=SecretStr("xoxb-test"), slack_api_url=slack.url + "/api/",
                    slack_signing_secret=SecretStr(SECRET),
                    feishu_app_id=payloads.APP_ID, feishu_app_secret=SecretStr("secret"), feishu_domain=feishu.url,
                    feishu_event_mode="http", feishu_verification_token=SecretStr(payloads.TOKEN),
                    feishu_encrypt_key=SecretStr(payloads.ENCRYPT_KEY), report_edit_seconds=0.0)


@dataclass
class DepartmentProcess:
    """The one process and what each chat app shows."""

    runtime: Runtime
    department: Department
    clock: VirtualClock
    slack: SlackStandIn
    feishu: OpenApiStandIn
    console_out: io.StringIO
    _http: HttpThread
    _client: httpx.Client
    _tmp: tempfile.TemporaryDirectory[str]

    @classmethod
    def open(cls, dept: Department, database_url: str, start: datetime, *,
             slack_channels: Mapping[str, str], feishu_chats: set[str]) -> DepartmentProcess:
        # One account per email: a person in two teams (the same email in both files) is the first team's id.
        slack_ids: dict[str, str] = {}
        open_ids: dict[str, str] = {}
        for p in (p for t in dept.teams for p in t.team.people if p.email):
            assert p.email is not None
            slack_ids.setdefault(p.email, user_id(p.id))
            open_ids.setdefault(p.email, open_id_of(p.id))
        slack = SlackStandIn(users=slack_ids, channels=dict(slack_channels)).start()
        feishu = OpenApiStandIn(directory=open_ids).start()
        feishu.chats.update(feishu_chats)
        tmp = tempfile.TemporaryDirectory()
        clock = VirtualClock(start)
        out = io.StringIO()
        api = OpenApi(payloads.APP_ID, "secret", domain=feishu.url, limits=Limits(10_000, 10_000, 600_000),
                      sleep=lambda s: None)
        runtime = compose_department(
            settings(slack, feishu, database_url, Path(tmp.name) / "spool"), dept, clock=clock,
            overrides=Overrides(pacer=Pacer(scale=1000), feishu_api=api, feishu_card_wait=PATIENCE,
                                feishu_bot_open_id=feishu.bot_open_id, console_out=out,
                                scheduler=SchedulerOptions()))
        assert runtime.bot.journal is not None
        runtime.bot.journal.start(poll=0.05)  # what `Runtime.start` does first
        http = runtime.serve_alongside(bind(0, "127.0.0.1"))
        client = httpx.Client(base_url=f"http://127.0.0.1:{http.port}", timeout=PATIENCE)
        return cls(runtime, dept, clock, slack, feishu, out, http, client, tmp)

    def close(self) -> None:
        self.settle()
        self._client.close()
        self._http.stop()
        self.runtime.stop()
        self.slack.stop()
        self.feishu.stop()
        self._tmp.cleanup()

    # ----- the teams and their apps ----------------------------------------------------------------

    def bot(self, key: str) -> Bot:
        """Team `key`'s bot in the process."""
        name = self.department.choose(key).team.name
        return next(b for b in self.runtime.bots if b.ctx.team.team.name == name)

    @property
    def slack_app(self) -> Workspace:
        """Signed requests into the process's Slack app."""
        assert isinstance(self.runtime.part(SlackParts), SlackParts)
        return Workspace(self.runtime, self.slack, f"http://127.0.0.1:{self._http.port}", self.clock)  # type: ignore[arg-type]

    def feishu_app(self, key: str) -> World:
        """Sealed, signed callbacks into the process's Feishu app, settled on team `key`'s bot."""
        parts = self.runtime.part(FeishuParts)
        assert parts is not None
        bot = self.bot(key)
        return World(self.feishu, parts.api, parts.gateways[bot.ctx.team_id], bot, parts.events, self._client,
                     self.clock, [], self.runtime)  # type: ignore[arg-type]

    def console(self, key: str) -> ConsoleSession:
        """The console team's session: what its people type, on the process's clock and scheduler."""
        parts = self.runtime.part(ConsoleParts)
        assert parts is not None and self.runtime.scheduler is not None
        return ConsoleSession(self.bot(key), parts.chat, self.clock, io.StringIO(), jobs=self.runtime.scheduler)

    @property
    def console_chat(self) -> ConsoleChat:
        parts = self.runtime.part(ConsoleParts)
        assert parts is not None
        return parts.chat

    def settle(self) -> None:
        """Everything acknowledged is processed and its answers sent (the deadline only bounds a hang)."""
        assert self.runtime.bot.journal is not None and self.runtime.bot.journal.wait_idle(PATIENCE)
        for parts in self.runtime.platforms:
            if isinstance(parts, SlackParts | FeishuParts):
                assert parts.gateway.outbox is None or parts.gateway.outbox.wait_idle(PATIENCE)
            if isinstance(parts, SlackParts):
                assert parts.modals.wait_idle(PATIENCE)
        for bot in self.runtime.bots:
            assert bot.cycle.edits.wait_idle(PATIENCE)

    # ----- the clock -------------------------------------------------------------------------------

    def advance_to(self, when: datetime) -> list[tuple[datetime, str, str]]:
        """Move the clock to `when` through the scheduler: each job it passes runs at its time, in order.
        Returns (time, kind, account) per job run."""
        assert self.runtime.scheduler is not None
        ran = []
        for at, kind, run in self.runtime.scheduler.between(self.clock.now, when):
            self.clock.now = at
            ran.append((at, kind, run()))
            self.settle()
        self.clock.now = when
        return ran

    # ----- what each app shows ---------------------------------------------------------------------

    def slack_posts(self, channel: str) -> list[str]:
        return ["\n".join(b["text"]["text"] for b in m["blocks"] if "text" in b) if m.get("blocks") else m["text"]
                for m in self.slack.messages(self.slack.channel_id(channel))]

    def feishu_posts(self, chat: str) -> list[Any]:
        return self.feishu.sent(to=chat)

    def console_posts(self, channel: str) -> list[str]:
        """What the console printed to `channel` (`── #channel (b…) ──` then the text)."""
        printed = self.console_out.getvalue()
        return [m.group(1).strip() for m in
                re.finditer(rf"── #{re.escape(channel)} \(b\d+\) ──\n(.*?)(?=\n── |\Z)", printed, re.S)]
