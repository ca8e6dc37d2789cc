"""What every dashboard handler shares: templates, words, the viewer, CSRF, flash messages, safe redirects."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import jinja2
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from bot.adapters.web.config import DashboardConfig
from bot.domain.team import Team
from bot.domain.weeks import IsoWeek, WeekLabelError
from bot.services.bot import Bot
from bot.services.context import Clock
from bot.services.dashboard import Dashboard
from bot.services.signin import SignIn, Viewer
from bot.services.team_settings import may_change_settings
from bot.services.trends import TrendsService
from bot.text import i18n
from bot.text.catalogue import CATALOGUES, say
from bot.text.catalogue import words as catalogue_words
from bot.text.render import templates_dir, without_bidi
from storage.db import DatabaseUnavailable

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

    from bot.adapters.web.department import DepartmentWeb


class Refusal(Exception):
    """Answered with `status` (403 unless said) and the plain explanation `reason` names (a `web.` catalogue key, without the prefix)."""

    def __init__(self, reason: str, status: int = 403, **params: str) -> None:
        self.reason, self.status, self.params = reason, status, params
        super().__init__(reason)


class SignInNeeded(Exception):
    """Answered with a redirect to the sign-in page, coming back to `next` afterwards."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path
        super().__init__(next_path)


def safe_next(value: str | None, default: str = "/week") -> str:
    """A local path to go back to; anything else (other hosts, `//host`, `/\\host`, schemes) is `default`."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or any(c in value for c in "\r\n\\"):
        return default
    return value


class Site:
    def __init__(self, bot: Bot, config: DashboardConfig, clock: Clock, *, settings_page: bool = False,
                 department: DepartmentWeb | None = None) -> None:
        self.bot, self.config, self.clock = bot, config, clock
        self.department = department  # several teams: sessions are shared, each team's pages check who may see
        self.settings_page = settings_page  # whether a team file stands behind the settings page
        self.dashboard = Dashboard(bot)
        self.trends = TrendsService(bot.ctx)
        self.signin = SignIn(bot.ctx, config.secret, timedelta(hours=config.session_hours))
        # Autoescape on: everything people typed reaches the page as text.
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates_dir() / "web"),
                                      autoescape=True, undefined=jinja2.StrictUndefined,
                                      trim_blocks=True, lstrip_blocks=True)
        self.env.filters["percent"] = percent
        self.env.filters["number"] = number
        self._html: dict[str, Markup] = {}

    @cached_property
    def md(self) -> MarkdownIt:
        """CommonMark with html off: a reply containing HTML is shown as typed, never as markup. Built by the
        first page that shows a report, so a process start does not load markdown-it (~15 ms)."""
        from markdown_it import MarkdownIt

        return MarkdownIt("commonmark", {"html": False})

    @property
    def team(self) -> Team:
        """The team as the team file says now (a settings change reaches the pages without a restart)."""
        return self.bot.ctx.team

    # ----- the session ---------------------------------------------------------------

    def locale(self, request: Request) -> str:
        wanted = request.query_params.get("lang")
        if wanted in CATALOGUES:
            request.session["lang"] = wanted
        lang = request.session.get("lang")
        return lang if lang in CATALOGUES else self.team.team.locale

    async def check_session(self, request: Request) -> None:
        """Look this request's session up (its record and the team file), once, before any handler: an
        ended session leaves the cookie; `viewer` and `require` then read what was found."""
        token = request.session.get("sid")
        viewer, refused = None, False
        if isinstance(token, str):
            try:
                if self.department is None:
                    viewer = await run_in_threadpool(self.signin.session_viewer, token)
                else:
                    seen = await run_in_threadpool(self.department.seen, token, self.bot)
                    viewer, refused = seen.viewer, seen.refused
            except DatabaseUnavailable as exc:
                request.state.database_down = exc
            else:
                if viewer is None and not refused:
                    self._forget(request)
        request.state.viewer = viewer
        request.state.other_team = refused

    def viewer(self, request: Request) -> Viewer | None:
        """Who is signed in, as `check_session` found for this request."""
        viewer = getattr(request.state, "viewer", None)
        return viewer if isinstance(viewer, Viewer) else None

    def require(self, request: Request) -> Viewer:
        down = getattr(request.state, "database_down", None)
        if isinstance(down, DatabaseUnavailable):
            raise down
        viewer = self.viewer(request)
        if viewer is None and getattr(request.state, "other_team", False):
            raise Refusal("other_team", team=self.team.team.name)
        if viewer is None:
            path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise SignInNeeded(path)
        return viewer

    async def sign_in(self, request: Request, viewer: Viewer) -> None:
        """A fresh session for `viewer` (nothing from before sign-in carries over, so no fixation)."""
        await self.sign_out(request)
        token = await run_in_threadpool(self.signin.start_session, viewer)
        request.session.update({"sid": token, "csrf": secrets.token_urlsafe(24)})

    async def sign_out(self, request: Request) -> None:
        """End the session on the server (a copy of the cookie is refused too) and empty the cookie."""
        token = request.session.get("sid")
        if isinstance(token, str):
            await run_in_threadpool(self.signin.end_session, token)
        self._forget(request)

    def _forget(self, request: Request) -> None:
        lang = request.session.get("lang")
        request.session.clear()
        if lang:
            request.session["lang"] = lang

    def csrf_token(self, request: Request) -> str:
        token = request.session.get("csrf")
        if not isinstance(token, str):
            token = secrets.token_urlsafe(24)
            request.session["csrf"] = token
        return token

    async def form(self, request: Request) -> dict[str, str]:
        """The posted form, after checking its CSRF token against the session's."""
        form = await request.form()
        sent = form.get("csrf")
        expected = request.session.get("csrf")
        if not isinstance(sent, str) or not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
            raise Refusal("csrf_failed")
        return {k: v for k, v in form.items() if isinstance(v, str)}

    def flash(self, request: Request, text: str) -> None:
        request.session["flash"] = text

    # ----- responses -----------------------------------------------------------------

    def words(self, request: Request) -> Callable[..., str]:
        """`t(key, **params)`: the dashboard's sentence `web.<key>` in this request's locale, from the one
        catalogue per locale (templates and the refusal reasons services raise name keys without the prefix)."""
        locale = self.locale(request)

        def t(key: str, **params: object) -> str:
            return say(locale, f"web.{key}", **params)

        return t

    def when(self, request: Request) -> Callable[[datetime | None], str]:
        locale, zone = self.locale(request), self.team.zone

        def fmt(at: datetime | None) -> str:
            return i18n.format_datetime(at.astimezone(zone), locale) if at else ""

        return fmt

    def week_name(self, request: Request) -> Callable[[IsoWeek | str], str]:
        """A week (or a week's label) named with its working days: `2024-W26（6月24日–6月28日）`; a label no
        week has stays as it is."""
        locale = self.locale(request)

        def name(week: IsoWeek | str) -> str:
            if isinstance(week, str):
                try:
                    return name(IsoWeek.parse(week))
                except WeekLabelError:
                    return week
            return i18n.week_span(week.label, week.day(1), week.day(5), locale)

        return name

    def _other_language(self, request: Request) -> str:
        """This very page (its query kept) in the other language."""
        other = "zh-CN" if self.locale(request) == "en" else "en"
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
        return request.url.path + "?" + urlencode([*query, ("lang", other)])

    def markdown(self, text: str) -> Markup:
        """The report's Markdown as HTML; a report changes rarely and parsing 200 items takes tens of ms,
        so the last few renderings are kept."""
        html = self._html.get(text)
        if html is None:
            tokens = self.md.parse(text)
            # The page has one h1 (and h2 sections): the report's own headings sit two levels below them.
            for token in tokens:
                if token.type in ("heading_open", "heading_close"):
                    token.tag = f"h{min(int(token.tag[1]) + 2, 6)}"
            rendered = self.md.renderer.render(tokens, self.md.options, {})
            html = Markup(rendered)  # noqa: S704 - markdown-it escapes text; raw HTML is off
            if len(self._html) >= 16:
                self._html.pop(next(iter(self._html)))
            self._html[text] = html
        return html

    def base(self, request: Request) -> str:
        """Where this team's pages are mounted: "" for the served team at `/`, `/t/<key>` in a department."""
        root = request.scope.get("root_path", "")
        return root if isinstance(root, str) else ""

    def page(self, request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        viewer = self.viewer(request)
        base = self.base(request)
        teams = self.department.switcher(viewer.person) if self.department and viewer else []
        director = bool(self.department and viewer and self.department.may_see_department(viewer.person))
        html = self.env.get_template(template).render(
            t=self.words(request), when=self.when(request), week_name=self.week_name(request),
            lang_url=self._other_language(request), lang=self.locale(request), list_sep=catalogue_words(self.locale(request))["list.sep"], viewer=viewer,
            csrf=self.csrf_token(request), flash=request.session.pop("flash", None),
            path=request.url.path.removeprefix(base) or "/", base=base, full_path=request.url.path,
            team=self.team.team.name, teams=teams if len(teams) > 1 or director else [], director=director,
            admin=bool(viewer and self.settings_page and may_change_settings(self.team, viewer.person.id)),
            **context)
        # People's text reaches the page in many places; the reports' rule drops bidi controls from all of it.
        return HTMLResponse(without_bidi(html), status_code=status)

    def redirect(self, path: str) -> RedirectResponse:
        return RedirectResponse(safe_next(path), status_code=303)


def number(value: Decimal | float | None) -> str:
    """A number as people write it: `10` (never `1E+1`), `0.5`; "" for none."""
    return "" if value is None else format(Decimal(str(value)).normalize(), "f")


def percent(value: Decimal | float | None) -> str:
    """A progress or rate as people write it: `60%` (never `6E+1%`), `45.5%`; "" for none."""
    return "" if value is None else number(value) + "%"
