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
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import Clock, SignatureVerifier
from sqlalchemy import select

from bot.adapters.slack.app import ROUTES, build_app, opens_a_modal
from bot.adapters.slack.blocks import Action, Callback
from bot.adapters.slack.gateway import SlackGateway, make_client
from bot.adapters.slack.intake import ModalLane, SlackIntake, classify
from bot.domain.team import Team
from bot.runtime.composition import build_bot
from bot.services.bot import Bot
from bot.services.routing import TeamRouting
from storage.db import transaction
from storage.models import AnswerMessageRow, JournalRow
from tests.conftest import PATIENCE
from tests.fakes import FixedClock
from tests.slack.conftest import user_id
from tests.slack.stand_in import SlackStandIn

SECRET = "intake-secret"


class SetClock(Clock):
    """The verifier's clock (slack_sdk.signature.Clock), set by the test."""

    def __init__(self, now: float) -> None:
        self.at = now

    def now(self) -> float:
        return self.at


@dataclass
class Intake:
    bot: Bot
    intake: SlackIntake
    slack: SlackStandIn
    clock: SetClock

    def post(self, raw: bytes, content_type: str = "application/json", *, sign: bool = True,
             timestamp: str | None = None) -> tuple[int, Any]:
        ts = timestamp if timestamp is not None else str(int(self.clock.now()))
        headers = {"content-type": content_type, "x-slack-request-timestamp": ts}
        if sign:  # Slack's v0 signature over the raw bytes, whatever they are
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
    modals = ModalLane()
    app = build_app(TeamRouting.one(bot, "slack"), {bot.ctx.team_id: gateway}, defer=modals.defer)
    assert bot.journal is not None
    verifier_clock = SetClock(clock.now.timestamp())
    intake = SlackIntake(bot.journal, app, SignatureVerifier(SECRET, clock=verifier_clock), modals)
    return Intake(bot, intake, stand_in, verifier_clock)


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
    # str.isdigit() accepts these, int() does not: a 500 with a traceback before (issue 20 item 5)
    ("a superscript digit as timestamp", b"{}", "application/json", True, "\u00b2"),
    ("superscript digits as timestamp", b"{}", "application/json", True, "\u00b9\u00b2\u00b3"),
    ("Arabic-Indic digits as timestamp", b"{}", "application/json", True, "\u0661\u0662\u0663"),
    ("a timestamp int() would take", b"{}", "application/json", True, " 1_000"),
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


