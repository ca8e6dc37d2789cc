"""A department on Feishu (issue 21): every message of an answer arrives, prompt cards and texts stay
within Feishu's limits whatever the week holds, and sends are paced per minute as well as per second."""

from __future__ import annotations

import json

import pytest

from bot.domain.team import Team
from tests.feishu import payloads
from tests.feishu.conftest import World, open_id_of
from tests.helpers import big_team


@pytest.fixture
def team() -> Team:
    return big_team(60)


def _forms(world: World, message_id: str) -> list[dict[str, object]]:
    return [m.content for m in world.standin.messages.values()
            if m.reply_to == message_id and m.msg_type == "interactive"]


def test_zhoubao_answer_typed_as_text_delivers_every_card(world: World) -> None:
    """Issue 21 item 1: every card of the form is a reply with its own uuid (one reply per uuid per hour)."""
    world.post(payloads.message(open_id_of("lina"), "/zhoubao answer", world.clock.now, message_id="om_ask"))
    forms = _forms(world, "om_ask")
    assert len(forms) > 1
    titles = [str(c["header"]["title"]["content"]) for c in forms]  # type: ignore[index]
    assert titles[-1].endswith(f"({len(forms)}/{len(forms)})")
    shown = json.dumps(forms, ensure_ascii=False)
    assert all(f'"item_{n}"' in shown for n in range(1, len(world.team.items_of("lina")) + 1))
    # A redelivered event (the same message) answers once: the same uuids, no second set of cards.
    world.post(payloads.message(open_id_of("lina"), "/zhoubao answer", world.clock.now, message_id="om_ask"))
    assert len(_forms(world, "om_ask")) == len(forms)
