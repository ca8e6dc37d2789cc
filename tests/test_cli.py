"""The `zhoubao` command line, run in a scratch folder with its own .env and database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.runtime.composition import bind
from tests.conftest import EXAMPLE_TEAM, invoke, one_line_error
from tests.slack.stand_in import SlackStandIn

GOLDEN = Path(__file__).parent / "golden" / "report_2024-W26.zh-CN.md"


def test_demo_then_report_prints_the_example_byte_for_byte(workdir: Path) -> None:
    result = invoke("demo")
    assert result.exit_code == 0, result.output
    assert (workdir / "team.yaml").exists()
    result = invoke("report", "--week", "2024-W26", "--format", "md")
    assert result.exit_code == 0, result.output
    assert result.stdout == GOLDEN.read_text(encoding="utf-8")
    again = invoke("demo")
    assert again.exit_code == 0 and "already in this database" in again.output


def test_report_in_english_and_other_formats_to_a_file(workdir: Path) -> None:
    assert invoke("demo").exit_code == 0
    result = invoke("report", "--week", "2024-W26", "--lang", "en")
    assert result.exit_code == 0
    assert "Created: Jun 28, 2024 17:00" in result.stdout and "Incidents: A/B 0, C 1, D 0.5" in result.stdout
    result = invoke("report", "--week", "2024-W26", "--format", "slack", "--output", "r.txt")
    assert result.exit_code == 0 and "*【聚合收单】*" in (workdir / "r.txt").read_text(encoding="utf-8")


def test_bad_week_label_and_format(workdir: Path) -> None:
    (workdir / "team.yaml").write_text(EXAMPLE_TEAM.read_text(encoding="utf-8"), encoding="utf-8")
    result = invoke("report", "--week", "2024-W54")
    assert result.exit_code == 2 and "2024 has weeks W01 to W52" in result.output
    result = invoke("report", "--week", "2024-W26", "--format", "pdf")
    assert result.exit_code == 2 and "md, slack or feishu" in result.output


def test_demo_refuses_a_database_with_another_teams_data(workdir: Path) -> None:
    other = EXAMPLE_TEAM.read_text(encoding="utf-8").replace("name: 支付技术部", "name: 风控部")
    (workdir / "team.yaml").write_text(other, encoding="utf-8")
    assert invoke("incident", "add", "2024-06-27 10:00 风控规则误杀", "--as", "lina").exit_code == 0
    result = invoke("demo")
    assert result.exit_code == 2 and "holds another team's data (风控部)" in result.output


def test_bad_team_file_stops_before_start(workdir: Path) -> None:
    (workdir / "team.yaml").write_text("team:\n  name: x\npeople: []\neditors: [ghost]\n", encoding="utf-8")
    result = invoke("run", input="")
    assert result.exit_code == 2
    assert "team.yaml:4 [editors[0]]: 'ghost' is not in people" in result.output


def test_unwritable_database_path_is_a_clear_message(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if os.geteuid() == 0:
        target = "sqlite:////proc/zhoubao/x.db"  # root can write anywhere but /proc
    else:
        target = "sqlite:////zhoubao-nope/x.db"
    monkeypatch.setenv("DATABASE_URL", target)
    (workdir / "team.yaml").write_text(EXAMPLE_TEAM.read_text(encoding="utf-8"), encoding="utf-8")
    result = invoke("incident", "list")
    assert result.exit_code == 2 and "Database:" in result.output and "database folder" in result.output


def test_init_writes_team_file_and_env(workdir: Path) -> None:
    result = invoke("init")
    assert result.exit_code == 0
    assert "支付技术部" in (workdir / "team.yaml").read_text(encoding="utf-8")
    assert "SLACK_BOT_TOKEN=" in (workdir / ".env").read_text(encoding="utf-8")
    assert "kept" in invoke("init").output


def test_incident_add_and_list(workdir: Path) -> None:
    (workdir / "team.yaml").write_text(EXAMPLE_TEAM.read_text(encoding="utf-8"), encoding="utf-8")
    bad = invoke("incident", "add", "级别：C", "--as", "lina")
    assert bad.exit_code == 1 and "/incident" in bad.output
    ok = invoke("incident", "add", "2024-06-27 10:00 order-api 超时 级别：C", "--as", "lina")
    assert ok.exit_code == 0 and "#1" in ok.output
    listing = invoke("incident", "list", "--week", "2024-W26")
    assert "#1 2024-06-27 10:00 [C] order-api超时" in listing.output  # not this year: the year is shown


def test_doctor_names_what_is_wrong(workdir: Path) -> None:
    result = invoke("doctor")
    assert result.exit_code == 1 and "file not found" in result.output
    (workdir / "team.yaml").write_text(EXAMPLE_TEAM.read_text(encoding="utf-8"), encoding="utf-8")
    assert invoke("db", "upgrade").exit_code == 0
    result = invoke("doctor")
    assert result.exit_code == 0, result.output
    from alembic.script import ScriptDirectory

    from storage.db import MIGRATIONS, alembic_config, make_engine

    head = ScriptDirectory.from_config(alembic_config(make_engine("sqlite://"))).get_current_head()
    assert MIGRATIONS.exists() and head
    assert f"migrations at {head} (head {head})" in result.output and "zhoubao:publish: next" in result.output


def test_console_script_piped_through_run(workdir: Path) -> None:
    (workdir / "team.yaml").write_text(EXAMPLE_TEAM.read_text(encoding="utf-8"), encoding="utf-8")
    script = "\n".join([
        "as 周杰", "clock thu 10:00", "inbox", "[1] 整体进度 60%", "edit last 整体进度 65%",
        "/zhoubao status", "as 张伟", "/zhoubao publish confirm", "channel",
    ])
    result = invoke("run", "--start", "2024-06-24 09:00", input=script)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "── DM to 周杰" in out and "[1] O3 平台治理 · 机房迁移" in out
    assert "✅ 已记录：O3 平台治理 · 机房迁移（机房迁移 进度 65%）" in out
    assert "✅ [1] O3 平台治理 · 机房迁移" in out
    assert "📣 2024-W26 周报已发布" in out and "1. 机房迁移：整体进度 65%" in out


def test_the_env_written_by_init_means_console(workdir: Path) -> None:
    """Empty credential lines (as in .env.example) mean 'not set', not an empty token."""
    assert invoke("init").exit_code == 0
    from bot.runtime.settings import Settings

    assert Settings().platform == "console"
    result = invoke("run", input="who\n")
    assert result.exit_code == 0 and "张伟 (zhangwei)" in result.output


def test_slack_without_a_transport_secret_is_a_clear_message(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (workdir / "team.yaml").write_text(EXAMPLE_TEAM.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    result = invoke("run")
    assert result.exit_code == 2 and "SLACK_APP_TOKEN" in result.output and "SLACK_SIGNING_SECRET" in result.output


def test_feishu_http_mode_needs_its_keys(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (workdir / "team.yaml").write_text(EXAMPLE_TEAM.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("FEISHU_APP_ID", "cli_x")
    monkeypatch.setenv("FEISHU_APP_SECRET", "s")
    monkeypatch.setenv("FEISHU_EVENT_MODE", "http")
    result = invoke("run")
    assert result.exit_code == 2 and "FEISHU_ENCRYPT_KEY" in result.output


# ----- a bad argument is one line, never a traceback (issue 19, item 7) ------------------------------------


def test_a_sqlite_url_with_two_slashes_is_one_line(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (fresh / "team.yaml").write_text(EXAMPLE_TEAM.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", "sqlite://data/x.db")  # "data" would be read as a host
    line = one_line_error(invoke("report", "--week", "2024-W26"))
    assert line.startswith("Settings: DATABASE_URL 'sqlite://data/x.db' has two slashes") and "sqlite:///data/x.db" in line


def test_report_output_into_a_missing_folder_makes_the_folder(workdir: Path) -> None:
    assert invoke("demo").exit_code == 0
    result = invoke("report", "--week", "2024-W26", "--output", "reports/2024/W26.md")
    assert result.exit_code == 0, result.output
    assert (workdir / "reports" / "2024" / "W26.md").read_text(encoding="utf-8").startswith("# 2024-W26")
    (workdir / "taken").write_text("a file, not a folder", encoding="utf-8")
    line = one_line_error(invoke("report", "--week", "2024-W26", "--output", "taken/W26.md"))
    assert line.startswith("--output taken/W26.md: cannot write it")


def test_init_where_it_cannot_write_is_one_line(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A file where the folder should be: unwritable for every user, root included (a chmod is not).
    (fresh / "config").write_text("a file, not a folder", encoding="utf-8")
    monkeypatch.setenv("TEAM_FILE", "config/team.yaml")
    line = one_line_error(invoke("init"))
    assert line.startswith("Cannot write config/team.yaml (") and "in a folder you can write to" in line
    assert not (fresh / ".env").exists() and not (fresh / "data").exists()


def test_slack_with_the_port_taken_says_so_before_calling_slack_or_migrating(
        fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (fresh / "team.yaml").write_text(EXAMPLE_TEAM.read_text(encoding="utf-8"), encoding="utf-8")
    slack = SlackStandIn().start()
    try:
        with bind(0, "127.0.0.1") as taken:
            port = taken.getsockname()[1]
            monkeypatch.setenv("PORT", str(port))
            monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
            monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
            monkeypatch.setenv("SLACK_API_URL", slack.url + "/api/")
            line = one_line_error(invoke("run"))
    finally:
        slack.stop()
    assert line.startswith(f"HTTP: cannot listen on port {port} (Address already in use")
    assert line.endswith("set PORT to a free port.")
    assert slack.calls == [] and not (fresh / "data").exists()  # no sign-in call, no database, no log line
