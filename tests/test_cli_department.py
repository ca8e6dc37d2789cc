"""The command line with a department (issue 25): init, demo, a team's report and the roll-up."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from tests.conftest import invoke, one_line_error


def test_init_and_demo_a_department_then_the_rollup_names_all_three_teams(workdir: Path) -> None:
    result = invoke("init", "--department")
    assert result.exit_code == 0, result.output
    for name in ("team.yaml", "acquiring.yaml", "settlement.yaml", "crossborder.yaml"):
        assert (workdir / name).exists(), name
    assert (workdir / "team.yaml").read_text(encoding="utf-8").startswith("# zhoubao department file")
    result = invoke("demo", "--department")
    assert result.exit_code == 0, result.output
    # Each team's report was posted to its channel on the console, then the roll-up to the department's.
    for channel in ("#acquiring-weekly", "#settlement-weekly", "#crossborder-weekly", "#department-weekly"):
        assert f"── {channel} (" in result.output, channel
    assert result.output.index("#crossborder-weekly") < result.output.index("#department-weekly")

    rollup = invoke("report", "--department", "--week", "2024-W26")
    assert rollup.exit_code == 0, rollup.output
    text = rollup.stdout
    assert text.startswith("# 支付事业部 2024-W26 周报汇总\n\nCreated: 2024年6月28日 18:00\n")
    for team in ("收单技术组", "清结算组", "Cross-border Payments"):
        assert f"## 【{team}】\n\n2024年6月28日 17:00 发布" in text, team
    assert "| 收单技术组 | 99.993% | 99.981% | 99.997% | 0 | 1 | 0.5 |" in text
    assert "未发布" not in text

    english = invoke("report", "--team", "crossborder", "--week", "2024-W26")
    assert english.exit_code == 0 and "Created: Jun 28, 2024 17:00" in english.stdout
    assert "Yearly availability: 99.98%" in english.stdout
    zh = invoke("report", "--team", "清结算组", "--week", "2024-W26")
    assert zh.exit_code == 0 and "清算准时率：99.95%" in zh.stdout

    again = invoke("demo", "--department")
    assert again.exit_code == 0 and "already in this database" in again.output


def test_a_department_asks_which_team(workdir: Path) -> None:
    assert invoke("init", "--department").exit_code == 0
    line = one_line_error(invoke("report", "--week", "2024-W26"))
    assert line == ("--team: this department has 3 teams; choose one with --team (acquiring (收单技术组), "
                    "settlement (清结算组), crossborder (Cross-border Payments))")
    line = one_line_error(invoke("incident", "list", "--team", "risk"))
    assert line.startswith("--team: no team 'risk' in this department")
    result = invoke("incident", "add", "gateway-api 超时 级别：C", "--as", "wutao", "--team", "settlement")
    assert result.exit_code == 0, result.output
    # Filed in 清结算组 (this week, by the wall clock), and in no other team.
    assert "gateway-api" in invoke("incident", "list", "--team", "settlement").stdout
    assert "gateway-api" not in invoke("incident", "list", "--team", "acquiring").stdout


def test_the_rollup_needs_a_department_file(workdir: Path) -> None:
    assert invoke("init").exit_code == 0
    line = one_line_error(invoke("report", "--department", "--week", "2024-W26"))
    assert "is a team file; the roll-up needs a department file" in line
    line = one_line_error(invoke("report", "--department", "--week", "2024-W26", "--format", "slack"))
    assert line.startswith("--department prints the roll-up of every team in md")


def test_run_serves_the_whole_department_and_names_the_teams_an_app_is_missing_for(
        workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert invoke("init", "--department").exit_code == 0
    cross = workdir / "crossborder.yaml"
    cross.write_text(cross.read_text(encoding="utf-8").replace("team:\n", "team:\n  platform: slack\n", 1),
                     encoding="utf-8")
    with socket.socket() as s:  # a free loopback port for the HTTP app (the run stops before serving)
        s.bind(("127.0.0.1", 0))
        monkeypatch.setenv("PORT", str(s.getsockname()[1]))
    # No --team and a team on Slack: the whole department in one process, which needs Slack's credentials.
    # (Serving configures the process's JSON logging on the root logger: put pytest's handlers back after.)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    line = one_line_error(invoke("run", input=""))
    assert line == "department: crossborder on slack: SLACK_BOT_TOKEN is not set"
    # With --team, one team as before (settlement has no platform: the environment's, the console).
    played = invoke("run", "--team", "settlement", input="who\n")
    assert played.exit_code == 0, played.output
    assert "zhengshuang" in played.output or "郑爽" in played.output


def test_run_with_team_serves_it_on_its_own_platform(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert invoke("init", "--department").exit_code == 0
    cross = workdir / "crossborder.yaml"
    cross.write_text(cross.read_text(encoding="utf-8").replace("team:\n", "team:\n  platform: feishu\n", 1),
                     encoding="utf-8")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        monkeypatch.setenv("PORT", str(s.getsockname()[1]))
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    # No credentials in the environment: the console for the others, but Cross-border is on Feishu.
    line = one_line_error(invoke("run", "--team", "crossborder", input=""))
    assert line == "feishu: set FEISHU_APP_ID and FEISHU_APP_SECRET"
