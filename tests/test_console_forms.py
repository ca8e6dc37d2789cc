"""The console's forms go through the same core as Slack's and Feishu's: same rows, same words."""

from __future__ import annotations

import io
from datetime import datetime

from bot.adapters.console.chat import ConsoleChat, VirtualClock
from bot.adapters.console.workspace import ConsoleSession
from bot.runtime.composition import build_bot
from bot.runtime.jobs import DueJobs
from bot.runtime.team_file import load_team
from bot.services.bot import Bot
from bot.text.catalogue import say
from tests.conftest import EXAMPLE_TEAM, SHANGHAI


def _console(database_url: str) -> tuple[Bot, ConsoleSession, io.StringIO]:
    out = io.StringIO()
    chat, clock = ConsoleChat(out), VirtualClock(datetime(2024, 6, 27, 10, 0, tzinfo=SHANGHAI))
    bot = build_bot(load_team(EXAMPLE_TEAM), chat, clock, database_url=database_url)
    return bot, ConsoleSession(bot, chat, clock, out, jobs=DueJobs(bot)), out


def test_the_answer_form_on_the_console(database_url: str) -> None:
    bot, session, out = _console(database_url)
    session.run(["as 李娜", "form answers <<EOF", "1.text: 商户入网新流程切量完成", "上海、杭州平稳", "1.progress: 60",
                 "1.problem: 银行单日开户上限", "EOF"])
    entry = bot.week_report.facts(bot.ctx.week_of(bot.ctx.clock())).entries["project:聚合收单/业务"]
    assert (entry.text, entry.progress, entry.main_problem) == (
        "商户入网新流程切量完成\n上海、杭州平稳\n进度：60%\n主要问题：银行单日开户上限", 60, "银行单日开户上限")
    assert "✅ 已记录：聚合收单 · 业务" in out.getvalue()


def test_the_incident_form_on_the_console(database_url: str) -> None:
    bot, session, out = _console(database_url)
    session.run(["as 王强", "form incident <<EOF", "start: 昨天上午", "what: 节点OOM", "EOF"])
    assert say("zh-CN", "incident.bad_start", value="昨天上午") in out.getvalue()
    assert bot.incidents.list_text(bot.ctx.week_of(bot.ctx.clock())) == say("zh-CN", "incident.none", week="2024-W26")
    session.run(["form incident <<EOF", "start: 06/26 14:30", "system: cmb-gateway", "what: 招行代扣通道返回码异常",
                 "recovered: 15:10", "severity: D", "weight: 0.5", "availability: no", "EOF"])
    assert "🚨 已记录事件 #1 06/26 14:30 → 15:10 [D ×0.5] cmb-gateway招行代扣通道返回码异常" in out.getvalue()
    session.run(["form incident 1 <<EOF", "cause: 证书过期", "EOF"])
    assert "✏️ 已修改事件 #1" in out.getvalue() and "原因：证书过期" in out.getvalue()
