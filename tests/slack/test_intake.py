"""Slack's ack path through the journal: signed before parsed, every malformed request a 4xx or a 200
(no traceback), keys that match Slack's guarantees, and what was acknowledged processed after a restart."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from bot.adapters.slack.app import build_app
from bot.adapters.slack.gateway import SlackGateway, make_client
from bot.adapters.slack.intake import SlackIntake, classify
from bot.domain.team import Team
from bot.runtime.composition import build_bot
from bot.services.bot import Bot
from storage.db import transaction
from storage.models import AnswerMessageRow, JournalRow
from tests.conftest import PATIENCE
from tests.fakes import FixedClock
from tests.slack.conftest import user_id
from tests.slack.stand_in import SlackStandIn

SECRET = "intake-secret"


class Inline:
    """Runs listener work at once: the journal's worker is already off the ack path."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


@dataclass
class Intake:
    bot: Bot
    intake: SlackIntake
    slack: SlackStandIn

    def post(self, raw: bytes, content_type: str = "application/json", *, sign: bool = True,
             timestamp: str | None = None) -> tuple[int, Any]:
        ts = timestamp if timestamp is not None else str(int(time.time()))
        headers = {"content-type": content_type, "x-slack-request-timestamp": ts}
        if sign:
            mac = hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256).hexdigest()
            headers["x-slack-signature"] = "v0=" + mac
        return self.intake.http(raw, headers)

    def event(self, event: dict[str, Any], event_id: str) -> tuple[int, Any]:
        body = {"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event_id": event_id,
                "event": event, "event_time": int(time.time())}
        return self.post(json.dumps(body).encode())


def _build(team: Team, stand_in: SlackStandIn, database_url: str, clock: FixedClock) -> Intake:
    gateway = SlackGateway(make_client("xoxb-test", stand_in.url + "/api/"), team)
    bot = build_bot(team, gateway, clock, database_url=database_url)
    app = build_app(bot, gateway, signing_secret=SECRET, workers=Inline())  # type: ignore[arg-type]
    assert bot.journal is not None
    return Intake(bot, SlackIntake(bot.journal, app, SECRET), stand_in)


@pytest.fixture
def intake(team: Team, stand_in: SlackStandIn, database_url: str, clock: FixedClock) -> Iterator[Intake]:
    it = _build(team, stand_in, database_url, clock)
    yield it
    it.bot.engine.dispose()


def _dm(person: str, text: str, ts: str, channel: str | None = None) -> dict[str, Any]:
    return {"type": "message", "channel": channel or "D" + person.upper(), "channel_type": "im",
            "user": user_id(person), "text": text, "ts": ts, "event_ts": ts}


def _stored(bot: Bot) -> list[str]:
    with transaction(bot.ctx.db) as s:
        return list(s.scalars(select(AnswerMessageRow.source_id).order_by(AnswerMessageRow.id)))


def _journal(bot: Bot) -> list[JournalRow]:
    with transaction(bot.ctx.db) as s:
        return list(s.scalars(select(JournalRow).order_by(JournalRow.id)))


# ----- every malformed request is a 4xx or a 200, never a 500 -------------------------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000

UNSIGNED = [  # (name, raw body, content type, signed?, timestamp) -> refused before any parsing
    ("invalid JSON", b"{not json", "application/json", False, None),
    ("a JSON array", b"[1, 2]", "application/json", False, None),
    ("invalid UTF-8", b"\xff\xfe{\"type\": 1}", "application/json", False, None),
    ("100k-deep nesting", DEEP, "application/json", False, None),
    ("non-numeric timestamp", b"{}", "application/json", True, "12abc"),
    ("stale timestamp", b"{}", "application/json", True, "1000"),
]


@pytest.mark.parametrize(("name", "raw", "ctype", "signed", "ts"), UNSIGNED, ids=[r[0] for r in UNSIGNED])
def test_unsigned_or_stale_requests_are_refused_before_parsing(
        intake: Intake, caplog: pytest.LogCaptureFixture, name: str, raw: bytes, ctype: str, signed: bool,
        ts: str | None) -> None:
    with caplog.at_level(logging.DEBUG):
        status, _ = intake.post(raw, ctype, sign=signed, timestamp=ts)
    assert status == 401
    assert not [r for r in caplog.records if r.exc_info], "no traceback"
    assert _journal(intake.bot) == []


def _event_body(event: Any) -> bytes:
    return json.dumps({"type": "event_callback", "event_id": "EvX", "event": event}).encode()


SIGNED_MALFORMED = [  # (name, raw body, content type) -> acknowledged, logged once, nothing journaled
    ("invalid JSON", b"{not json", "application/json"),
    ("a JSON array", b"[1, 2]", "application/json"),
    ("invalid UTF-8", b"\xff\xfe{}", "application/json"),
    ("100k-deep nesting", DEEP, "application/json"),
    ('"event": null', _event_body(None), "application/json"),
    ('"actions": "x"', urlencode({"payload": json.dumps({"type": "block_actions", "actions": "x",
                                                           "user": {"id": "U1"}, "trigger_id": "t"})}).encode(),
     "application/x-www-form-urlencoded"),
    ("a view without type", urlencode({"payload": json.dumps({"type": "view_submission", "view": {"id": "V1"},
                                                                "user": {"id": "U1"}, "trigger_id": "t"})}).encode(),
     "application/x-www-form-urlencoded"),
    ("unknown request type", b'{"type": "nothing_slack_sends"}', "application/json"),
]


