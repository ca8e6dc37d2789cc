"""The dashboard as a Starlette app the runtime mounts at `/` on the one HTTP server."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.adapters.web.config import DashboardConfig
from bot.adapters.web.department import DepartmentPage, DepartmentWeb
from bot.adapters.web.pages import Pages
from bot.adapters.web.settings_page import SettingsPage
from bot.adapters.web.signin import SignInRoutes
from bot.adapters.web.site import Refusal, SignInNeeded, Site
from bot.services.bot import Bot
from bot.services.context import Clock
from bot.services.team_settings import TeamSettingsPort
from bot.text.render import templates_dir
from storage.db import DatabaseUnavailable

if TYPE_CHECKING:
    import httpx

# Scripts only from our own files (no inline script: people's text can never run), styles inline, nothing
# from other origins, and no framing (clickjacking). Forms post only here: the sign-in buttons are links, so
# the platforms' hosts need no form-action. Every answer is someone's view of the team (or carries their
# CSRF token), so no cache may keep it.
_HEADERS = [
    (b"content-security-policy", b"default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "
                                 b"img-src 'self' data:; "
                                 b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]


# The heading of an error page, by status: what happened, in the page's language.
_ERROR_TITLES = {400: "bad_request_title", 403: "forbidden_title", 404: "not_found_title", 405: "bad_request_title",
                 409: "conflict_title", 503: "unavailable_title"}


class _SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


class _SessionCheck:
    """Looks up the session behind the cookie before any route runs (see `Site.check_session`)."""

    def __init__(self, app: ASGIApp, site: Site) -> None:
        self.app = app
        self.site = site

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.site.check_session(Request(scope))
        await self.app(scope, receive, send)


class _UnderMount:
    """A team's pages mounted at `/t/<key>` redirect within it: their handlers say `/week/...`, and the
    answer's Location gets the mount's prefix, so a person stays on the team they opened (sign-in included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        root = scope.get("root_path", "")
        if scope["type"] != "http" or not root:
            await self.app(scope, receive, send)
            return

        async def prefixed(message: Message) -> None:
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
                headers = []
                for name, value in message.get("headers", []):
                    if name == b"location":
                        target = value.decode("latin-1")
                        if target.startswith("/") and not target.startswith(root + "/"):
                            value = (root + target).encode("latin-1")
                    headers.append((name, value))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, prefixed)


def build_department_dashboard(web: DepartmentWeb, served: Bot, config: DashboardConfig, *,
                               clock: Clock | None = None, transport: httpx.AsyncBaseTransport | None = None,
                               team_settings: TeamSettingsPort | None = None) -> Starlette:
    """The dashboard of a department: every team's pages at `/t/<key>/...`, the served team's also at `/`
    (the single-team addresses, sign-in included), and the department page at `/department[/<week>]`."""
    teams: list[BaseRoute] = [
        Mount(web.base(key), app=build_dashboard(bot, config, clock=clock, transport=transport, department=web,
                                                 team_settings=team_settings if bot is served else None))
        for key, bot in web.bots.items()]
    home = build_dashboard(served, config, clock=clock, transport=transport, team_settings=team_settings,
                           department=web)
    return Starlette(routes=[*teams, Mount("/", app=home)])


def build_dashboard(bot: Bot, config: DashboardConfig, *, clock: Clock | None = None,
                    transport: httpx.AsyncBaseTransport | None = None,
                    team_settings: TeamSettingsPort | None = None, department: DepartmentWeb | None = None) -> Starlette:
    """The dashboard's routes, sessions and error pages; `transport` points the OAuth calls at a stand-in;
    `team_settings` (the team file behind the running team) gives admins the settings page; `department`
    (several teams) shares sessions across the teams' pages and adds the department page."""
    site = Site(bot, config, clock or bot.ctx.clock, settings_page=team_settings is not None, department=department)
    pages, signin = Pages(site), SignInRoutes(site, transport)
    settings = SettingsPage(site, team_settings)

    async def forbidden(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refusal)
        return site.page(request, "forbidden.html", status=exc.status, title_key=_ERROR_TITLES.get(exc.status, "forbidden_title"),
                         message=site.words(request)(exc.reason, **exc.params))

    async def database_down(request: Request, exc: Exception) -> Response:
        return site.page(request, "forbidden.html", status=503, title_key=_ERROR_TITLES[503],
                         message=site.words(request)("db_unavailable"))

    async def not_found(request: Request, exc: Exception) -> Response:
        """An unknown address (or method) gets a page in the visitor's language, not a bare "Not Found"."""
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        reason = "method_not_allowed" if status == 405 else "not_found"
        return site.page(request, "forbidden.html", status=status, title_key=_ERROR_TITLES.get(status, "not_found_title"),
                         message=site.words(request)(reason))

    async def sign_in_needed(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInNeeded)
        return site.redirect("/signin?" + urlencode({"next": exc.next_path}))

    # The few scripts the pages load (no framework, nothing from other origins), read once.
    scripts = {p.name: p.read_bytes() for p in (templates_dir() / "web" / "assets").glob("*.js")}

    async def assets(request: Request) -> Response:
        body = scripts.get(request.path_params["name"])
        if body is None:
            raise Refusal("not_found", status=404)
        return Response(body, media_type="text/javascript; charset=utf-8")

    routes = [
        Route("/", pages.home),
        Route("/signin", signin.page),
        Route("/signin/link", signin.link),
        Route("/signin/link", signin.redeem, methods=["POST"]),
        Route("/signin/slack", signin.slack_start),
        Route("/signin/slack/callback", signin.slack_callback),
        Route("/signin/feishu", signin.feishu_start),
        Route("/signin/feishu/callback", signin.feishu_callback),
        Route("/signout", signin.sign_out, methods=["POST"]),
        Route("/week", pages.week),
        Route("/week/remind", pages.remind, methods=["POST"]),
        Route("/week/{label}", pages.week),
        Route("/week/{label}/items", pages.edit, methods=["POST"]),
        Route("/week/{label}/publish", pages.confirm_publish),
        Route("/week/{label}/publish", pages.publish, methods=["POST"]),
        Route("/week/{label}/digest", pages.digest, methods=["POST"]),
        Route("/week/{label}/report.{fmt:str}", pages.download),
        Route("/history", pages.history),
        Route("/export", pages.export),
        Route("/search", pages.search),
        Route("/trends", pages.trends),
        Route("/item", pages.item),
        Route("/settings", settings.show),
        Route("/settings", settings.save, methods=["POST"]),
        Route("/assets/{name:str}", assets),
    ]
    if department is not None:
        rollup = DepartmentPage(site, department)
        routes += [Route("/department", rollup.show), Route("/department/{label}", rollup.show)]
    middleware = [
        Middleware(_SecurityHeaders),
        Middleware(_UnderMount),
        # Signed (itsdangerous) cookie, HttpOnly always; SameSite=Lax; Secure when served over HTTPS.
        Middleware(SessionMiddleware, secret_key=config.secret, session_cookie="zhoubao_session",
                   max_age=int(timedelta(hours=config.session_hours).total_seconds()), same_site="lax",
                   https_only=config.secure),
        Middleware(_SessionCheck, site=site),
    ]
    return Starlette(routes=routes, middleware=middleware,
                     exception_handlers={Refusal: forbidden, SignInNeeded: sign_in_needed,
                                         DatabaseUnavailable: database_down, 404: not_found, 405: not_found})
