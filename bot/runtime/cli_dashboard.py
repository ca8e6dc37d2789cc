"""`zhoubao dashboard …`: a one-time sign-in link, and the dashboard served on its own."""

from __future__ import annotations

import io
import os
import secrets
from datetime import datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

import typer

from bot.adapters.console.workspace import ConsoleChat, VirtualClock
from bot.adapters.web.config import DashboardConfig, FeishuSignIn, SlackSignIn
from bot.runtime.composition import build_bot
from bot.runtime.settings import Settings
from bot.runtime.team_file import TeamFileError, load_team
from bot.services.bot import Bot
from bot.services.signin import SignIn, SignInRefused
from storage.db import DatabaseError

dashboard_app = typer.Typer(help="The web dashboard: sign-in links.", no_args_is_help=True)


def dashboard_secret(settings: Settings) -> str:
    """DASHBOARD_SECRET, else a random one kept (0600) in DASHBOARD_SECRET_FILE so every process shares it."""
    if settings.dashboard_secret is not None:
        return settings.dashboard_secret.get_secret_value()
    path: Path = settings.dashboard_secret_file
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secret + "\n")
    return secret


def dashboard_config(settings: Settings) -> DashboardConfig:
    """The dashboard's configuration from the settings: Slack/Feishu sign-in when their credentials are set."""
    slack = None
    if settings.slack_client_id and settings.slack_client_secret is not None:
        slack = SlackSignIn(settings.slack_client_id, settings.slack_client_secret.get_secret_value(),
                            settings.slack_openid_url)
    feishu = None
    if settings.feishu_app_id and settings.feishu_app_secret is not None:
        feishu = FeishuSignIn(settings.feishu_app_id, settings.feishu_app_secret.get_secret_value(),
                              settings.feishu_domain)
    return DashboardConfig(secret=dashboard_secret(settings),
                           public_url=settings.dashboard_url or f"http://127.0.0.1:{settings.port}",
                           slack=slack, feishu=feishu)


def sign_in_link(bot: Bot, config: DashboardConfig, who: str) -> tuple[str, datetime]:
    """A one-time sign-in link for `who` (id or name) and when it expires; SignInRefused if not in the team."""
    token, expires = SignIn(bot.ctx, config.secret).issue_link_token(who)
    return config.url("/signin/link?" + urlencode({"token": token})), expires


@dashboard_app.command("link")
def link(who: Annotated[str, typer.Option("--as", help="A person id or name from the team file.")]) -> None:
    """Print a signed sign-in link for one person; it works once and expires in 10 minutes."""
    try:
        settings = Settings()
        team = load_team(settings.team_file)
        bot = build_bot(team, ConsoleChat(io.StringIO()), VirtualClock(datetime.now(team.zone)),
                        database_url=settings.database_url)
    except (TeamFileError, DatabaseError, ValueError) as exc:  # ValueError: pydantic's, naming the setting
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    try:
        url, expires = sign_in_link(bot, dashboard_config(settings), who)
    except SignInRefused:
        typer.echo(f"'{who}' is not in the team file {settings.team_file}", err=True)
        raise typer.Exit(2) from None
    typer.echo(url)
    typer.echo(f"(one use; expires {expires.astimezone(team.zone):%Y-%m-%d %H:%M %Z})", err=True)
