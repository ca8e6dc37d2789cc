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
    answer = act(driver, "zhangwei", lambda: driver.zhoubao("publish confirm"))
    assert len(answer) == 2 and code in answer[0] and answer[0].startswith("⚠️ "), "the editors hear why"
    assert answer[1] == say("zh-CN", "delivery.person", reason=code), "the person who asked hears it failed"
    assert driver.channel_posts() == []
    assert act(driver, "zhangwei", lambda: driver.zhoubao("publish confirm"))[-1] == "📣 2024-W26 周报已发布。"
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


# Each of these was filed as an incident before (issue 20 item 9): a year 0000 date read as this year,
# `edit abc` / `edit -1` filed as incidents titled "edit abc" / "edit -1", a recovery tomorrow, a bare
# recovery time before the start read as the next day.
BAD_INCIDENTS = {
    "0000-06-27 10:00 gateway-api 超时": "incident.syntax.bad_date",
    "2015-06-26 10:00 gateway-api 超时": "incident.syntax.outside_window",
    "edit abc": "incident.syntax.bad_number",
    "edit -1 级别：C": "incident.syntax.bad_number",
    "resolve abc": "incident.syntax.bad_number",
    "delete -1": "incident.syntax.bad_number",
    "09:00 gateway-api 超时 恢复：23:00": "incident.syntax.recovery_future",
    "09:00 gateway-api 超时 恢复：08:30": "incident.syntax.confirm_overnight",
}


def test_a_bad_incident_command_is_refused_with_the_usage_and_files_nothing(driver: Driver) -> None:
    driver.advance_to(at(27, 10))
    usage = say("zh-CN", "incident.usage")
    for text, key in BAD_INCIDENTS.items():
        answer = act(driver, "liuyang", lambda text=text: driver.incident(text))  # type: ignore[misc]
        opening = say("zh-CN", key, value="§", word="§", first="§", last="§", start="§", next_day="§").split("§")[0]
        assert len(answer) == 1 and answer[0].startswith(opening) and answer[0].endswith(usage), (text, answer)
    assert Stored.of(driver.bot, WEEK).incidents == ()
