"""The web dashboard: this week, edits and publish, history, search, trends; signed in via link, Slack or Feishu.

`build_dashboard` (Starlette, Jinja2, Authlib) is imported on first use (PEP 562 module `__getattr__`):
the runtime's settings read `config` on every command, and `zhoubao --help` need not load a web stack."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.adapters.web.config import DashboardConfig, FeishuSignIn, SlackSignIn, WebSettings

if TYPE_CHECKING:
    from bot.adapters.web.app import build_dashboard, build_department_dashboard
    from bot.adapters.web.department import DepartmentWeb

__all__ = ["DashboardConfig", "FeishuSignIn", "SlackSignIn", "WebSettings", "build_dashboard",
           "build_department_dashboard", "DepartmentWeb"]


def __getattr__(name: str) -> Any:
    if name in ("build_dashboard", "build_department_dashboard"):
        from bot.adapters.web import app

        return getattr(app, name)
    if name == "DepartmentWeb":
        from bot.adapters.web.department import DepartmentWeb

        return DepartmentWeb
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
