"""A team's first week, as a new operator meets it: init then doctor, half-made configuration, an
unreachable or refusing platform, no report for a week the bot did not run, and the CLI's plain words."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_TEAM, invoke, one_line_error
from tests.feishu.openapi import OpenApiStandIn
from tests.slack.stand_in import SlackStandIn


@pytest.fixture
def team_here(fresh: Path) -> Path:
    (fresh / "team.yaml").write_text(EXAMPLE_TEAM.read_text(encoding="utf-8"), encoding="utf-8")
    return fresh


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    stand_in = SlackStandIn().start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def feishu() -> Iterator[OpenApiStandIn]:
    stand_in = OpenApiStandIn().start()
    yield stand_in
    stand_in.stop()


# ----- set-up that checks out ------------------------------------------------------------------


def test_init_then_doctor_passes_and_names_the_next_publish_run(fresh: Path) -> None:
    result = invoke("init")
    assert result.exit_code == 0, result.output
    assert "Database ready at sqlite:///./data/zhoubao.db" in result.output
    doctor = invoke("doctor")
    assert doctor.exit_code == 0, doctor.output
    assert "✗" not in doctor.output
    assert "next publish run: " in doctor.output and "(Asia/Shanghai)" in doctor.output
    assert "platform console (no Slack or Feishu credentials; set SLACK_* or FEISHU_* in .env" in doctor.output


def test_doctor_leaves_nothing_behind_and_says_what_to_do(team_here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    long_name = "a-database-with-a-name-long-enough-to-pass-eighty-columns-on-its-own-line-" * 2
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///./state/{long_name}.db")
    result = invoke("doctor")
    assert result.exit_code == 1
    # One line, not broken at 80 columns, naming the command that fixes it.
    assert (f"✗ database state/{long_name}.db does not exist yet — run `zhoubao db upgrade` to create it"
            in result.output)
    assert not (team_here / "state").exists()
    assert sorted(p.name for p in team_here.iterdir()) == ["team.yaml"]


def test_doctor_without_a_team_file_says_to_run_init(fresh: Path) -> None:
    result = invoke("doctor")
    assert result.exit_code == 1
    assert "run `zhoubao init` to write an example" in result.output
    assert list(fresh.iterdir()) == []


# ----- half-made configuration -------------------------------------------------------------------


@pytest.mark.parametrize(("env", "named"), [
    ({"FEISHU_APP_ID": "cli_x"}, "FEISHU_APP_ID set but FEISHU_APP_SECRET missing"),
    ({"FEISHU_APP_SECRET": "s"}, "FEISHU_APP_SECRET set but FEISHU_APP_ID missing"),
    ({"FEISHU_ENCRYPT_KEY": "k"}, "FEISHU_ENCRYPT_KEY set but FEISHU_APP_ID and FEISHU_APP_SECRET missing"),
    ({"SLACK_APP_TOKEN": "xapp-1"}, "SLACK_APP_TOKEN set but SLACK_BOT_TOKEN missing"),
    ({"SLACK_SIGNING_SECRET": "s"}, "SLACK_SIGNING_SECRET set but SLACK_BOT_TOKEN missing"),
    ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_BOT_TOKEN set but no transport; add SLACK_APP_TOKEN"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "FEISHU_APP_ID": "cli_x",
      "FEISHU_APP_SECRET": "s"}, "both Slack (SLACK_BOT_TOKEN) and Feishu (FEISHU_APP_ID) are set"),
    ({"DATABASE_URL": "mysql://u:secret@db/zhoubao"},
     "DATABASE_URL 'mysql://…' is not supported; use sqlite:///path/to/file.db or postgresql://"),
])
def test_a_half_made_configuration_is_one_line_at_run_and_in_doctor(
        team_here: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    line = one_line_error(invoke("run", input=""))
    assert line.startswith("Settings: ") and named in line
    assert "secret@" not in line
    doctor = invoke("doctor")
    assert doctor.exit_code == 1 and "✗ settings: " in doctor.output and named in doctor.output
    assert list(team_here.iterdir()) == [team_here / "team.yaml"]  # nothing created


@pytest.mark.parametrize("args", [
    ["report", "--week", "2024-W26"],
    ["export", "--from", "2024-W26", "--to", "2024-W26", "--format", "csv"],
    ["import", "--dry-run", str(Path(__file__).parent / "golden" / "report_2024-W26.zh-CN.md")],
    ["dashboard", "link", "--as", "zhangwei"],
], ids=["report", "export", "import", "dashboard-link"])
def test_every_command_says_a_bad_setting_the_same_way(
        team_here: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    """One reading of the settings for every command (bot/runtime/cli_shared.py): import and export said a
    bad one as pydantic's dump, dashboard link as pydantic's message."""
    monkeypatch.setenv("DATABASE_URL", "mysql://u:secret@db/zhoubao")
    line = one_line_error(invoke(*args))
    assert line.startswith("Settings: DATABASE_URL 'mysql://…' is not supported; use sqlite:///path/to/file.db "
                           "or postgresql://")
    assert "secret@" not in line
    assert list(team_here.iterdir()) == [team_here / "team.yaml"]  # nothing created


# ----- an unreachable or refusing platform -------------------------------------------------------


def test_slack_unreachable_is_one_line(team_here: Path, monkeypatch: pytest.MonkeyPatch, closed_port: int) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    monkeypatch.setenv("SLACK_API_URL", f"http://127.0.0.1:{closed_port}/api/")
    line = one_line_error(invoke("run"))
    assert line == (f"Slack unreachable at http://127.0.0.1:{closed_port}/api/ (connection refused: nothing is "
                    "listening there): check the network, proxy or SLACK_API_URL")
    doctor = invoke("doctor")
    assert doctor.exit_code == 1 and f"✗ {line}" in doctor.output


@pytest.mark.parametrize(("error", "said"), [
    ("invalid_auth", "Slack refused SLACK_BOT_TOKEN (invalid_auth): copy the Bot User OAuth Token"),
    ("missing_scope", "Slack token lacks a scope (missing_scope, needed: see docs/slack-manifest.yaml)"),
])
def test_slack_refusing_the_token_is_one_line(team_here: Path, monkeypatch: pytest.MonkeyPatch,
                                              slack: SlackStandIn, error: str, said: str) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    monkeypatch.setenv("SLACK_API_URL", slack.url + "/api/")
    slack.fail("auth.test", error=error)
    assert said in one_line_error(invoke("run"))
    assert [c.method for c in slack.calls] == ["auth.test"]  # nothing served, nothing sent


def test_feishu_unreachable_is_one_line(team_here: Path, monkeypatch: pytest.MonkeyPatch, closed_port: int) -> None:
    monkeypatch.setenv("FEISHU_APP_ID", "cli_x")
    monkeypatch.setenv("FEISHU_APP_SECRET", "s")
    monkeypatch.setenv("FEISHU_DOMAIN", f"http://127.0.0.1:{closed_port}")
    line = one_line_error(invoke("run"))
    assert line == (f"Feishu unreachable at http://127.0.0.1:{closed_port} (connection refused: nothing is "
                    "listening there): check the network, proxy or FEISHU_DOMAIN")


def test_feishu_refusing_the_app_is_one_line(team_here: Path, monkeypatch: pytest.MonkeyPatch,
                                            feishu: OpenApiStandIn) -> None:
    monkeypatch.setenv("FEISHU_APP_ID", "cli_x")
    monkeypatch.setenv("FEISHU_APP_SECRET", "wrong")
    monkeypatch.setenv("FEISHU_DOMAIN", feishu.url)
    feishu.fail("POST", "/open-apis/auth/v3/tenant_access_token/internal", status=400, code=10014)
    line = one_line_error(invoke("run"))
    assert line.startswith("Feishu refused FEISHU_APP_ID / FEISHU_APP_SECRET (code 10014")
    assert line.endswith("copy both again from the app's Credentials & Basic Info page")


def test_feishu_missing_permission_is_named_by_doctor(team_here: Path, monkeypatch: pytest.MonkeyPatch,
                                                      feishu: OpenApiStandIn) -> None:
    monkeypatch.setenv("FEISHU_APP_ID", "cli_x")
    monkeypatch.setenv("FEISHU_APP_SECRET", "s")
    monkeypatch.setenv("FEISHU_DOMAIN", feishu.url)
    feishu.fail("POST", "/open-apis/contact/v3/users/batch_get_id", status=400, code=99991672, times=10)
    result = invoke("doctor")
    assert result.exit_code == 1
    assert "✗ feishu identities: email lookup failed (missing permission contact:user.id:readonly" in result.output


# ----- no report for a week the bot did not run ---------------------------------------------------


def test_first_start_on_a_friday_afternoon_posts_nothing(team_here: Path) -> None:
    script = "clock fri 17:05\nchannel\nas 张伟\n/zhoubao publish\n/zhoubao publish 2026-W48 confirm empty\nchannel\n"
    result = invoke("run", "--start", "2026-11-27 16:00", "--echo", input=script)
    assert result.exit_code == 0, result.output
    before_publish = result.output.split("张伟> /zhoubao publish")[0]
    assert "── #" not in before_publish  # nothing was posted to the team channel
    assert "(nobody)> channel\n(nobody)> as 张伟" in before_publish  # and `channel` shows it empty
    told = before_publish.split("── DM to 张伟")[1]
    assert "2026-W48 周报未自动发布：本周没有发出过填写提示" in told and "请发送 /zhoubao publish" in told
    # The editor can still publish it on purpose: asked first (the week is empty), then confirmed twice.
    asked, after = result.output.split("张伟> /zhoubao publish")[1:3]
    assert "── #" not in asked and "/zhoubao publish 2026-W48 confirm empty" in asked
    assert "── #weekly-report" in after and "📣 2026-W48 周报已发布" in after


def test_after_a_long_outage_the_missed_week_is_not_posted(team_here: Path) -> None:
    week_one = "clock thu 10:00\nclock fri 17:05\n"
    first = invoke("run", "--start", "2026-11-19 09:00", input=week_one)
    assert first.exit_code == 0 and "publish 2026-W47: posted" in first.output
    # Down from Friday to the next Friday afternoon: Thursday's prompt never went out.
    second = invoke("run", "--start", "2026-11-27 16:00", input="clock fri 17:05\n")
    assert second.exit_code == 0, second.output
    assert "publish: skipped, no prompt went out this week" in second.output
    assert "publish 2026-W48" not in second.output


# ----- the command line's own words ----------------------------------------------------------------


@pytest.mark.parametrize("command", [("run",), ("report",), ("incident", "add"), ("doctor",), ()])
def test_help_has_no_type_tags(fresh: Path, command: tuple[str, ...]) -> None:
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert "<bool>" not in result.output and "<str>" not in result.output and "<path>" not in result.output
    assert "Show this message and exit." in result.output


def test_report_for_a_future_week_fails_and_an_empty_week_says_so(team_here: Path) -> None:
    assert invoke("db", "upgrade").exit_code == 0
    next_week = date.today() + timedelta(days=7)
    label, monday = f"{next_week.isocalendar()[0]}-W{next_week.isocalendar()[1]:02d}", next_week - timedelta(
        days=next_week.weekday())
    future = invoke("report", "--week", label)
    assert future.exit_code == 2 and f"{label} has not started yet (it begins {monday:%Y-%m-%d})" in future.output
    far = invoke("report", "--week", "2099-W01")  # past next week: outside the team's window
    assert far.exit_code == 2 and "2099-W01 is outside the weeks this team can use" in far.output
    empty = invoke("report", "--week", "2024-W10")
    assert empty.exit_code == 0
    assert "No answers, incidents or published report are stored for 2024-W10" in empty.stderr
    assert empty.stdout.startswith("# 2024-W10")


def test_an_old_date_without_a_year_is_asked_about_not_filed(team_here: Path) -> None:
    assert invoke("db", "upgrade").exit_code == 0
    then = date.today() - timedelta(days=60)
    result = invoke("incident", "add", f"{then:%m/%d} 10:00 order-api 超时", "--as", "lina")
    assert result.exit_code == 1
    assert f"会记为 {then:%Y-%m-%d}" in result.output and "请写明年份重新发送" in result.output
    iso = then.isocalendar()
    listing = invoke("incident", "list", "--week", f"{iso.year}-W{iso.week:02d}")
    assert "暂无生产事件" in listing.output


def test_english_headings_have_no_chinese_brackets(team_here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///./data/demo.db")
    assert invoke("demo").exit_code == 0
    en = invoke("report", "--week", "2024-W26", "--lang", "en").stdout
    assert "【" not in en and "## Production incidents" in en
    zh = invoke("report", "--week", "2024-W26").stdout
    assert "## 【生产事件】" in zh


def test_slack_refusing_the_app_level_token_names_it(team_here: Path, monkeypatch: pytest.MonkeyPatch,
                                                     slack: SlackStandIn) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-revoked")  # the stand-in refuses a revoked token: not_authed
    monkeypatch.setenv("SLACK_API_URL", slack.url + "/api/")
    line = one_line_error(invoke("run"))
    assert line.startswith("Slack refused SLACK_APP_TOKEN (not_authed): create an app-level token")
    assert [c.method for c in slack.calls] == ["auth.test", "apps.connections.open"]


def test_doctor_on_a_friday_afternoon_says_the_first_publish_will_post_nothing(fresh: Path) -> None:
    import io
    from datetime import datetime

    from rich.console import Console

    from bot.runtime.doctor import run_checks
    from bot.runtime.settings import Settings
    from tests.conftest import SHANGHAI

    assert invoke("init").exit_code == 0
    out = io.StringIO()
    assert run_checks(Settings(), Console(file=out, soft_wrap=True), now=datetime(2026, 11, 27, 16, 0, tzinfo=SHANGHAI))
    assert ("✓ next publish run: 2026-11-27 Fri 17:00 (Asia/Shanghai) — no prompt went out for 2026-W48, so it "
            "will post nothing and tell the editors (`/zhoubao publish` posts it anyway); the first report: "
            "2026-12-04 Fri 17:00") in out.getvalue()
    monday = io.StringIO()
    assert run_checks(Settings(), Console(file=monday, soft_wrap=True), now=datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI))
    assert "✓ next publish run: 2026-12-04 Fri 17:00 (Asia/Shanghai)\n" in monday.getvalue()


def test_slack_missing_scope_for_people_lookups_is_named_by_doctor(team_here: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  slack: SlackStandIn) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    monkeypatch.setenv("SLACK_API_URL", slack.url + "/api/")
    slack.fail("users.lookupByEmail", error="missing_scope", times=100)
    slack.fail("users.info", error="missing_scope", times=100)
    result = invoke("doctor")
    assert result.exit_code == 1
    assert "✗ Slack token lacks a scope (missing_scope, needed: see docs/slack-manifest.yaml): add it under" \
        in result.output
