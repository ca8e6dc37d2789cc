"""A department on Feishu (issue 25): the process `zhoubao run --team settlement` builds for a department
file posts the roll-up on the department's schedule, once, as text messages through the real gateway to the
loopback Open API, with people's `@all` and `<at>` defused."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.adapters.console.demo import EXAMPLE_DEPARTMENT
from bot.adapters.feishu.api import Limits, OpenApi
from bot.domain.weeks import IsoWeek
from bot.runtime.composition import Overrides, compose
from bot.runtime.team_file import load_department
from bot.services.chat import Inbound
from tests.fakes import FixedClock
from tests.feishu import payloads
from tests.feishu.conftest import feishu_settings, open_id_of
from tests.feishu.openapi import OpenApiStandIn

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_rollup_posts_once_to_the_department_chat(database_url: str, tmp_path: Path) -> None:
    department = load_department(EXAMPLE_DEPARTMENT / "department.yaml")
    settlement = department.choose("settlement")
    standin = OpenApiStandIn(directory={p.email: open_id_of(p.id) for p in settlement.people if p.email}).start()
    standin.chats.update({"settlement-weekly", "department-weekly"})
    clock = FixedClock(datetime(2024, 6, 27, 10, 0, tzinfo=SHANGHAI))
    runtimes = []
    try:
        for _ in range(2):  # two instances of the process
            api = OpenApi(payloads.APP_ID, "secret", domain=standin.url, limits=Limits(10_000, 10_000, 600_000),
                          sleep=lambda s: None)
            runtimes.append(compose(feishu_settings(standin, database_url, tmp_path / "spool"), settlement,
                                    clock=clock, department=department,
                                    overrides=Overrides(feishu_api=api, feishu_bot_open_id=standin.bot_open_id)))
        bot = runtimes[0].bot
        bot.inbox.receive(Inbound("feishu", "wutao", "m1", "日终清算提速：整体进度 60%，主要问题：@all 回单接口不稳定",
                                  clock.now))
        bot.cycle.publish(IsoWeek.parse("2024-W26"), datetime(2024, 6, 28, 17, 0, tzinfo=SHANGHAI))
        clock.now = datetime(2024, 6, 28, 18, 30, tzinfo=SHANGHAI)
        outcomes = []
        for runtime in runtimes:
            assert runtime.rollup is not None
            outcome = runtime.rollup.run_due()
            outcomes.append(outcome.posted if outcome else None)
        assert outcomes == [True, False]
        posted = standin.sent(to="department-weekly")
        assert len(posted) == 1 and posted[0].msg_type == "text"
        text = posted[0].content["text"]
        assert text.startswith("支付事业部 2024-W26 周报汇总")
        assert "【清结算组】" in text and "• 进展：O1 日终清算提速 60%" in text
        assert "@all" not in text and "回单接口不稳定" in text  # defused: it pings nobody
        assert "未发布：收单技术组、Cross-border Payments" in text
    finally:
        for runtime in runtimes:
            runtime.stop()
        standin.stop()
