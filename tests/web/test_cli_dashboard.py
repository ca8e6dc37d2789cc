"""`zhoubao dashboard link --as NAME`: a link the running dashboard accepts once."""

from __future__ import annotations

import io
import shutil
import stat
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from typer.testing import CliRunner

from bot.adapters.console.chat import ConsoleChat, VirtualClock
from bot.adapters.console.demo import EXAMPLE_DEPARTMENT
from bot.runtime.cli import app
from bot.runtime.composition import build_bot
from bot.runtime.team_file import load_team
from bot.services.signin import SignIn, SignInRefused
from tests.conftest import EXAMPLE_TEAM


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'z.db'}")
    for var in ("TEAM_FILE", "DASHBOARD_SECRET", "DASHBOARD_URL", "SLACK_BOT_TOKEN", "FEISHU_APP_ID"):
        monkeypatch.delenv(var, raising=False)
    shutil.copyfile(EXAMPLE_TEAM, tmp_path / "team.yaml")
    return tmp_path


def test_link_is_signed_with_a_kept_secret_and_works_once(workdir: Path) -> None:
    result = CliRunner().invoke(app, ["dashboard", "link", "--as", "张伟"])
    assert result.exit_code == 0, result.output
    url = httpx.URL(result.stdout.strip().splitlines()[0])
    assert str(url).startswith("http://127.0.0.1:3000/signin/link?token=")
    secret_file = workdir / "data" / "dashboard-secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    team = load_team(workdir / "team.yaml")
    bot = build_bot(team, ConsoleChat(io.StringIO()),
                    VirtualClock(datetime.now(ZoneInfo("Asia/Shanghai"))), database_url=f"sqlite:///{workdir / 'z.db'}")
    signin = SignIn(bot.ctx, secret_file.read_text().strip())
    assert signin.redeem_link(url.params["token"]).person.id == "zhangwei"
    with pytest.raises(SignInRefused) as used:
        signin.redeem_link(url.params["token"])
    assert used.value.reason == "link_used"
    again = CliRunner().invoke(app, ["dashboard", "link", "--as", "lina"])
    assert SignIn(bot.ctx, secret_file.read_text().strip()).peek_link(
        httpx.URL(again.stdout.strip().splitlines()[0]).params["token"]).id == "lina"  # type: ignore[union-attr]


def test_link_for_someone_outside_the_team_is_refused(workdir: Path) -> None:
    result = CliRunner().invoke(app, ["dashboard", "link", "--as", "nobody"])
    assert result.exit_code == 2
    assert "'nobody' is not in the team file" in result.output


def test_in_a_department_the_link_opens_the_chosen_teams_pages(workdir: Path) -> None:
    shutil.copytree(EXAMPLE_DEPARTMENT, workdir / "department")
    env = {"TEAM_FILE": str(workdir / "department" / "department.yaml")}
    result = CliRunner().invoke(app, ["dashboard", "link", "--team", "settlement", "--as", "zhoumin"], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("http://127.0.0.1:3000/t/settlement/signin/link?token=")
    unnamed = CliRunner().invoke(app, ["dashboard", "link", "--as", "zhoumin"], env=env)
    assert unnamed.exit_code == 2 and "choose one with --team" in unnamed.output
