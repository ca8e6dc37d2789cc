"""The dashboard's reliability trends (issue 23): error budget left per system, incidents by cause and
action items opened and closed per week, each chart with its data table."""

from __future__ import annotations

from datetime import datetime

from bot.adapters.web.charts import draw_all
from bot.runtime.team_file import parse_team
from bot.services.trends import TrendsService
from bot.text.catalogue import words
from tests.conftest import EXAMPLE_TEAM, SHANGHAI
from tests.fakes import FakeChat, FixedClock
from tests.helpers import make_bot

SYSTEMS = "  systems:\n    - {name: 支付网关, aliases: [gateway-api], slo: 99.9%, window_days: 30}\n"


def test_budget_causes_and_action_items_per_week(database_url: str, chat: FakeChat, clock: FixedClock) -> None:
    source = EXAMPLE_TEAM.read_text(encoding="utf-8").replace("  reporters: anyone", SYSTEMS + "  reporters: anyone")
    bot = make_bot(database_url, chat, clock, parse_team(source))  # Thursday 2024-06-27 10:00

    def incident(who: str, text: str) -> None:
        assert bot.incidents.handle("fake", who, text, bot.ctx.now()).reply.ok

    incident("liuyang", "06/19 10:00 gateway-api 节点OOM 恢复：10:30 归因：自身 级别：C")  # W25, 30 of 43.2 min
    incident("wangqiang", "06/26 14:30 招行代扣通道异常 恢复：15:10 归因：招行 级别：D 权重：0.5")  # W26, no system
    incident("zhangwei", "action 1 补齐分页 负责人：刘洋 截止：7/15")
    incident("zhangwei", "action 1 加监控 负责人：刘洋 截止：7/15")
    clock.now = datetime(2024, 6, 28, 9, 0, tzinfo=SHANGHAI)
    incident("liuyang", "done A1")

    t = TrendsService(bot.ctx).trends(weeks=2)
    assert t.weeks == ("2024-W25", "2024-W26")
    # 13.2 of 43.2 minutes left at both weeks' ends (30.5 %, floored)
    assert [(s.name, s.values) for s in t.budget_left] == [("支付网关", (30.0, 30.0))]
    assert [(s.name, s.values) for s in t.by_cause] == [("自身", (1.0, 0.0)), ("银行", (0.0, 0.5))]
    assert [(s.name, s.values) for s in t.actions] == [("opened", (0.0, 2.0)), ("closed", (0.0, 1.0))]

    en = words("en")
    charts = {c.key: c for c in draw_all(t, lambda key, **kw: en[f"web.{key}"].format(**kw))}
    assert charts["budget"].columns == ("", "支付网关")
    assert charts["budget"].rows == (("2024-W25", "30"), ("2024-W26", "30"))
    assert charts["causes"].rows == (("2024-W25", "1", "0"), ("2024-W26", "0", "0.5"))
    assert charts["actions"].columns == ("", "Opened", "Closed")
    assert charts["actions"].rows == (("2024-W25", "0", "0"), ("2024-W26", "2", "1"))


def test_without_objectives_causes_or_action_items_no_new_chart(database_url: str, chat: FakeChat,
                                                                clock: FixedClock) -> None:
    bot = make_bot(database_url, chat, clock)
    assert bot.incidents.handle("fake", "liuyang", "06/26 14:30 order-api 超时 级别：C", bot.ctx.now()).reply.ok
    t = TrendsService(bot.ctx).trends(weeks=2)
    keys = {c.key for c in draw_all(t, lambda key, **kw: words("en")[f"web.{key}"].format(**kw))}
    assert not keys & {"budget", "causes", "actions"}
