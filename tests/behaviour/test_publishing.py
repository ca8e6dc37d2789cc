"""Publishing by hand is deliberate (issue 22, item 1): `/zhoubao publish` first says what it would do — the
week with its dates, the channel, a first post or an edit of the post of <time> — and only a confirmation
naming the week posts; a week not started cannot be published; an empty week needs a second confirmation."""

from __future__ import annotations

from tests.behaviour.conftest import at
from tests.behaviour.driver import Driver
from tests.behaviour.test_week import act

ASK = ("将把 2024-W26（6月24日–6月28日）的周报首次发布到频道 weekly-report。\n"
       "确认请发送：/zhoubao publish 2024-W26 confirm")


def test_publish_asks_first_then_posts_once_confirmed_and_names_the_post_it_edits(driver: Driver) -> None:
    driver.advance_to(at(27, 10))
    act(driver, "zhoujie", lambda: driver.say("机房迁移：整体进度达到了80%"))
    assert act(driver, "zhangwei", lambda: driver.zhoubao("publish")) == [ASK]
    assert driver.channel_posts() == [], "asking posts nothing"
    assert act(driver, "zhangwei", lambda: driver.zhoubao("publish 2024-W26 confirm")) == ["📣 2024-W26 周报已发布。"]
    assert len(driver.channel_posts()) == 1
    driver.advance_to(at(28, 9))
    assert act(driver, "zhangwei", lambda: driver.zhoubao("publish")) == [
        "2024-W26（6月24日–6月28日）的周报已于 2024年6月27日 10:00 发布到频道 weekly-report；"
        "这次会用现在的内容更新那条消息，不会再发一条。\n确认请发送：/zhoubao publish 2024-W26 confirm"]
    assert act(driver, "zhangwei", lambda: driver.zhoubao("publish confirm")) == ["📣 2024-W26 周报已更新。"]
    assert len(driver.channel_posts()) == 1


def test_a_week_not_started_cannot_be_published_and_an_empty_week_needs_a_second_confirmation(driver: Driver) -> None:
    driver.advance_to(at(27, 10))
    refused = ["⛔ 2024-W27（7月1日–7月5日）还没有开始（2024年7月1日 开始），没有可以发布的内容。本周是 2024-W26。"]
    assert act(driver, "zhangwei", lambda: driver.zhoubao("publish 2024-W27")) == refused
    assert act(driver, "zhangwei", lambda: driver.zhoubao("publish 2024-W27 confirm")) == refused
    assert act(driver, "zhangwei", lambda: driver.zhoubao("publish 2024-W27 confirm empty")) == refused
    empty = ("将把 2024-W20（5月13日–5月17日）的周报首次发布到频道 weekly-report。\n"
             "⚠️ 2024-W20（5月13日–5月17日）没有任何已存储的回答、指标或事件：发布后每一项都会显示“未更新”。\n"
             "如确实要发布这份空周报，请发送：/zhoubao publish 2024-W20 confirm empty")
    assert act(driver, "zhangwei", lambda: driver.zhoubao("publish 2024-W20")) == [empty]
    assert act(driver, "zhangwei", lambda: driver.zhoubao("publish 2024-W20 confirm")) == [empty]
    assert driver.channel_posts() == []
    assert act(driver, "zhangwei", lambda: driver.zhoubao("publish 2024-W20 confirm empty")) == [
        "📣 2024-W20 周报已发布。"]
    assert len(driver.channel_posts()) == 1 and "未更新" in driver.channel_posts()[0]
