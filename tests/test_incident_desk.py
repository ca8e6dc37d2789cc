"""/incident through the core: filed, listed, edited, resolved, counted; bad input stores nothing."""

from __future__ import annotations

from bot.domain.weeks import IsoWeek
from tests.helpers import make_bot


def _handle(bot, who, text):  # type: ignore[no-untyped-def]
    return bot.incidents.handle("fake", who, text, bot.ctx.now())


def test_filed_incident_is_announced_listed_and_counted(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    out = _handle(bot, "liuyang", "06/27 09:05 order-api 节点OOM 原因：内存泄漏 影响：部分下单失败 恢复：09:35 级别：C")
    assert out.reply.ok and out.number == 1
    assert chat.of_kind("post")[0].to == "weekly-report" and "#1" in chat.of_kind("post")[0].text
    listing = _handle(bot, "lina", "list").reply.text
    assert "#1 06/27 09:05 → 09:35 [C] order-api节点OOM" in listing
    md = bot.ctx.renderer.markdown(bot.week_report.compile(IsoWeek(2024, 26)))
    assert "06/27 09:05 order-api节点OOM，影响：部分下单失败，原因：内存泄漏" in md
    assert "事故数AB级0次，C级1次，D级0次" in md


def test_half_weights_are_summed(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    _handle(bot, "lina", "06/25 10:00 招行通道异常 级别：D 权重：0.5")
    _handle(bot, "lina", "06/26 10:00 中行通道异常 级别：d 权重：0.5")
    md = bot.ctx.renderer.markdown(bot.week_report.compile(IsoWeek(2024, 26)))
    assert "D级1次" in md


def test_malformed_incidents_get_usage_and_store_nothing(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    for text in ["06/27 10:00", "06/27 10:00 支付超时 级别：Z", "13/45 10:00 支付超时", "支付超时 权重：abc"]:
        out = _handle(bot, "lina", text)
        assert not out.reply.ok and out.number is None, text
        assert "/incident" in out.reply.text, "the usage text is shown"
    assert "暂无生产事件" in _handle(bot, "lina", "list").reply.text
    assert chat.of_kind("post") == []


def test_edit_resolve_delete_by_id_and_who_may(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    _handle(bot, "liuyang", "06/27 09:05 gateway-api 节点CPU打满 级别：C")
    assert not _handle(bot, "zhoujie", "edit 1 级别：B").reply.ok, "only the reporter or an editor"
    assert _handle(bot, "liuyang", "edit 1 级别：B 原因：缺少分页").reply.ok
    assert _handle(bot, "zhangwei", "resolve 1 10:05").reply.ok
    listing = _handle(bot, "lina", "list").reply.text
    assert "#1 06/27 09:05 → 10:05 [B] gateway-api节点CPU打满" in listing
    assert _handle(bot, "zhangwei", "delete 1").reply.ok
    assert "暂无生产事件" in _handle(bot, "lina", "list").reply.text
    assert not _handle(bot, "zhangwei", "edit 9 级别：B").reply.ok


def test_availability_computed_from_incident_downtime(database_url, chat, clock) -> None:
    from bot.domain.team import Team
    from tests.helpers import example_team

    raw = example_team().model_dump()
    raw["metrics"][1]["metrics"][0].update(source="availability", period="week", digits=3)
    bot = make_bot(database_url, chat, clock, team=Team.model_validate(raw))
    _handle(bot, "liuyang", "06/27 09:00 order-api 宕机 恢复：09:10 级别：B")  # 600 s of 604,800 s
    _handle(bot, "liuyang", "06/27 11:00 gateway 抖动 恢复：11:10 可用性：否")  # does not count
    md = bot.ctx.renderer.markdown(bot.week_report.compile(IsoWeek(2024, 26)))
    assert "- 年度可用性：99.900%" in md


def test_anyone_in_the_workspace_files_lists_and_changes_only_their_own(database_url, chat, clock) -> None:
    chat.names.update({"U_ONCALL": "值班工程师", "U_OTHER": "别的同事"})
    bot = make_bot(database_url, chat, clock)
    out = _handle(bot, "U_ONCALL", "06/27 09:05 order-api 节点OOM 级别：C")
    assert out.reply.ok and out.number == 1 and "值班工程师" in out.reply.text
    assert "#1" in _handle(bot, "U_ONCALL", "list").reply.text
    assert _handle(bot, "U_ONCALL", "edit 1 原因：内存泄漏").reply.ok
    refused = _handle(bot, "U_OTHER", "edit 1 原因：别的")
    assert not refused.reply.ok
    assert not _handle(bot, "liuyang", "delete 1").reply.ok, "a member who is not an editor cannot either"
    assert _handle(bot, "zhangwei", "edit 1 影响：部分下单失败").reply.ok, "an editor can"
    md = bot.ctx.renderer.markdown(bot.week_report.compile(IsoWeek(2024, 26)))
    assert "06/27 09:05 order-api节点OOM，影响：部分下单失败，原因：内存泄漏" in md
    [fact] = bot.week_report.facts(IsoWeek(2024, 26)).incidents
    assert fact.reporter is None and fact.reporter_name == "值班工程师"
    assert not bot.commands.handle("fake", "U_ONCALL", "status", bot.ctx.now()).ok, "editor commands stay closed"


def test_a_team_file_can_keep_incidents_to_the_team(database_url, chat, clock) -> None:
    from tests.helpers import example_team

    team = example_team()
    team = team.model_copy(update={"incidents": team.incidents.model_copy(update={"reporters": "team"})})
    bot = make_bot(database_url, chat, clock, team)
    out = _handle(bot, "U_ONCALL", "06/27 09:05 order-api 节点OOM")
    assert not out.reply.ok and out.number is None and "不在本团队" in out.reply.text
    assert _handle(bot, "lina", "06/27 09:05 order-api 节点OOM").reply.ok
