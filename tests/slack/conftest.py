"""A Slack workspace in a box: the process as the composition root builds it, its HTTP app served by
uvicorn on a loopback port, a loopback Web API, signed requests."""

from __future__ import annotations

import itertools
import json
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier

from bot.adapters.slack.app import SlackApp
from bot.adapters.slack.limits import Pacer
from bot.domain.team import Team
from bot.runtime.composition import HttpThread, Overrides, Runtime, SlackParts, bind, compose
from bot.runtime.settings import Settings
from bot.runtime.team_file import load_team
from tests.conftest import EXAMPLE_TEAM, PATIENCE
from tests.fakes import FixedClock
from tests.slack.stand_in import SlackStandIn

SECRET = "test-signing-secret"


def user_id(person_id: str) -> str:
    return "U" + person_id.upper()


@pytest.fixture
def team() -> Team:
    return load_team(EXAMPLE_TEAM)


@pytest.fixture
def stand_in(team: Team) -> Iterator[SlackStandIn]:
    s = SlackStandIn(users={p.email: user_id(p.id) for p in team.people if p.email}).start()
    yield s
    s.stop()


@dataclass
class Workspace:
    """The bot as Slack sees it: send it what Slack would send, read what it posted."""

    runtime: Runtime
    slack: SlackStandIn
    base: str  # http://127.0.0.1:<port>
    clock: FixedClock
    _n: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def bot(self) -> Any:
        return self.runtime.bot

    @property
    def parts(self) -> SlackParts:
        assert isinstance(self.runtime.platform, SlackParts)
        return self.runtime.platform

    @property
    def app(self) -> SlackApp:
        return self.parts.app

    @property
    def url(self) -> str:
        return f"{self.base}/slack/events"

    def settle(self) -> None:
        """Wait until every acknowledged request has been processed (journaled ones by the journal's
        worker, modals on their lane) and its answers sent. The deadline only bounds a hang."""
        assert self.runtime.bot.journal is not None and self.runtime.bot.journal.wait_idle(PATIENCE)
        assert self.parts.modals.wait_idle(PATIENCE)
        assert self.parts.gateway.outbox is None or self.parts.gateway.outbox.wait_idle(PATIENCE)
        assert self.runtime.bot.cycle.edits.wait_idle(PATIENCE)  # the post edited after late answers

    # ----- signed requests ---------------------------------------------------------------------------

    def post(self, body: str, content_type: str, *, timestamp: int | None = None, secret: str = SECRET,
             headers: dict[str, str] | None = None) -> tuple[int, str, float]:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
        req = urllib.request.Request(self.url, data=body.encode("utf-8"), method="POST", headers={
            "Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature,
            **(headers or {})})
        start = time.perf_counter()
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read().decode("utf-8"), time.perf_counter() - start
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8"), time.perf_counter() - start

    def event(self, event: dict[str, Any], *, event_id: str | None = None,
              headers: dict[str, str] | None = None) -> int:
        body = {"token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback", "event": event,
                "event_id": event_id or f"Ev{next(self._n):06d}", "event_time": int(time.time()),
                "authorizations": [{"user_id": "UBOT", "is_bot": True, "team_id": "T1"}]}
        status, _, _ = self.post(json.dumps(body), "application/json", headers=headers)
        return status

    def command(self, name: str, user: str, text: str) -> tuple[int, str]:
        n = next(self._n)
        self.slack.triggers[f"trig{n}"] = time.monotonic()  # Slack issues the trigger as it sends this
        form = {"token": "x", "team_id": "T1", "channel_id": "C0REPORT", "user_id": user, "command": name,
                "text": text, "api_app_id": "A1", "trigger_id": f"trig{n}",
                "response_url": f"{self.slack.url}/respond/{n}"}
        status, body, _ = self.post(urlencode(form), "application/x-www-form-urlencoded")
        return status, body

    def interactive(self, payload: dict[str, Any]) -> int:
        if payload.get("trigger_id"):
            self.slack.triggers[str(payload["trigger_id"])] = time.monotonic()
        status, _, _ = self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")
        return status

    # ----- what a person does ---------------------------------------------------------------------------

    def ts(self, at: datetime | None = None) -> str:
        """A message ts at the clock's time (unique)."""
        return f"{(at or self.clock.now).timestamp():.0f}.{next(self._n):06d}"

    def dm(self, person: str, text: str, *, thread_ts: str | None = None, ts: str | None = None,
           blocks: list[dict[str, Any]] | None = None) -> str:
        ts = ts or self.ts()
        event: dict[str, Any] = {"type": "message", "channel": "D" + person.upper(), "channel_type": "im",
                                 "user": user_id(person), "text": text, "ts": ts, "event_ts": ts}
        if blocks is not None:  # what Slack's composer sends beside `text` (tests/slack/composer_form.py)
            event["blocks"] = blocks
        if thread_ts:
            event["thread_ts"] = thread_ts
        assert self.event(event) == 200
        return ts

    def edit(self, person: str, ts: str, text: str, *, blocks: list[dict[str, Any]] | None = None) -> None:
        now = self.ts()
        message: dict[str, Any] = {"type": "message", "user": user_id(person), "text": text, "ts": ts,
                                   "edited": {"user": user_id(person), "ts": now}}
        if blocks is not None:
            message["blocks"] = blocks
        assert self.event({"type": "message", "subtype": "message_changed", "channel": "D" + person.upper(),
                           "channel_type": "im", "hidden": True, "ts": now, "event_ts": now,
                           "message": message,
                           "previous_message": {"type": "message", "user": user_id(person), "ts": ts}}) == 200

    def delete(self, person: str, ts: str) -> None:
        now = self.ts()
        assert self.event({"type": "message", "subtype": "message_deleted", "channel": "D" + person.upper(),
                           "channel_type": "im", "hidden": True, "ts": now, "event_ts": now, "deleted_ts": ts,
                           "previous_message": {"type": "message", "user": user_id(person), "ts": ts,
                                                "text": "…"}}) == 200

    def replies_to(self, person: str) -> list[str]:
        """The text of every message the bot posted in a person's DM, oldest first."""
        return [m["text"] for m in self.slack.messages("D" + person.upper())]


