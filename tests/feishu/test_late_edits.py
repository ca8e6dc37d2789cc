"""Late answers after the post on Feishu: stored while Feishu refuses the card patch with 429, the cards
patched after, only the cards whose content changed (issue 20 item 14, issue 21 item 8); a report that grows
by cards patches the recorded ones and posts each new one once, as one message, recorded."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import func, select

from bot.adapters.feishu import cards
from bot.adapters.feishu.transports import EVENTS_PATH
from bot.domain.weeks import IsoWeek
from storage.db import transaction
from storage.models import AnswerMessageRow, ReportPostRow
from tests.conftest import PATIENCE, eventually
from tests.feishu import payloads
from tests.feishu.conftest import CHANNEL, World, open_id_of
from tests.helpers import fill_long_week

WEEK = IsoWeek.parse("2024-W26")
PATCH = r"^/open-apis/im/v1/messages/[^/]+$"
MESSAGES = r"^/open-apis/im/v1/messages$"
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


def _recorded(world: World) -> list[str]:
    """The message ids report_posts holds for the week's post, card by card."""
    with transaction(world.bot.ctx.db) as s:
        return [str(r.message_id) for r in s.scalars(select(ReportPostRow).where(
            ReportPostRow.platform == "feishu").order_by(ReportPostRow.part))]


def _form(world: World, source: str, text: str, who: str = "zhoujie", item: str = "okr:O3/机房迁移") -> None:
    """A form answer (it replaces the item's answer); after the post, the post's edit is asked for."""
    world.bot.inbox.submit_form("feishu", who, source, {item: text}, world.clock.now, WEEK)


def _lengthening_that_fills_a_new_card(feishu: str, marker: str, cards_before: int) -> int:
    """How many CJK characters (three bytes each) added after `marker` in the rendered report give it one
    more card than `cards_before`, that card's request body within 300 bytes of CARD_LIMIT: as full as a card
    may be. Steps of 90 bytes land in any 300-byte stretch that grows three bytes a character."""
    for more in range(0, 19_000, 30):
        split = cards.report_cards(json.loads(feishu.replace(marker, marker + "进" * more)))
        if len(split) == cards_before + 1 and cards.body_size(split[-1]) > cards.CARD_LIMIT - 300:
            return more
    raise AssertionError("no answer length fills a new card: the report's layout changed")


def test_a_late_answer_that_adds_a_full_card_posts_it_once_and_records_it(world: World) -> None:
    """The Slack adapter posted a full report part as two messages (its general post split again at a lower
    limit) and recorded one. Feishu sends each card `cards.report_cards` built as one message (`_create`
    splits nothing); this pins it: a late answer that makes the report one card longer, that card as full as
    a card may be, posts exactly that card once, patches the card it changed, and the chat shows the compiled
    cards, each recorded once, every request body within Feishu's 30 KB."""
    marker = "LATEMARK"
    _form(world, "late-1", f"{marker}")
    published = world.bot.cycle.publish(WEEK, world.clock.now)
    world.settle()
    assert _shown(world) == _compiled(world) and _recorded(world) == [r.message_id for r in published.refs]
    feishu = world.bot.week_report.render(world.bot.week_report.compile(WEEK, world.clock.now)).feishu
    assert feishu.count(marker) == 1
    more = _lengthening_that_fills_a_new_card(feishu, marker, len(published.refs))
    creates = len(world.standin.calls_to("POST", MESSAGES))

    _form(world, "late-2", f"{marker}{'进' * more}")
    world.settle()
    compiled = _compiled(world)
    assert len(compiled) == len(published.refs) + 1, "the late answer added a card"
    assert cards.body_size(cards.report_cards(json.loads(world.bot.week_report.render(
        world.bot.week_report.compile(WEEK, world.clock.now)).feishu))[-1]) > cards.CARD_LIMIT - 300, "a full card"
    sent = [c for c in world.standin.calls_to("POST", MESSAGES)[creates:] if c.body.get("receive_id") == CHANNEL]
    assert len(sent) == 1, "the new card posted in one message"
    assert len(json.dumps(sent[0].body, ensure_ascii=False).encode()) <= 30 * 1024
    shown = world.standin.sent(to=CHANNEL, msg_type="interactive")
    assert [m.current for m in shown] == compiled, "the chat shows the compiled cards, each once"
    assert _recorded(world) == [m.message_id for m in shown], "each card of the post recorded, one for one"
    assert world.standin.problems == []


def test_a_late_answer_that_adds_cards_patches_the_recorded_ones_and_posts_each_new_one(world: World) -> None:
    """A report of several cards grows by two on a late answer: the recorded cards are patched (kept), the
    new ones posted once each, and report_posts holds every card in order."""
    def lines(n: int) -> str:
        return "\n".join(f"补充 {k:04d} " + "机房迁移进展" * 10 for k in range(n))

    _form(world, "before-1", lines(120), "liuyang", "okr:O2/交易路由")
    _form(world, "before-2", lines(120))
    first = world.bot.cycle.publish(WEEK, world.clock.now)
    world.settle()
    assert len(first.refs) > 1, "a post of several cards before the late answer"
    creates = len(world.standin.calls_to("POST", MESSAGES))
    _form(world, "late-grow", lines(285))
    world.settle()
    compiled = _compiled(world)
    assert len(compiled) >= len(first.refs) + 2, "the late answer added two cards or more"
    sent = [c for c in world.standin.calls_to("POST", MESSAGES)[creates:] if c.body.get("receive_id") == CHANNEL]
    assert len(sent) == len(compiled) - len(first.refs), "each new card posted once"
    shown = world.standin.sent(to=CHANNEL, msg_type="interactive")
    assert [m.message_id for m in shown[:len(first.refs)]] == [r.message_id for r in first.refs], "patched, kept"
    assert all(m.patches for m in shown[:len(first.refs)])
    assert [m.current for m in shown] == compiled
    assert _recorded(world) == [m.message_id for m in shown]
    assert world.standin.problems == []
