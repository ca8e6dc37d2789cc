"""A Feishu workspace in a test: the loopback Open API, and the process the composition root builds
(gateway over lark-oapi, bot, dispatcher) with its HTTP app served by uvicorn on a loopback port."""

from __future__ import annotations

import asyncio
import json
import tempfile
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.adapters.feishu.api import Limits, OpenApi
from bot.adapters.feishu.events import FeishuEvents
from bot.adapters.feishu.gateway import FeishuGateway
from bot.adapters.feishu.transports import EVENTS_PATH
from bot.domain.team import Team
from bot.runtime.composition import FeishuParts, Overrides, Runtime, bind, compose
from bot.runtime.settings import Settings
from bot.runtime.team_file import load_team
from bot.services.bot import Bot
from tests.conftest import EXAMPLE_TEAM, PATIENCE
from tests.fakes import FixedClock
from tests.feishu import payloads
from tests.feishu.openapi import OpenApiStandIn

CHANNEL = "weekly-report"
# How long a card callback waits for its new card here: it returns as soon as the worker has processed
# it, so this only bounds a hang on a loaded machine (production waits 2 s, within Feishu's 3 s).


def run_frame(handling: Coroutine[Any, Any, None]) -> None:
    """Run lark-oapi's `ws.Client._handle_data_frame(frame)` to the end, as `ws.Client.start()` runs it on a
    loop of its own: here on a thread and a loop of their own, since this test process's main thread may hold
    a running loop already (Playwright's sync API keeps one once a browser test has run in the process)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, handling).result()


def open_id_of(person_id: str) -> str:
    return f"ou_{person_id}"


@dataclass
class World:
    standin: OpenApiStandIn
    api: OpenApi
    gateway: FeishuGateway
    bot: Bot
    events: FeishuEvents
    http: httpx.Client
    clock: FixedClock
    sleeps: list[float]
    runtime: Runtime

    @property
    def team(self) -> Team:
        return self.bot.ctx.team

    def post(self, payload: dict[str, Any], *, signed: bool = True, encrypted: bool = True,
             age: float = 0.0, key: str = payloads.ENCRYPT_KEY) -> Any:
        """Send one event to POST /feishu/events as Feishu does (sealed, signed, timestamped now)."""
        body = payloads.seal(payload, key) if encrypted else json.dumps(payload).encode()
        ts = str(int(self.clock.now.timestamp() - age))
        headers = payloads.sign(body, ts, uuid.uuid4().hex, key) if signed else {"X-Lark-Request-Timestamp": ts}
        resp = self.http.post(EVENTS_PATH, content=body, headers={"Content-Type": "application/json", **headers})
        self.settle()
        return resp

    def settle(self) -> None:
        """Wait until the journal's worker has processed everything acknowledged so far, and its answers are
        sent. The deadline only bounds a hang: a loaded machine takes what it takes."""
        assert self.bot.journal is not None and self.bot.journal.wait_idle(PATIENCE)
        assert self.gateway.outbox is None or self.gateway.outbox.wait_idle(PATIENCE)
        assert self.bot.cycle.edits.wait_idle(PATIENCE)  # the post edited after late answers

    def prompt_to(self, person_id: str) -> Any:
        cards = [m for m in self.standin.sent(to=open_id_of(person_id), msg_type="interactive")
                 if any(e.get("tag") == "form" for e in m.content["body"]["elements"])]
        return cards[-1]

    def replies_to(self, message_id: str) -> list[str]:
        return [json.loads(json.dumps(m.content)).get("text", "") for m in self.standin.messages.values()
                if m.reply_to == message_id]


def feishu_settings(standin: OpenApiStandIn, database_url: str, spool_dir: Path, **settings: Any) -> Settings:
    """Settings as an HTTP-callback deployment has them, pointed at the stand-in."""
    values: dict[str, Any] = {"feishu_event_mode": "http", "feishu_verification_token": SecretStr(payloads.TOKEN),
                              "feishu_encrypt_key": SecretStr(payloads.ENCRYPT_KEY), "report_edit_seconds": 0.0,
                              **settings}
    return Settings(_env_file=None, feishu_app_id=payloads.APP_ID, feishu_app_secret=SecretStr("secret"),  # type: ignore[call-arg]
                    feishu_domain=standin.url, database_url=database_url, spool_dir=spool_dir, **values)


@contextmanager
def open_world(database_url: str, clock: FixedClock, tmp_path: Path | None = None,
               team: Team | None = None, **settings: Any) -> Iterator[World]:
    """A team's bot on Feishu (the example team unless told): the loopback Open API, the composed runtime,
    its HTTP app. `settings` are further `Settings` fields (a `team_file`, say)."""
    if tmp_path is None:
        with tempfile.TemporaryDirectory() as tmp:
            with open_world(database_url, clock, Path(tmp), team, **settings) as world:
                yield world
        return
    team = team or load_team(EXAMPLE_TEAM)
    standin = OpenApiStandIn(directory={p.email: open_id_of(p.id) for p in team.people if p.email}).start()
    standin.chats.add(CHANNEL)
    sleeps: list[float] = []
    api = OpenApi(payloads.APP_ID, "secret", domain=standin.url, limits=Limits(10_000, 10_000, 600_000),
                  sleep=sleeps.append)
    runtime = compose(feishu_settings(standin, database_url, tmp_path / "spool", **settings), team, clock=clock,
                      overrides=Overrides(feishu_api=api, feishu_card_wait=PATIENCE,
                                          feishu_bot_open_id=standin.bot_open_id))
    parts = runtime.platform
    assert isinstance(parts, FeishuParts)
    assert runtime.bot.journal is not None
    runtime.bot.journal.start(poll=0.05)  # what `Runtime.start` does first: acked events get processed
    http = runtime.serve_alongside(bind(0, "127.0.0.1"))
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{http.port}", timeout=PATIENCE) as client:
            yield World(standin, api, parts.gateway, runtime.bot, parts.events, client, clock, sleeps, runtime)
    finally:
        http.stop()
        runtime.stop()
        standin.stop()


@pytest.fixture
def team() -> Team:
    return load_team(EXAMPLE_TEAM)


@pytest.fixture
def world(database_url: str, clock: FixedClock, tmp_path: Path, team: Team) -> Iterator[World]:
    with open_world(database_url, clock, tmp_path, team) as w:
        yield w
