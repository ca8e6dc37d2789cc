"""Sign-in routes: the one-time console link and sign-out here; Sign in with Slack (OIDC) and Feishu web
login (OAuth 2) in `oauth.py`, imported only when a platform sign-in is configured (its HTTP and JOSE stack is
about 15 MB and a sixth of a second that the console and the one-time link never need).

`bot.services.signin` matches the person the platform proved to the team.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.adapters.web.site import Refusal, Site, safe_next
from bot.services.signin import SignInRefused, Viewer

if TYPE_CHECKING:
    import httpx

    from bot.adapters.web.oauth import PlatformSignIn


class SignInRoutes:
    def __init__(self, site: Site, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.site = site
        self.platforms: PlatformSignIn | None = None
        if site.config.slack is not None or site.config.feishu is not None:
            from bot.adapters.web.oauth import PlatformSignIn

            # `transport`: a test's stand-in; None for the network
            self.platforms = PlatformSignIn(site, self._done, self._refused, transport)

    async def _done(self, request: Request, viewer: Viewer, next_path: str | None) -> Response:
        await self.site.sign_in(request, viewer)
        return self.site.redirect(safe_next(next_path))

    # ----- the sign-in page and sign-out ----------------------------------------------------

    async def page(self, request: Request) -> Response:
        return self.site.page(request, "signin.html", next_path=safe_next(request.query_params.get("next")),
                              slack=self.site.config.slack is not None, feishu=self.site.config.feishu is not None,
                              error=None)

    async def sign_out(self, request: Request) -> Response:
        await self.site.form(request)
        await self.site.sign_out(request)
        return RedirectResponse("/signin", status_code=303)

    def _refused(self, request: Request, reason: str, **params: str) -> Response:
        return self.site.page(request, "signin.html", status=403, next_path="/week",
                              slack=self.site.config.slack is not None, feishu=self.site.config.feishu is not None,
                              error=self.site.words(request)(reason, **params))

    # ----- one-time link ------------------------------------------------------------------------

    async def link(self, request: Request) -> Response:
        """Showing the link's page uses nothing: chat unfurlers and previews fetch links too. The button does."""
        token = request.query_params.get("token", "")
        person = self.site.signin.peek_link(token)
        if person is None:
            return self._refused(request, "link_invalid")
        return self.site.page(request, "signin_link.html", token=token, name=person.name)

    async def redeem(self, request: Request) -> Response:
        form = await self.site.form(request)
        try:
            viewer = await run_in_threadpool(self.site.signin.redeem_link, form.get("token", ""))
        except SignInRefused as exc:
            return self._refused(request, exc.reason)
        return await self._done(request, viewer, "/week")

    # ----- the platforms' sign-in (404 where none is configured) -------------------------------------

    def _platform(self) -> PlatformSignIn:
        if self.platforms is None:
            raise Refusal("signin_unavailable", status=404)
        return self.platforms

    async def slack_start(self, request: Request) -> Response:
        return await self._platform().begin(request, "slack", self.site.base(request) + "/signin/slack/callback")

    async def slack_callback(self, request: Request) -> Response:
        return await self._platform().slack_callback(request)

    async def feishu_start(self, request: Request) -> Response:
        return await self._platform().begin(request, "feishu", self.site.base(request) + "/signin/feishu/callback")

    async def feishu_callback(self, request: Request) -> Response:
        return await self._platform().feishu_callback(request)
