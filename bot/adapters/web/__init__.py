"""The web dashboard: this week, edits and publish, history, search, trends; signed in via link, Slack or Feishu."""

from bot.adapters.web.app import build_dashboard
from bot.adapters.web.config import DashboardConfig, FeishuSignIn, SlackSignIn, WebSettings

__all__ = ["DashboardConfig", "FeishuSignIn", "SlackSignIn", "WebSettings", "build_dashboard"]
