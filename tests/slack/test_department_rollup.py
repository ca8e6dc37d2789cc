"""A department on Slack (issue 25): the process `zhoubao run --team acquiring` builds for a department file
runs the roll-up on the department's schedule and posts it, once, through the real gateway to the loopback
Web API; people's words in it ping nobody."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.adapters.console.demo import EXAMPLE_DEPARTMENT
from bot.adapters.slack.limits import Pacer
from bot.domain.weeks import IsoWeek
from bot.runtime.composition import Overrides, compose
from bot.runtime.team_file import load_department
from bot.services.chat import Inbound
from tests.fakes import FixedClock
from tests.slack.conftest import slack_settings
from tests.slack.stand_in import SlackStandIn

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_rollup_posts_once_to_the_department_channel(database_url: str, tmp_path: Path) -> None:
    department = load_department(EXAMPLE_DEPARTMENT / "department.yaml")
    acquiring = department.choose("acquiring")
    stand_in = SlackStandIn(users={p.email: f"U{p.id.upper()}" for p in acquiring.people if p.email},
                            channels={"acquiring-weekly": "C0ACQUIRING", "department-weekly": "C0DEPARTMENT"}).start()
    clock = FixedClock(datetime(2024, 6, 27, 10, 0, tzinfo=SHANGHAI))
    settings = slack_settings(stand_in, database_url, tmp_path / "spool")
    runtimes = [compose(settings, acquiring, clock=clock, overrides=Overrides(pacer=Pacer(scale=1000)),
                        department=department) for _ in range(2)]  # two instances of the process
    try:
        bot = runtimes[0].bot
        bot.inbox.receive(Inbound("slack", "chenjing", "m1", "整体进度 45%\n主要问题：<!channel> 密钥轮换未定",
                                  clock.now))
        bot.cycle.publish(IsoWeek.parse("2024-W26"), datetime(2024, 6, 28, 17, 0, tzinfo=SHANGHAI))
        clock.now = datetime(2024, 6, 28, 18, 0, tzinfo=SHANGHAI)
        posts = []
        for runtime in runtimes:
            assert runtime.rollup is not None
            posts.append(runtime.rollup.run_due())
        assert [p.posted if p else None for p in posts] == [True, False]
        shown = stand_in.messages(stand_in.channel_id("department-weekly"))
        assert len(shown) == 1
        text = shown[0]["text"]
        assert text.startswith("支付事业部 2024-W26 周报汇总")
        assert "• 风险：PCI DSS 认证：&lt;!channel&gt; 密钥轮换未定" in text  # escaped: a mention of nobody
        assert "未发布：清结算组、Cross-border Payments" in text
    finally:
        for runtime in runtimes:
            runtime.stop()
        stand_in.stop()
