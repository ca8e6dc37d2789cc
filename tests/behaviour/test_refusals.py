"""When the platform refuses a call, nothing is lost, the person who asked is told, and so are the editors."""

from __future__ import annotations

from bot.domain.weeks import IsoWeek
from bot.text.catalogue import say
from tests.behaviour.conftest import at
from tests.behaviour.driver import Driver, Stored
from tests.behaviour.test_week import GATEWAY, act, told

WEEK = IsoWeek.parse("2024-W26")


def test_a_refused_publish_is_told_and_publishing_again_posts_once(driver: Driver) -> None:
    driver.advance_to(at(27, 10))
    act(driver, "zhoujie", lambda: driver.say("机房迁移：整体进度达到了80%"))
    code = driver.refuse_next_call("not_in_channel")
    # 张伟 asks, and is the team's editor: the editors' note (naming the refusal), then the answer to him.
    answer = act(driver, "zhangwei", lambda: driver.zhoubao("publish"))
    assert len(answer) == 2 and code in answer[0] and answer[0].startswith("⚠️ "), "the editors hear why"
    assert answer[1] == say("zh-CN", "delivery.person", reason=code), "the person who asked hears it failed"
    assert driver.channel_posts() == []
    assert act(driver, "zhangwei", lambda: driver.zhoubao("publish"))[-1] == "📣 2024-W26 周报已发布。"
    posts = driver.channel_posts()
    assert len(posts) == 1 and "整体进度达到了80%" in posts[0]


def test_a_refused_announcement_keeps_the_incident_and_tells_the_editors(driver: Driver) -> None:
    driver.advance_to(at(27, 21))
    code = driver.refuse_next_call("not_in_channel")
    editors = told(driver, "zhangwei", lambda: act(driver, "liuyang", lambda: driver.incident(GATEWAY)))
    assert driver.dms_to("liuyang")[-1] == "🚨 已记录事件 #1 06/27 20:05 [C] gateway-api节点CPU打满\n原因：新接口缺少分页"
    assert [i[3] for i in Stored.of(driver.bot, WEEK).incidents] == ["节点CPU打满"]
    assert len(editors) == 1 and code in editors[0] and editors[0].startswith("⚠️ ")
    assert driver.channel_posts() == []
