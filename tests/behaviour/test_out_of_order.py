"""Issue 20 item 8: an edit delivered before its message is not lost. The edit is taken as the message
(sent when the message was), and the late original changes nothing, so the edited text is what is stored.
A deletion delivered before its message is kept (a tombstone), so the late message is not stored.
Run on the chat platforms only: the console reads its input in order."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.domain.weeks import IsoWeek
from tests.behaviour.conftest import MONDAY, PLATFORMS, at
from tests.behaviour.driver import Driver, Stored

WEEK = IsoWeek.parse("2024-W26")
PAYOUTS = "okr:O1/对公代付"  # lina's [2]


@pytest.fixture(params=[p for p in PLATFORMS if p != "console"])
def chat(request: pytest.FixtureRequest, database_url: str) -> Iterator[Driver]:
    d = PLATFORMS[request.param](database_url, MONDAY)
    yield d
    d.close()


def test_an_edit_delivered_before_its_message_is_what_is_stored(chat: Driver) -> None:
    chat.advance_to(at(27, 10))
    chat.as_person("lina")
    chat.say_edited_before_sent("[2] 第一版", "[2] 第二版")
    stored = Stored.of(chat.bot, WEEK)
    assert stored.entries == {PAYOUTS: ("第二版", None, None)}
    assert [m[2] for m in stored.messages] == ["第二版"]
    assert chat.dms_to("lina")[-1] == "✅ 已记录：O1 业务服务 · 对公代付"


def test_a_deletion_delivered_before_its_message_keeps_it_out(chat: Driver) -> None:
    chat.advance_to(at(27, 10))
    chat.as_person("lina")
    told = len(chat.dms_to("lina"))
    chat.say_deleted_before_sent("[2] 发错了的一条")
    stored = Stored.of(chat.bot, WEEK)
    assert stored.entries == {} and not stored.messages, "the late message is not stored"
    assert chat.dms_to("lina")[told:] == [], "nothing to confirm or withdraw"
    # The next message is stored as usual.
    chat.say("[2] 第二条")
    assert Stored.of(chat.bot, WEEK).entries == {PAYOUTS: ("第二条", None, None)}
