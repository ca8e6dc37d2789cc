"""Wiring the web dashboard from the settings: its secret, its sign-in providers, one-time links."""

from __future__ import annotations

import logging
import os
import secrets
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from bot.adapters.web.config import DashboardConfig, FeishuSignIn, SlackSignIn, team_path
from bot.runtime.settings import Settings
from bot.services.sign_in_links import LinkTokens, TeamNow

log = logging.getLogger("zhoubao.runtime")

if TYPE_CHECKING:  # the web stack and the services load when the dashboard is built, not for `dashboard link`
    from starlette.applications import Starlette

    from bot.services.bot import Bot


def dashboard_secret(settings: Settings) -> str:
    """DASHBOARD_SECRET, else a random one kept (0600) in DASHBOARD_SECRET_FILE so every process shares it."""
    if settings.dashboard_secret is not None:
        return settings.dashboard_secret.get_secret_value()
    path: Path = settings.dashboard_secret_file
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secret + "\n")
    return secret


def dashboard_config(settings: Settings) -> DashboardConfig:
    """The dashboard's configuration from the settings: Slack/Feishu sign-in when their credentials are set."""
    old = settings.old_names()
    if old:
        log.warning("%s: rename to %s (Slack's Bolt reads the old names too)", " and ".join(old),
                    " and ".join("DASHBOARD_" + name for name in old))
    credentials = settings.slack_sign_in()
    slack = SlackSignIn(*credentials, settings.slack_openid_url) if credentials else None
    feishu = None
    if settings.feishu_app_id and settings.feishu_app_secret is not None:
        feishu = FeishuSignIn(settings.feishu_app_id, settings.feishu_app_secret.get_secret_value(),
                              settings.feishu_domain)
    return DashboardConfig(secret=dashboard_secret(settings),
                           public_url=settings.dashboard_url or f"http://127.0.0.1:{settings.port}",
                           slack=slack, feishu=feishu)


def sign_in_link(where: TeamNow, config: DashboardConfig, who: str, *, team_key: str | None = None) -> tuple[str, datetime]:
    """A one-time sign-in link for `who` (id or name) and when it expires; SignInRefused if not in the team.
    `team_key`: the team's key in a department of several teams, whose pages live under `/t/<key>`."""
    token, expires = LinkTokens(config.secret).issue(where, who)
    base = team_path(team_key) if team_key is not None else ""
    return config.url(base + "/signin/link?" + urlencode({"token": token})), expires


def dashboard_app(bot: Bot, settings: Settings) -> Starlette:
    """The dashboard for the shared HTTP app to mount at `/`."""
    from bot.adapters.web.app import build_dashboard

    return build_dashboard(bot, dashboard_config(settings))
