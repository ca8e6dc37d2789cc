"""Issue 18, bug 2: the `[n]` prefix is read once, in the core, for new messages, edits and form text alike.

An edit `[2] 第一版` → `[2] 第二版` stores `第二版` as item 2, never the prefix; a link preview unfurling on the
answer (a `message_changed` with the same text) stores nothing new and is not confirmed a second time.
"""

from __future__ import annotations

from bot.domain.weeks import IsoWeek
from tests.behaviour.conftest import at
from tests.behaviour.driver import Driver, Stored
from tests.behaviour.test_week import act

WEEK = IsoWeek.parse("2024-W26")
PAYOUTS = "okr:O1/对公代付"  # lina's [2]: [1] 聚合收单 · 业务, [2] O1 业务服务 · 对公代付, [3] 生产事件


def test_an_edit_and_an_unfurl_never_store_the_prefix_or_confirm_twice(driver: Driver) -> None:
    driver.advance_to(at(27, 10))
    assert act(driver, "lina", lambda: driver.say("[2] 第一版")) == ["✅ 已记录：O1 业务服务 · 对公代付"]
    # The same text again is not a new answer: nothing is confirmed (the console prints "(unchanged)").
    assert "✅" not in "".join(act(driver, "lina", driver.unfurl_last))
    assert act(driver, "lina", lambda: driver.edit_last("[2] 第二版")) == ["✅ 已记录：O1 业务服务 · 对公代付"]
    assert "✅" not in "".join(act(driver, "lina", driver.unfurl_last))
    stored = Stored.of(driver.bot, WEEK)
    assert stored.entries == {PAYOUTS: ("第二版", None, None)}
    assert stored.messages == (("lina", "message", "第二版", False, (("create", "第一版"), ("edit", "第二版"))),)


def test_an_edit_to_another_number_moves_the_answer(driver: Driver) -> None:
    driver.advance_to(at(27, 10))
    act(driver, "lina", lambda: driver.say("[2] 切量完成"))
    assert act(driver, "lina", lambda: driver.edit_last("[1] 切量完成")) == ["✅ 已记录：聚合收单 · 业务"]
    assert Stored.of(driver.bot, WEEK).entries == {"project:聚合收单/业务": ("切量完成", None, None)}


def test_form_text_is_read_as_an_answer_to_its_item(driver: Driver) -> None:
    """A prompt line pasted into the form (`[2] 对公代付：…`) stores what a chat answer would: the text alone."""
    driver.advance_to(at(27, 10))
    assert act(driver, "lina", lambda: driver.submit_answer_form(item=PAYOUTS, text="[2] 对公代付：开发进度70%")) == [
        "✅ 已记录：O1 业务服务 · 对公代付"]
    assert Stored.of(driver.bot, WEEK).entries[PAYOUTS][:2] == ("开发进度70%", 70)