def slack_settings(stand_in: SlackStandIn, database_url: str, spool_dir: Path, **settings: Any) -> Settings:
    """Settings as an HTTP-mode deployment has them, pointed at the stand-in."""
    # Late answers edit the post as soon as the previous edit is done (a test about pacing sets its own).
    values: dict[str, Any] = {"slack_signing_secret": SecretStr(SECRET), "report_edit_seconds": 0.0, **settings}
    return Settings(_env_file=None, slack_bot_token=SecretStr("xoxb-test"),  # type: ignore[call-arg]
                    slack_api_url=stand_in.url + "/api/", database_url=database_url, spool_dir=spool_dir, **values)


def make_workspace(team: Team, stand_in: SlackStandIn, database_url: str, clock: FixedClock, spool_dir: Path,
                   overrides: Overrides | None = None, **settings: Any) -> tuple[Workspace, HttpThread]:
    """The process `zhoubao run` builds (not started: no scheduler thread), its HTTP app on a loopback port."""
    config = slack_settings(stand_in, database_url, spool_dir, **settings)
    runtime = compose(config, team, clock=clock, overrides=overrides or Overrides(pacer=Pacer(scale=1000)))
    assert runtime.bot.journal is not None
    runtime.bot.journal.start(poll=0.05)  # what `Runtime.start` does first: acked requests get processed
    http = runtime.serve_alongside(bind(0, "127.0.0.1"))
    return Workspace(runtime, stand_in, f"http://127.0.0.1:{http.port}", clock), http


@contextmanager
def open_workspace(database_url: str, clock: FixedClock) -> Iterator[Workspace]:
    """The example team on Slack (the real Bolt app over HTTP, the loopback Web API); closed on exit."""
    team = load_team(EXAMPLE_TEAM)
    stand_in = SlackStandIn(users={p.email: user_id(p.id) for p in team.people if p.email}).start()
    with tempfile.TemporaryDirectory() as spool:
        ws, http = make_workspace(team, stand_in, database_url, clock, Path(spool))
        try:
            yield ws
        finally:
            ws.settle()
            http.stop()
            ws.runtime.stop()
            stand_in.stop()


@pytest.fixture
def workspace(team: Team, stand_in: SlackStandIn, database_url: str, clock: FixedClock,
              tmp_path: Path) -> Iterator[Workspace]:
    ws, http = make_workspace(team, stand_in, database_url, clock, tmp_path / "spool")
    yield ws
    ws.settle()
    http.stop()
    ws.runtime.stop()
