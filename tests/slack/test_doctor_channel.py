"""`zhoubao doctor` on Slack checks what Friday's publish needs: the report channel is an id, exists, and has
the bot in it (issue 19 item 2), against the loopback Web API."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from bot.adapters.slack.doctor import check
from bot.domain.team import Team
from bot.runtime.settings import Settings
from tests.slack.stand_in import SlackStandIn


@pytest.mark.parametrize(("report_channel", "expected"), [
    ("C0REPORT", (True, "slack report channel C0REPORT (#weekly-report): exists, the bot is a member")),
    ("#weekly-report", (False, "slack report channel #weekly-report: a name, not an id; it is C0REPORT — write "
                               "report_channel: C0REPORT in the team file (Slack edits and threads need the id)")),
    ("C0NOWHERE", (False, "slack report channel C0NOWHERE: channel_not_found — check the id, and for a private "
                          "channel invite the bot (/invite @zhoubao) so it can see it")),
    ("C0OUTSIDE", (False, "slack report channel C0OUTSIDE (#random): the bot is not a member — /invite @zhoubao "
                          "in #random")),
])
def test_doctor_checks_the_report_channel(team: Team, stand_in: SlackStandIn, report_channel: str,
                                          expected: tuple[bool, str]) -> None:
    stand_in.channels["random"] = "C0OUTSIDE"
    stand_in.not_member.add("C0OUTSIDE")
    team = Team.model_validate({**team.model_dump(), "team": {**team.team.model_dump(),
                                                              "report_channel": report_channel}})
    settings = Settings(_env_file=None, slack_bot_token=SecretStr("xoxb-test"),  # type: ignore[call-arg]
                        slack_signing_secret=SecretStr("s"), slack_api_url=stand_in.url + "/api/")
    lines = check(settings, team)
    assert expected in lines, lines
