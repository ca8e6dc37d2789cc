"""A Feishu workspace in a test: the loopback Open API, the gateway over lark-oapi, the bot, the HTTP endpoint."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from bot.adapters.feishu.api import Limits, OpenApi
from bot.adapters.feishu.envelope import Keys
from bot.adapters.feishu.events import FeishuEvents, InlineRunner
from bot.adapters.feishu.gateway import FeishuGateway
from bot.adapters.feishu.people import People
from bot.adapters.feishu.transports import EVENTS_PATH, http_server, wsgi_app
from bot.domain.team import Team
from bot.runtime.composition import build_bot
from bot.runtime.team_file import load_team
from bot.services.bot import Bot
from tests.conftest import EXAMPLE_TEAM
from tests.fakes import FixedClock
from tests.feishu import payloads
from tests.feishu.openapi import OpenApiStandIn

CHANNEL = "weekly-report"


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

    @property
    def team(self) -> Team:
        return self.bot.ctx.team

    def post(self, payload: dict[str, Any], *, signed: bool = True, encrypted: bool = True,
             age: float = 0.0, key: str = payloads.ENCRYPT_KEY) -> Any:
        """Send one event to POST /feishu/events as Feishu does (sealed, signed, timestamped now)."""
        body = payloads.seal(payload, key) if encrypted else json.dumps(payload).encode()
        ts = str(int(self.clock.now.timestamp() - age))
        headers = payloads.sign(body, ts, uuid.uuid4().hex, key) if signed else {"X-Lark-Request-Timestamp": ts}
        return self.http.post(EVENTS_PATH, content=body, headers={"Content-Type": "application/json", **headers})

    def prompt_to(self, person_id: str) -> Any:
        cards = [m for m in self.standin.sent(to=open_id_of(person_id), msg_type="interactive")
                 if any(e.get("tag") == "form" for e in m.content["body"]["elements"])]
        return cards[-1]

    def replies_to(self, message_id: str) -> list[str]:
        return [json.loads(json.dumps(m.content)).get("text", "") for m in self.standin.messages.values()
                if m.reply_to == message_id]


@contextmanager
def open_world(database_url: str, clock: FixedClock) -> Iterator[World]:
    """The example team on Feishu: the loopback Open API, the bot, the HTTP endpoint; closed on exit."""
    team = load_team(EXAMPLE_TEAM)
    standin = OpenApiStandIn(directory={p.email: open_id_of(p.id) for p in team.people if p.email}).start()
    standin.chats.add(CHANNEL)
    sleeps: list[float] = []
    api = OpenApi(payloads.APP_ID, "secret", domain=standin.url, limits=Limits(10_000, 10_000),
                  sleep=sleeps.append)
    gateway = FeishuGateway(api, People(api, team))
    bot = build_bot(team, gateway, clock, database_url=database_url)
    events = FeishuEvents(bot, gateway, runner=InlineRunner(), bot_open_id=standin.bot_open_id)
    app = wsgi_app(events, Keys(payloads.TOKEN, payloads.ENCRYPT_KEY), clock=lambda: clock.now.timestamp())
    server = http_server(app, 0, host="127.0.0.1")
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.server_address[1]}", timeout=10) as http:
            yield World(standin, api, gateway, bot, events, http, clock, sleeps)
    finally:
        server.shutdown()
        server.server_close()
        bot.engine.dispose()
        standin.stop()


@pytest.fixture
def world(database_url: str, clock: FixedClock) -> Iterator[World]:
    with open_world(database_url, clock) as w:
        yield w
