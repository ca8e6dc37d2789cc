"""Signed but malformed Feishu payloads (issue 20 item 7): each is acknowledged (200, so Feishu stops
redelivering), logged once as one line naming its event id and the reason, and changes nothing; no
traceback. Sent sealed and signed through the real HTTP callback, as a hostile probe sent them.

What a well-formed payload looks like is in `tests/feishu/payloads.py` and the lark-oapi models cited by
`bot/adapters/feishu/payloads.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from bot.adapters.feishu import cards
from tests.feishu import payloads
from tests.feishu.conftest import World, open_id_of
from tests.stored_rows import row_counts

LINA = open_id_of("lina")


def _message(change: Callable[[dict[str, Any]], None]) -> Callable[[datetime, str], dict[str, Any]]:
    def build(at: datetime, event_id: str) -> dict[str, Any]:
        payload = payloads.message(LINA, "[2] 切量完成", at, event_id=event_id)
        change(payload["event"])
        return payload
    return build


def _card_answer(at: datetime, event_id: str) -> dict[str, Any]:
    return payloads.card_action(LINA, {"action": cards.Action.ANSWER.value, "items": 5, "week": "2024-W26"},
                                {"item_1": "切量完成"}, "om_card", at, event_id=event_id)


def _menu(at: datetime, event_id: str) -> dict[str, Any]:
    payload = payloads.menu(LINA, cards.MenuKey.FILL, at)
    payload["header"]["event_id"] = event_id
    payload["event"]["operator"] = "x"
    return payload


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[datetime, str], dict[str, Any]]  # (now, event id) -> the opened payload
    field: str  # the field the reason must name


CASES = [
    Case("create_time 1e30", _message(lambda e: e["message"].update(create_time=1e30)), "create_time"),
    Case("root_id an object", _message(lambda e: e["message"].update(root_id={"id": "om_1"})), "root_id"),
    Case("sender_id a string", _message(lambda e: e["sender"].update(sender_id="ou_lina")), "sender_id"),
    Case("a card answer with items: 5", _card_answer, "items"),
    Case("a menu event with operator 'x'", _menu, "operator"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_signed_malformed_payload_is_acknowledged_logged_once_and_changes_nothing(
        world: World, caplog: pytest.LogCaptureFixture, case: Case) -> None:
    before_rows = row_counts(world.bot.engine)
    before_sent = len(world.standin.sent())
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="zhoubao"):
        resp = world.post(case.build(world.clock.now, "ev_malformed_1"))  # waits until it was processed
    assert resp.status_code == 200  # Feishu stops redelivering
    assert not [r for r in caplog.records if r.exc_info], "no traceback"
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1, lines
    assert "ev_malformed_1" in lines[0] and case.field in lines[0], lines[0]
    assert "\n" not in lines[0]
    assert row_counts(world.bot.engine) == before_rows
    assert len(world.standin.sent()) == before_sent


def test_the_same_message_well_formed_is_stored(world: World) -> None:
    """The rule refuses shapes, not people."""
    before = row_counts(world.bot.engine)["answer_messages"]
    world.post(payloads.message(LINA, "[2] 切量完成", world.clock.now))
    assert row_counts(world.bot.engine)["answer_messages"] == before + 1
