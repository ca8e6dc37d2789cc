"""Where each team of a department is served (issue 25): `team.platform` in a team file and
`department.platform` in the department file (validated with file, line and key; left out, the
environment's platform, as before), when Slack and Feishu may both be configured, and the core's rule for
which team an inbound message of one chat app is for (`TeamRouting`), over one database."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from bot.adapters.console.chat import WallClock
from bot.adapters.console.demo import EXAMPLE_DEPARTMENT
from bot.adapters.console.workspace import ConsoleSession
from bot.adapters.feishu.api import OpenApi
from bot.runtime.composition import (
    ConsoleParts,
    FeishuParts,
    Overrides,
    SlackParts,
    build_department,
    compose,
    compose_department,
)
from bot.runtime.settings import Settings, both_platforms_problem
from bot.runtime.team_file import TeamFileError, load_department
from bot.services.bot import Bot
from bot.services.chat import Inbound
from bot.services.routing import RoutedTeam, TeamRouting
from bot.text.catalogue import say
from tests.behaviour.department import department, team_file
from tests.fakes import FakeChat, FixedClock

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _department_dir(tmp_path: Path, *, team_platform: str | None = None, department_platform: str | None = None) -> Path:
    for name in ("acquiring.yaml", "settlement.yaml", "crossborder.yaml"):
        text = (EXAMPLE_DEPARTMENT / name).read_text(encoding="utf-8")
        if name == "settlement.yaml" and team_platform is not None:
            text = text.replace("team:\n", f"team:\n  platform: {team_platform}\n", 1)
        (tmp_path / name).write_text(text, encoding="utf-8")
    head = (EXAMPLE_DEPARTMENT / "department.yaml").read_text(encoding="utf-8")
    if department_platform is not None:
        head = head.replace("department:\n", f"department:\n  platform: {department_platform}\n", 1)
    (tmp_path / "department.yaml").write_text(head, encoding="utf-8")
    return tmp_path / "department.yaml"


def test_a_team_names_its_platform_and_a_team_without_one_keeps_the_environments(tmp_path: Path) -> None:
    dept = load_department(_department_dir(tmp_path, team_platform="console", department_platform="feishu"))
    assert [dept.platform_of(t, "slack") for t in dept.teams] == ["slack", "console", "slack"]
    assert dept.rollup_platform("slack") == "feishu"
    assert not dept.platforms_named
    plain = load_department(EXAMPLE_DEPARTMENT / "department.yaml")
    assert [plain.platform_of(t, "feishu") for t in plain.teams] == ["feishu"] * 3
    assert plain.rollup_platform("feishu") == "feishu"


def test_a_wrong_platform_names_the_file_line_and_key(tmp_path: Path) -> None:
    with pytest.raises(TeamFileError) as team_error:
        load_department(_department_dir(tmp_path, team_platform="dingtalk"))
    assert (f"{tmp_path / 'settlement.yaml'}:3 [team.platform]: Input should be 'slack', 'feishu' or 'console'"
            in str(team_error.value))
    with pytest.raises(TeamFileError) as department_error:
        load_department(_department_dir(tmp_path, department_platform="teams"))
    assert f"{tmp_path / 'department.yaml'}:7 [department.platform]: Input should be" in str(department_error.value)


def _both() -> Settings:
    return Settings(_env_file=None, slack_bot_token=SecretStr("xoxb-1"), slack_signing_secret=SecretStr("s"),  # type: ignore[call-arg]
                    feishu_app_id="cli_x", feishu_app_secret=SecretStr("s"))


def test_slack_and_feishu_together_only_when_every_team_names_its_platform() -> None:
    assert "one instance serves one platform" in (both_platforms_problem(_both(), platforms_named=False) or "")
    assert both_platforms_problem(_both(), platforms_named=True) is None
    only_slack = Settings(_env_file=None, slack_bot_token=SecretStr("xoxb-1"), slack_signing_secret=SecretStr("s"))  # type: ignore[call-arg]
    assert both_platforms_problem(only_slack, platforms_named=False) is None


def test_the_rollup_needs_a_team_on_its_platform(database_url: str) -> None:
    dept = department(team_file("settlement", platform="console"), team_file("crossborder", platform="console"),
                      platform="slack")
    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match=r"department.platform: the roll-up is posted through slack, but no team"):
        compose_department(settings, dept, clock=FixedClock(datetime(2024, 6, 24, 9, tzinfo=SHANGHAI)))


# ----- the routing rule, in the core ----------------------------------------------------------------


def _routing(database_url: str) -> tuple[TeamRouting, FakeChat, dict[str, Bot]]:
    dept = department(team_file("crossborder"), team_file("settlement", emails={"zhengshuang": "carol@example.com"}))
    chat = FakeChat()
    built = build_department(dept, chat, FixedClock(datetime(2024, 6, 27, 10, tzinfo=SHANGHAI)),
                             database_url=database_url)
    bots = {t.key: built.bot(t.key) for t in dept.teams}
    return TeamRouting([RoutedTeam(k, b) for k, b in bots.items()], chat.platform), chat, bots


def _member(person: str) -> object:
    """The sender as each team knows them: Carol is carol in one and zhengshuang (her email) in the other."""
    ids = {"Cross-border Payments": {"carol": "carol", "bob": "bob"}, "清结算组": {"carol": "zhengshuang"}}
    return lambda bot: ids[bot.ctx.team.team.name].get(person)


def test_the_prompt_answered_then_the_only_team_then_asking(database_url: str) -> None:
    routing, chat, bots = _routing(database_url)
    at = datetime(2024, 6, 27, 10, tzinfo=SHANGHAI)
    for bot in bots.values():
        bot.cycle.send_prompts("prompt", at)
    to_zhengshuang = next(s.ref.message_id for s in chat.sent if s.kind == "prompt" and s.to == "zhengshuang")
    to_carol = next(s.ref.message_id for s in chat.sent if s.kind == "prompt" and s.to == "carol")
    assert routing.route(_member("carol"), thread_id=to_zhengshuang).bot is bots["settlement"]
    assert routing.route(_member("carol"), thread_id=to_carol).bot is bots["crossborder"]
    assert routing.route(_member("bob")).bot is bots["crossborder"]  # his only team
    assert routing.route(_member("stranger")).bot is bots["crossborder"]  # the first, which says "not a member"
    asked = routing.route(_member("carol"), text="清算准时率：99.95%")
    assert asked.bot is None and asked.reply is not None
    assert asked.reply.text == say("en", "route.which_team", example="crossborder",
                                   teams="crossborder (Cross-border Payments), settlement (清结算组)")


def test_a_team_word_and_a_stored_message_decide_first(database_url: str) -> None:
    routing, _, bots = _routing(database_url)
    named = routing.route(_member("carol"), text="--team 清结算组 status")
    assert named.bot is bots["settlement"] and named.text == "status"
    assert routing.route(_member("carol"), text="--team=crossborder missing").text == "missing"
    assert routing.route(_member("carol"), text="--team nowhere status").bot is None  # asked, not guessed
    assert routing.route(_member("carol"), text="--teamwork is fine").bot is None  # not a team word
    at = datetime(2024, 6, 27, 11, tzinfo=SHANGHAI)
    bots["settlement"].inbox.receive(Inbound("fake", "zhengshuang", "m-1", "清算准时率：99.95%", at))
    assert routing.route(_member("carol"), source_id="m-1").bot is bots["settlement"]  # its edit, its deletion


def test_a_console_team_beside_real_time_apps_types_on_the_wall_clock(database_url: str) -> None:
    dept = department(team_file("settlement", platform="console"), team_file("crossborder", platform="console"),
                      platform="console")
    runtime = compose_department(Settings(_env_file=None, database_url=database_url),  # type: ignore[call-arg]
                                 dept, overrides=Overrides(console_out=io.StringIO()))
    try:
        parts = runtime.part(ConsoleParts)
        assert parts is not None and isinstance(parts.clock, WallClock)
        assert runtime.scheduler is not None
        out = io.StringIO()
        session = ConsoleSession(runtime.bots[0], parts.chat, parts.clock, out, jobs=runtime.scheduler)
        before = datetime.now(SHANGHAI)
        session.run(["as zhengshuang", "清算准时率：99.95%", "clock +1d"])
        assert "this console runs on the wall clock" in out.getvalue()
        assert before <= parts.clock.now <= datetime.now(SHANGHAI)  # not moved a day
        settlement = runtime.bots[0]
        facts = settlement.week_report.facts(settlement.ctx.week_of(datetime.now(SHANGHAI)))
        assert {k: m.value_text for k, m in facts.metrics.items()} == {"metric:清算准时率": "99.95"}
    finally:
        runtime.stop()


@dataclass
class Connection:
    """A push connection (Socket Mode, the Feishu long connection) that only records being opened."""

    name: str
    opened: bool = False

    def connect(self) -> None:
        self.opened = True

    def close(self) -> None:
        self.opened = False

    def connected(self) -> bool:
        return self.opened


def test_one_process_opens_both_apps_connections_and_is_ready_only_with_both(database_url: str,
                                                                            tmp_path: Path) -> None:
    """The default deployments (Socket Mode, the Feishu long connection) of a department on both apps: one
    connection each, opened by the one runtime; /readyz is ready only while both are open."""
    dept = department(team_file("acquiring", platform="feishu"), team_file("crossborder", platform="slack"))
    slack, feishu = Connection("slack"), Connection("feishu")
    settings = Settings(_env_file=None, database_url=database_url, spool_dir=tmp_path,  # type: ignore[call-arg]
                        slack_bot_token=SecretStr("xoxb-1"), slack_app_token=SecretStr("xapp-1"),
                        feishu_app_id="cli_x", feishu_app_secret=SecretStr("s"))
    runtime = compose_department(settings, dept, overrides=Overrides(
        socket_mode=lambda intake, token: slack, long_connection=lambda s, intake: feishu,
        feishu_bot_open_id="ou_bot", feishu_api=OpenApi("cli_x", "s", domain="http://127.0.0.1:9")))
    assert {type(p) for p in runtime.platforms} == {SlackParts, FeishuParts}
    assert runtime.connectors == (slack, feishu)
    runtime.start()
    try:
        assert slack.opened and feishu.opened
        assert runtime.health.ready()[0] == 200
        feishu.close()
        assert runtime.health.ready() == (503, {"status": "not ready", "database": "ok", "scheduler": "ok",
                                                "platform": "disconnected"})
    finally:
        runtime.stop()
    assert not slack.opened


def test_a_teams_own_process_runs_the_rollup_only_on_the_rollups_app(database_url: str, tmp_path: Path) -> None:
    """`zhoubao run --team T` per team: only a process on `department.platform`'s app posts the roll-up."""
    dept = department(team_file("acquiring", platform="feishu"), team_file("crossborder", platform="slack"),
                      platform="feishu")
    settings = Settings(_env_file=None, database_url=database_url, spool_dir=tmp_path,  # type: ignore[call-arg]
                        slack_bot_token=SecretStr("xoxb-1"), slack_signing_secret=SecretStr("s"))
    slack_team = compose(settings, dept.choose("crossborder"), department=dept,
                         clock=FixedClock(datetime(2024, 6, 24, 9, tzinfo=SHANGHAI)))
    try:
        assert isinstance(slack_team.platform, SlackParts) and slack_team.rollup is None
    finally:
        slack_team.stop()