def test_a_signed_body_that_is_not_utf8_is_refused_with_a_400(intake: Intake,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    """Slack sends UTF-8; slack_sdk's verifier would raise decoding anything else, so it never gets there."""
    with caplog.at_level(logging.DEBUG):
        status, _ = intake.post(b"\xff\xfe{}")
    assert status == 400
    assert not [r for r in caplog.records if r.exc_info], "no traceback"
    assert _journal(intake.bot) == []


def test_the_timestamp_window_is_five_minutes_on_the_verifiers_clock(intake: Intake) -> None:
    """Signed at the verifier's time, a request is taken up to 300 s later and refused after
    (https://docs.slack.dev/authentication/verifying-requests-from-slack/: "more than five minutes")."""
    signed_at = str(int(intake.clock.now()))
    body = _event_body(_dm("zhoujie", "机房迁移：进度 10%", f"{signed_at}.000100"))
    intake.clock.at += 300
    assert intake.post(body, timestamp=signed_at)[0] == 200
    intake.clock.at += 1
    assert intake.post(body, timestamp=signed_at)[0] == 401
    assert [r.dedupe_key for r in _journal(intake.bot)] == [f"message:DZHOUJIE:{signed_at}.000100"]


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
    base = int(clock.now.timestamp())
    for n in range(5):
        assert first.event(_dm("zhoujie", f"机房迁移：进度 {n}0%", f"{base}.{n:06d}"), f"Ev{n}")[0] == 200
    # the process dies here: acknowledged, not processed
    second = _build(team, stand_in, database_url, clock)
    assert second.bot.journal is not None
    second.bot.journal.start(poll=0.05)
    try:
        assert second.bot.journal.wait_idle(PATIENCE)
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

    from bot.runtime import body_deadline

    monkeypatch.setattr(body_deadline, "BODY_SECONDS", 0.3)  # production waits 10 s for the rest of a body
    where = urlparse(workspace.base)
    with socket.create_connection((where.hostname, where.port), timeout=10) as conn:
        conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: " + length.encode() + b"\r\n\r\n" + sent)
        answer = conn.recv(200)
    assert answer.split(b" ")[1] == status, answer


# ----- which requests open a modal now: one table for the intake and the app ------------------------------

def _command(name: str, text: str) -> dict[str, Any]:
    return {"command": name, "text": text, "user_id": user_id("zhoujie"), "trigger_id": f"trig-{name}-{text}",
            "response_url": "http://127.0.0.1:9/respond"}


def _click(action_id: str, value: str = "") -> dict[str, Any]:
    return {"type": "block_actions", "user": {"id": user_id("zhoujie")}, "trigger_id": f"trig-{action_id}",
            "actions": [{"action_id": action_id, "value": value, "action_ts": "1.2"}]}


MODAL_LANE = [  # (name, request, opens a modal now?)
    ("/incident alone opens the incident form", _command("/incident", ""), True),
    ("/incident with text files it", _command("/incident", "06/26 09:12 order-api 节点OOM"), False),
    ("/zhoubao answer opens the answer form", _command("/zhoubao", "answer"), True),
    ("/zhoubao answer <week> opens the answer form", _command("/zhoubao", "answer 2024-W25"), True),
    ("/zhoubao status answers in text", _command("/zhoubao", "status"), False),
    ("the answer button", _click(Action.ANSWER.value, "2024-W26"), True),
    ("an incident's edit button", _click(Action.INCIDENT_EDIT.value, "1"), True),
    ("the incident question's file button", _click(Action.QUESTION_FILE.value, "2024-W26"), True),
    ("the incident question's nothing-to-add button", _click(Action.QUESTION_NONE.value, "2024-W26"), False),
    ("an unknown button", _click("someone_elses_button"), False),
    ("a form submission", {"type": "view_submission", "user": {"id": "U1"}, "trigger_id": "t",
                           "view": {"type": "modal", "id": "V1", "callback_id": Callback.ANSWER_FORM.value}}, False),
    ("a DM", {"type": "event_callback", "event_id": "Ev1", "event": _dm("lina", "x", "1.2")}, False),
]


@pytest.mark.parametrize(("name", "body", "opens"), MODAL_LANE, ids=[r[0] for r in MODAL_LANE])
def test_which_requests_open_a_modal_now(name: str, body: dict[str, Any], opens: bool) -> None:
    assert opens_a_modal(body) is opens


def test_every_route_is_registered_with_bolt_once(intake: Intake) -> None:
    """The app listens to exactly what `ROUTES` lists (one Bolt listener per route)."""
    assert len(intake.intake.app.bolt._listeners) == len(ROUTES) == len({(r.kind, r.name) for r in ROUTES})


@pytest.mark.parametrize(("name", "body"), [
    ("/incident alone", _command("/incident", "")),
    ("the incident question's file button", _click(Action.QUESTION_FILE.value, "2024-W26")),
], ids=["/incident alone", "question file button"])
def test_a_request_that_opens_a_modal_does_not_wait_for_the_journal(intake: Intake, name: str,
                                                                   body: dict[str, Any]) -> None:
    """Nothing processes the journal here (its worker is not running), yet the modal opens: the request
    ran on the modal lane, and was not journaled (it stores nothing; what the modal submits is)."""
    raw = urlencode(body if "command" in body else {"payload": json.dumps(body)}).encode()
    assert intake.post(raw, "application/x-www-form-urlencoded")[0] == 200
    assert intake.intake.modals.wait_idle(120)
    opened = intake.slack.of("views.open")
    assert [c.args["trigger_id"] for c in opened] == [body["trigger_id"]]
    assert opened[0].args["view"]["callback_id"] == Callback.INCIDENT_FORM.value
    assert _journal(intake.bot) == []