@pytest.mark.parametrize(("name", "raw", "ctype"), SIGNED_MALFORMED, ids=[r[0] for r in SIGNED_MALFORMED])
def test_signed_malformed_requests_are_acknowledged_and_logged_once(
        intake: Intake, caplog: pytest.LogCaptureFixture, name: str, raw: bytes, ctype: str) -> None:
    with caplog.at_level(logging.DEBUG):
        status, _ = intake.post(raw, ctype)
    assert status == 200  # Slack stops retrying
    assert not [r for r in caplog.records if r.exc_info], "no traceback"
    assert len([r for r in caplog.records if "acknowledged but not used" in r.getMessage()]) == 1
    assert _journal(intake.bot) == []


def test_url_verification_is_answered(intake: Intake) -> None:
    assert intake.post(b'{"type": "url_verification", "challenge": "c-1"}') == (200, {"challenge": "c-1"})


# ----- keys that match Slack's guarantees --------------------------------------------------------------


def test_the_same_ts_in_two_dm_channels_is_two_messages(intake: Intake) -> None:
    ts = f"{int(time.time())}.000100"
    assert intake.event(_dm("zhoujie", "机房迁移：进度 10%", ts), "Ev1")[0] == 200
    assert intake.event(_dm("lina", "商户入网：切量 20%", ts), "Ev2")[0] == 200
    assert intake.event(_dm("lina", "商户入网：切量 20%", ts), "Ev2")[0] == 200  # Slack's retry
    assert intake.bot.journal is not None and intake.bot.journal.run_pending() == 2
    assert _stored(intake.bot) == [f"DZHOUJIE:{ts}", f"DLINA:{ts}"]


def test_keys() -> None:
    dm = _dm("lina", "x", "1.2")
    assert classify({"type": "event_callback", "event_id": "Ev9", "event": dm}).key == "message:DLINA:1.2"
    assert classify({"type": "event_callback", "event_id": "Ev9",
                     "event": {"type": "app_home_opened"}}).key == "event:Ev9"
    assert classify({"command": "/incident", "trigger_id": "t7"}).key == "command:t7"


# ----- acknowledged means processed, also after a restart ------------------------------------------------


def test_what_was_acknowledged_is_processed_after_a_restart(team: Team, stand_in: SlackStandIn, database_url: str,
                                                            clock: FixedClock) -> None:
    first = _build(team, stand_in, database_url, clock)
    base = int(time.time())
    for n in range(5):
        assert first.event(_dm("zhoujie", f"机房迁移：进度 {n}0%", f"{base}.{n:06d}"), f"Ev{n}")[0] == 200
    # the process dies here: acknowledged, not processed
    second = _build(team, stand_in, database_url, clock)
    assert second.bot.journal is not None
    second.bot.journal.start(poll=0.05)
    try:
        assert second.bot.journal.wait_idle()
    finally:
        second.bot.journal.stop()
    assert _stored(second.bot) == [f"DZHOUJIE:{base}.{n:06d}" for n in range(5)]
    assert all(r.processed_at is not None for r in _journal(second.bot))


def test_storing_a_burst_does_not_wait_for_the_replies(workspace: Any) -> None:
    """Inbound never waits behind outbound: with Slack holding back every chat.postMessage, a burst
    from one person is stored in full; the answers follow once Slack lets them through."""
    ws = workspace
    ws.slack.hold = threading.Event()
    try:
        base = int(time.time())
        for n in range(20):
            ws.dm("zhoujie", f"机房迁移：进度 {n}%", ts=f"{base}.{n:06d}")
        assert ws.bot.journal.wait_idle(PATIENCE)  # all processed while no reply could be sent
        assert len(_stored(ws.bot)) == 20 and ws.replies_to("zhoujie") == []
    finally:
        ws.slack.hold.set()
    ws.settle()
    assert len(ws.replies_to("zhoujie")) == 20


@pytest.mark.parametrize(("length", "sent", "status"), [("1000", b"{}", b"408"), ("-1", b"{}", b"400")],
                         ids=["Content-Length larger than the body", "negative Content-Length"])
def test_a_lying_content_length_cannot_hold_the_request(workspace: Any, monkeypatch: pytest.MonkeyPatch,
                                                         length: str, sent: bytes, status: bytes) -> None:
    import socket
    from urllib.parse import urlparse

    from bot.adapters.slack import transports

    monkeypatch.setattr(transports, "READ_TIMEOUT", 0.3)  # production waits 10 s for the rest of a body
    where = urlparse(workspace.base)
    with socket.create_connection((where.hostname, where.port), timeout=10) as conn:
        conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: " + length.encode() + b"\r\n\r\n" + sent)
        answer = conn.recv(200)
    assert answer.split(b" ")[1] == status, answer
