"""Feishu's ack path through the journal: malformed callbacks a 4xx or a 200 (no traceback), messages
keyed by message id, a card answered from the journal's worker, what was acknowledged processed after a
restart."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from bot.adapters.feishu.api import Limits, OpenApi
from bot.adapters.feishu.envelope import Keys
from bot.adapters.feishu.events import FeishuEvents
from bot.adapters.feishu.gateway import FeishuGateway
from bot.adapters.feishu.intake import FeishuIntake
from bot.adapters.feishu.people import People
from bot.domain.weeks import IsoWeek
from bot.runtime.composition import build_bot
from bot.runtime.team_file import load_team
from bot.services.bot import Bot
from storage.db import transaction
from storage.models import AnswerMessageRow, JournalRow
from tests.conftest import EXAMPLE_TEAM, PATIENCE
from tests.fakes import FixedClock
from tests.feishu import payloads
from tests.feishu.openapi import OpenApiStandIn

KEYS = Keys(payloads.TOKEN, payloads.ENCRYPT_KEY)


def open_id_of(person_id: str) -> str:
    return f"ou_{person_id}"


@dataclass
class Desk:
    standin: OpenApiStandIn
    bot: Bot
    intake: FeishuIntake
    clock: FixedClock

    def post(self, payload: Any, *, sealed: bool = True) -> tuple[int, dict[str, Any]]:
        body = payloads.seal(payload) if sealed else json.dumps(payload).encode()
        ts = str(int(self.clock.now.timestamp()))
        headers = {k.lower(): v for k, v in payloads.sign(body, ts, uuid.uuid4().hex).items()}
        return self.intake.http(body, headers, KEYS, self.clock.now.timestamp())


def _desk(standin: OpenApiStandIn, database_url: str, clock: FixedClock, *, card_wait: float = PATIENCE) -> Desk:
    team = load_team(EXAMPLE_TEAM)
    api = OpenApi(payloads.APP_ID, "secret", domain=standin.url, limits=Limits(10_000, 10_000, 600_000), sleep=lambda s: None)
    gateway = FeishuGateway(api, People(api, team))
    bot = build_bot(team, gateway, clock, database_url=database_url)
    events = FeishuEvents(bot, gateway, bot_open_id=standin.bot_open_id)
    assert bot.journal is not None
    return Desk(standin, bot, FeishuIntake(bot.journal, events, gateway, card_wait=card_wait), clock)


@pytest.fixture
def standin() -> Iterator[OpenApiStandIn]:
    team = load_team(EXAMPLE_TEAM)
    s = OpenApiStandIn(directory={p.email: open_id_of(p.id) for p in team.people if p.email}).start()
    s.chats.add("weekly-report")
    yield s
    s.stop()


@pytest.fixture
def desk(standin: OpenApiStandIn, database_url: str, clock: FixedClock) -> Iterator[Desk]:
    d = _desk(standin, database_url, clock)
    yield d
    d.bot.engine.dispose()


def _journal(bot: Bot) -> list[JournalRow]:
    with transaction(bot.ctx.db) as s:
        return list(s.scalars(select(JournalRow).order_by(JournalRow.id)))


def _stored(bot: Bot) -> list[str]:
    with transaction(bot.ctx.db) as s:
        return list(s.scalars(select(AnswerMessageRow.source_id).order_by(AnswerMessageRow.id)))


def _with(payload: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**payload, **changes}


# ----- every malformed request is a 4xx or a 200 --------------------------------------------------------

def _malformed(clock: FixedClock) -> list[tuple[str, Any, int]]:
    msg = payloads.message(open_id_of("lina"), "x", clock.now)
    card = payloads.card_action(open_id_of("lina"), {"action": "answer"}, {}, "om_1", clock.now)
    card_string_value = json.loads(json.dumps(card))
    card_string_value["event"]["action"]["value"] = "x"
    return [
        ("a header that is a list", _with(msg, header=[1, 2]), 200),
        ("a card value that is a string", card_string_value, 200),
        ("an event that is null", _with(msg, event=None), 200),
        ("no event id", _with(msg, header={**msg["header"], "event_id": None}), 200),
        ("a message without an id", _with(msg, event={**msg["event"], "message": {"content": "{}"}}), 200),
        ("an unsubscribed event type", _with(msg, header={**msg["header"], "event_type": "im.chat.disbanded_v1"}), 400),
    ]


@pytest.mark.parametrize("row", range(6), ids=["header list", "card value string", "event null", "no event id",
                                                "message without id", "unsubscribed type"])
def test_signed_malformed_callbacks_are_answered_without_a_traceback(
        desk: Desk, clock: FixedClock, caplog: pytest.LogCaptureFixture, row: int) -> None:
    name, payload, expected = _malformed(clock)[row]
    with caplog.at_level(logging.DEBUG):
        status, _ = desk.post(payload)
    assert status == expected, name
    assert not [r for r in caplog.records if r.exc_info], "no traceback"
    if expected == 200:
        assert len([r for r in caplog.records if "acknowledged but not used" in r.getMessage()]) == 1
    assert _journal(desk.bot) == []


@pytest.mark.parametrize(("name", "raw"), [("not JSON", b"{nope"), ("100k-deep nesting", b"[" * 100_000 + b"]" * 100_000),
                                           ("a JSON array", b"[1]")])
def test_garbage_is_refused_with_a_4xx(desk: Desk, caplog: pytest.LogCaptureFixture, name: str, raw: bytes) -> None:
    with caplog.at_level(logging.DEBUG):
        status, _ = desk.intake.http(raw, {}, KEYS, desk.clock.now.timestamp())
    assert 400 <= status < 500
    assert not [r for r in caplog.records if r.exc_info]


# ----- keys and processing --------------------------------------------------------------------------------


def test_a_message_redelivered_under_another_event_id_is_stored_once(desk: Desk) -> None:
    first = payloads.message(open_id_of("zhoujie"), "机房迁移进度 75%", desk.clock.now, message_id="om_same")
    again = _with(first, header={**first["header"], "event_id": "another"})
    assert desk.post(first)[0] == 200 and desk.post(again)[0] == 200
    assert [r.dedupe_key for r in _journal(desk.bot)] == ["message:om_same"]
    assert desk.bot.journal is not None and desk.bot.journal.run_pending() == 1
    assert _stored(desk.bot) == ["om_same"]


def test_a_card_is_answered_by_the_worker(desk: Desk) -> None:
    assert desk.bot.journal is not None
    desk.bot.cycle.send_prompts()
    lina = next(m for m in desk.standin.sent(to=open_id_of("lina"), msg_type="interactive"))
    value = next(e for e in _walk(lina.content) if e.get("tag") == "button")["behaviors"][0]["value"]
    desk.bot.journal.start(poll=0.05)
    try:
        status, answer = desk.post(payloads.card_action(open_id_of("lina"), value, {"item_1": "切量完成"},
                                                         lina.message_id, desk.clock.now))
    finally:
        desk.bot.journal.stop()
    assert status == 200 and answer["toast"]["type"] == "success" and "切量完成" in json.dumps(answer, ensure_ascii=False)


def _prompt_button(desk: Desk, person: str) -> tuple[Any, dict[str, Any]]:
    """The prompt card sent to `person` and the value its submit button carries."""
    desk.bot.cycle.send_prompts()
    card = next(m for m in desk.standin.sent(to=open_id_of(person), msg_type="interactive"))
    return card, next(e for e in _walk(card.content) if e.get("tag") == "button")["behaviors"][0]["value"]


def test_a_card_slower_than_the_wait_gets_a_saving_toast_then_is_patched(
        standin: OpenApiStandIn, database_url: str, clock: FixedClock) -> None:
    """The intake's slow-card path: nobody processes the callback while Feishu waits (the worker is not
    running), so the answer is the "saving" toast; once processed, the card is patched in place."""
    desk = _desk(standin, database_url, clock, card_wait=0.01)  # nothing can be processed meanwhile anyway
    assert desk.bot.journal is not None
    card, value = _prompt_button(desk, "lina")
    status, answer = desk.post(payloads.card_action(open_id_of("lina"), value, {"item_1": "慢慢保存的进展"},
                                                    card.message_id, clock.now))
    assert status == 200 and answer == {"toast": {"type": "info", "content": "正在保存…"}} and card.patches == []
    assert desk.bot.journal.run_pending() == 1
    assert "慢慢保存的进展" in json.dumps(card.current, ensure_ascii=False)  # the card the person sees
    assert "慢慢保存的进展" in desk.bot.ctx.renderer.markdown(desk.bot.week_report.compile(IsoWeek.of(clock.now)))
    desk.bot.engine.dispose()


def test_a_card_acknowledged_before_a_restart_is_patched_by_the_next_process(
        standin: OpenApiStandIn, database_url: str, clock: FixedClock) -> None:
    first = _desk(standin, database_url, clock, card_wait=0.01)
    card, value = _prompt_button(first, "lina")
    status, answer = first.post(payloads.card_action(open_id_of("lina"), value, {"item_1": "重启后保存的进展"},
                                                     card.message_id, clock.now))
    assert status == 200 and answer["toast"]["type"] == "info"
    first.bot.engine.dispose()  # the process dies here: acknowledged, not processed
    second = _desk(standin, database_url, clock)
    assert second.bot.journal is not None
    second.bot.journal.start(poll=0.05)
    try:
        assert second.bot.journal.wait_idle(PATIENCE)
    finally:
        second.bot.journal.stop()
    assert len(card.patches) == 1 and "重启后保存的进展" in json.dumps(card.current, ensure_ascii=False)
    second.bot.engine.dispose()


def test_what_was_acknowledged_is_processed_after_a_restart(standin: OpenApiStandIn, database_url: str,
                                                            clock: FixedClock) -> None:
    first = _desk(standin, database_url, clock)
    for n in range(5):
        assert first.post(payloads.message(open_id_of("zhoujie"), f"机房迁移进度 {n}0%", clock.now,
                                           message_id=f"om_k{n}"))[0] == 200
    second = _desk(standin, database_url, clock)  # the first process died after acknowledging
    assert second.bot.journal is not None
    second.bot.journal.start(poll=0.05)
    try:
        assert second.bot.journal.wait_idle(PATIENCE)
    finally:
        second.bot.journal.stop()
    assert _stored(second.bot) == [f"om_k{n}" for n in range(5)]


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)
