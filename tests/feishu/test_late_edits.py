"""Late answers after the post on Feishu: stored while Feishu refuses the card patch with 429, the cards
patched after, only the cards whose content changed (issue 20 item 14, issue 21 item 8)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import func, select

from bot.adapters.feishu import cards
from bot.adapters.feishu.transports import EVENTS_PATH
from bot.domain.weeks import IsoWeek
from storage.db import transaction
from storage.models import AnswerMessageRow
from tests.conftest import PATIENCE, eventually
from tests.feishu import payloads
from tests.feishu.conftest import CHANNEL, World, open_id_of
from tests.helpers import fill_long_week

WEEK = IsoWeek.parse("2024-W26")
PATCH = r"^/open-apis/im/v1/messages/[^/]+$"
ITEMS = (("zhoujie", "机房迁移"), ("liuyang", "交易路由"), ("zhaolei", "跨境收款"), ("lina", "对公代付"))


def _send(world: World, person: str, text: str) -> None:
    """One DM event, acknowledged (journaled) but not waited for: `World.post` waits for everything."""
    body = payloads.seal(payloads.message(open_id_of(person), text, world.clock.now))
    ts = str(int(world.clock.now.timestamp()))
    headers = payloads.sign(body, ts, uuid.uuid4().hex, payloads.ENCRYPT_KEY)
    resp = world.http.post(EVENTS_PATH, content=body, headers={"Content-Type": "application/json", **headers})
    assert resp.status_code == 200


def _stored(world: World) -> int:
    with transaction(world.bot.ctx.db) as s:
        return int(s.scalar(select(func.count(AnswerMessageRow.id))) or 0)


def _shown(world: World) -> list[dict[str, Any]]:
    return [m.current for m in world.standin.sent(to=CHANNEL, msg_type="interactive")]


def _compiled(world: World) -> list[dict[str, Any]]:
    rendered = world.bot.week_report.render(world.bot.week_report.compile(WEEK, world.clock.now))
    return [json.loads(cards.card_content(c)) for c in cards.report_cards(json.loads(rendered.feishu))]


def test_answers_are_stored_while_feishu_refuses_the_card_patch(world: World) -> None:
    """PATCH answered 429 / 99991400 with x-ogw-ratelimit-reset (频控策略,
    https://open.feishu.cn/document/server-docs/api-call-guide/frequency-control) past the client's
    retries: the 20 late answers are stored all the same, and the card follows once Feishu lets it."""
    world.bot.cycle.publish(WEEK, world.clock.now)
    world.settle()
    world.standin.fail("PATCH", PATCH, status=429, code=99991400, times=1000,
                       headers={"x-ogw-ratelimit-reset": "1"})
    for n in range(20):
        person, name = ITEMS[n % len(ITEMS)]
        _send(world, person, f"{name}：限流时的回答 {n}")
    eventually(lambda: _stored(world) == 20, "all 20 late answers stored while Feishu refuses the patch")
    assert world.bot.journal is not None and world.bot.journal.wait_idle(PATIENCE)
    assert "限流时的回答" not in json.dumps(_shown(world), ensure_ascii=False), "the card could not be patched"
    world.standin.failures.clear()
    world.bot.cycle.edits.flush()  # the failed edit's retry, now rather than in 30 s
    world.settle()
    assert _shown(world) == _compiled(world)
    assert all(f"限流时的回答 {n}" in json.dumps(_shown(world), ensure_ascii=False) for n in range(20))


def test_a_late_answer_patches_only_the_card_it_changes(world: World) -> None:
    fill_long_week(world.bot, "feishu", words=400)
    first = world.bot.cycle.publish(WEEK, world.clock.now)
    assert len(first.refs) > 1, "the report needs several cards for this test"
    world.settle()
    patches = len(world.standin.calls_to("PATCH", PATCH))
    world.post(payloads.message(open_id_of("zhoujie"), "机房迁移：切换演练完成", world.clock.now))
    patched = world.standin.calls_to("PATCH", PATCH)[patches:]
    assert len(patched) == 1, "one card patched"
    assert "切换演练完成" in json.dumps(patched[0].body, ensure_ascii=False)
    assert _shown(world) == _compiled(world)
    assert world.standin.problems == []
