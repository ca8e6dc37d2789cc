"""First contact with a deployment (issue 19): a bot with no credentials and nobody at the terminal stops
with one line instead of looping, and the one HTTP app listens where HOST says (loopback by default)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.runtime.composition import bind, listen
from bot.runtime.settings import Settings
from tests.conftest import EXAMPLE_TEAM, PATIENCE

ZHOUBAO = Path(sys.executable).parent / "zhoubao"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The process environment with no chat credentials (and none of the developer's zhoubao settings)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "FEISHU_", "DASHBOARD_")) and k not in ("ZHOUBAO_CONSOLE", "HOST")}
    with bind(0, "127.0.0.1") as probe:
        port = probe.getsockname()[1]
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path}/z.db", "TEAM_FILE": str(EXAMPLE_TEAM), "PORT": str(port),
                **extra})
    return env


def _run(tmp_path: Path, stdin: int | None, script: str | None = None, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ZHOUBAO), "run", "--start", "2024-06-24 09:00"], cwd=tmp_path,
                          env=_env(tmp_path, **extra), stdin=stdin, input=script, capture_output=True, text=True,
                          timeout=PATIENCE)


def _refusal(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert result.stdout == "", "nothing started: no console prompt, no console output"
    return lines[0]


def test_no_credentials_and_stdin_devnull_refuses_with_one_line_naming_the_credentials(tmp_path: Path) -> None:
    # What a container (docker run without -i, compose) and a systemd unit give the process: /dev/null.
    line = _refusal(_run(tmp_path, subprocess.DEVNULL))
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "FEISHU_APP_ID", "FEISHU_APP_SECRET"):
        assert name in line, line
    assert "stdin is not a terminal" in line
    assert not (tmp_path / "z.db").exists(), "refused before the database was touched"


def test_zhoubao_console_off_refuses_even_with_a_script_on_stdin(tmp_path: Path) -> None:
    line = _refusal(_run(tmp_path, None, "who\n", ZHOUBAO_CONSOLE="0"))
    assert "ZHOUBAO_CONSOLE=0" in line and "SLACK_BOT_TOKEN" in line


def test_a_piped_script_still_plays_on_the_console(tmp_path: Path) -> None:
    result = _run(tmp_path, None, "who\n")
    assert result.returncode == 0, result.stderr
    assert "lina" in result.stdout.lower() or "李娜" in result.stdout, result.stdout


def test_zhoubao_console_on_starts_the_console_even_from_devnull(tmp_path: Path) -> None:
    result = _run(tmp_path, subprocess.DEVNULL, ZHOUBAO_CONSOLE="1")
    assert result.returncode == 0, result.stderr
    assert "No chat credentials" not in result.stderr


# ----- HOST --------------------------------------------------------------------------------------------


def test_host_defaults_to_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """`make run` on a laptop: the dashboard and /metrics are not offered to the whole network."""
    monkeypatch.delenv("HOST", raising=False)
    settings = Settings(_env_file=None).model_copy(update={"port": 0})  # type: ignore[call-arg]
    with listen(settings) as sock:
        assert sock.getsockname()[0] == "127.0.0.1"


def test_host_0000_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the container image, compose and the systemd unit set."""
    monkeypatch.setenv("HOST", "0.0.0.0")
    settings = Settings(_env_file=None).model_copy(update={"port": 0})  # type: ignore[call-arg]
    with listen(settings) as sock:
        assert sock.getsockname()[0] == "0.0.0.0"
