"""The dashboard's Slack sign-in reads its own variables, never the ones Bolt's `App` reads (issue 19, item 1)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.runtime.cli import app
from bot.runtime.dashboard import dashboard_config
from bot.runtime.settings import Settings

NAMES = ("DASHBOARD_SLACK_CLIENT_ID", "DASHBOARD_SLACK_CLIENT_SECRET", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.chdir(tmp_path)
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DASHBOARD_SECRET", "s" * 32)
    return monkeypatch


def test_sign_in_with_slack_reads_the_dashboard_names(env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    env.setenv("DASHBOARD_SLACK_CLIENT_ID", "2141029472.691202649728")
    env.setenv("DASHBOARD_SLACK_CLIENT_SECRET", "e1b9e11dfcd19c1982d5de12921e17e8c")
    with caplog.at_level(logging.WARNING):
        slack = dashboard_config(Settings(_env_file=None)).slack  # type: ignore[call-arg]
    assert slack is not None
    assert (slack.client_id, slack.client_secret) == ("2141029472.691202649728", "e1b9e11dfcd19c1982d5de12921e17e8c")
    assert not caplog.records


def test_the_old_names_still_work_with_one_warning_line(env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    env.setenv("SLACK_CLIENT_ID", "old-id")
    env.setenv("SLACK_CLIENT_SECRET", "old-secret")
    with caplog.at_level(logging.WARNING):
        slack = dashboard_config(Settings(_env_file=None)).slack  # type: ignore[call-arg]
    assert slack is not None and (slack.client_id, slack.client_secret) == ("old-id", "old-secret")
    [record] = caplog.records
    assert "\n" not in record.getMessage()
    assert "DASHBOARD_SLACK_CLIENT_ID" in record.getMessage() and "DASHBOARD_SLACK_CLIENT_SECRET" in record.getMessage()


def test_init_writes_the_dashboard_names_and_not_bolts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'z.db'}")
    monkeypatch.delenv("TEAM_FILE", raising=False)
    result = CliRunner().invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    env_file = (tmp_path / ".env").read_text(encoding="utf-8")
    assigned = re.findall(r"^([A-Z_]+)=", env_file, flags=re.MULTILINE)
    assert "DASHBOARD_SLACK_CLIENT_ID" in assigned and "DASHBOARD_SLACK_CLIENT_SECRET" in assigned
    # Bolt's App switches to its OAuth installation flow when these exist in the environment, even empty.
    assert "SLACK_CLIENT_ID" not in assigned and "SLACK_CLIENT_SECRET" not in assigned
    assert (tmp_path / "team.yaml").exists()
