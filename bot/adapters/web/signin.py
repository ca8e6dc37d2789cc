"""Sign-in routes: the one-time console link, Sign in with Slack (OIDC), Feishu web login (OAuth 2), sign-out.

The adapter proves who someone is on the platform; `bot.services.signin` matches them to the team.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.adapters.web.site import Refusal, Site, safe_next
from bot.services.signin import SignInRefused, Viewer

STATE_LIFETIME = timedelta(minutes=10)
SLACK_SCOPE = "openid profile email"


class OAuthFailed(Exception):
    """The platform did not complete the sign-in; `detail` is its error code."""


class SignInRoutes:
    def __init__(self, site: Site, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.site = site
        self.transport = transport  # a test's loopback or mock transport; None for the real network

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport, timeout=10.0)

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

    # ----- OAuth state ---------------------------------------------------------------------------

    def _begin(self, request: Request, platform: str) -> tuple[str, str]:
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        request.session["oauth"] = {"platform": platform, "state": state, "nonce": nonce,
                                    "at": self.site.clock().timestamp(),
                                    "next": safe_next(request.query_params.get("next"))}
        return state, nonce

    async def _finish(self, request: Request, platform: str) -> dict[str, Any]:
        """The pending sign-in this callback completes; Refusal("oauth_state") if it is not ours or used."""
        pending = request.session.pop("oauth", None)
        state = request.query_params.get("state", "")
        now = self.site.clock()
        if (not isinstance(pending, dict) or pending.get("platform") != platform or not state
                or not secrets.compare_digest(state, str(pending.get("state", "")))
                or now.timestamp() - float(pending.get("at", 0)) > STATE_LIFETIME.total_seconds()):
            raise Refusal("oauth_state")
        # The session cookie could be replayed from before; the database remembers used states.
        if not await run_in_threadpool(self.site.signin.use_once, platform, state, now + STATE_LIFETIME):
            raise Refusal("oauth_state")
        if request.query_params.get("error"):
            raise OAuthFailed(request.query_params["error"])
        return pending

    # ----- Slack -------------------------------------------------------------------------------------

    async def slack_start(self, request: Request) -> Response:
        cfg = self.site.config.slack
        if cfg is None:
            raise Refusal("signin_unavailable", status=404)
        state, nonce = self._begin(request, "slack")
        url = prepare_grant_uri(cfg.authorize_url, cfg.client_id, "code", scope=SLACK_SCOPE, state=state,
                                nonce=nonce, redirect_uri=self.site.config.url("/signin/slack/callback"))
        return RedirectResponse(url, status_code=303)

    async def slack_callback(self, request: Request) -> Response:
        cfg = self.site.config.slack
        if cfg is None:
            raise Refusal("signin_unavailable", status=404)
        try:
            pending = await self._finish(request, "slack")
            claims = await self._slack_claims(request.query_params.get("code", ""), str(pending["nonce"]))
            # Claims as documented: sub and https://slack.com/user_id are the user id; email with email_verified.
            user_id = str(claims.get("https://slack.com/user_id") or claims.get("sub") or "")
            email = claims.get("email") if claims.get("email_verified") else None
            viewer = await run_in_threadpool(self.site.signin.match, "slack", user_id, email)
        except OAuthFailed as exc:
            return self._refused(request, "oauth_failed", detail=str(exc))
        except SignInRefused as exc:
            return self._refused(request, exc.reason)
        return await self._done(request, viewer, pending.get("next"))

    async def _slack_claims(self, code: str, nonce: str) -> dict[str, Any]:
        """The id_token's claims after checking signature (Slack's JWKS), issuer, audience, expiry and nonce."""
        cfg = self.site.config.slack
        assert cfg is not None
        try:
            async with self._client() as client:
                resp = await client.post(cfg.token_url, data={
                    "client_id": cfg.client_id, "client_secret": cfg.client_secret, "code": code,
                    "grant_type": "authorization_code", "redirect_uri": self.site.config.url("/signin/slack/callback")})
                body = resp.json()
                if not body.get("ok") or not body.get("id_token"):
                    raise OAuthFailed(str(body.get("error") or f"HTTP {resp.status_code}"))
                keys = KeySet.import_key_set((await client.get(cfg.jwks_url)).json())
        except (httpx.HTTPError, ValueError) as exc:
            raise OAuthFailed(type(exc).__name__) from None
        try:
            token = jwt.decode(body["id_token"], keys, algorithms=["RS256"])
            jwt.JWTClaimsRegistry(
                now=int(self.site.clock().timestamp()), leeway=60,
                iss={"essential": True, "value": cfg.issuer}, aud={"essential": True, "value": cfg.client_id},
                exp={"essential": True}, sub={"essential": True}, nonce={"essential": True, "value": nonce},
            ).validate(token.claims)
        except JoseError as exc:
            raise OAuthFailed(f"id_token {exc.error}") from None
        return dict(token.claims)

    # ----- Feishu --------------------------------------------------------------------------------------

    async def feishu_start(self, request: Request) -> Response:
        cfg = self.site.config.feishu
        if cfg is None:
            raise Refusal("signin_unavailable", status=404)
        state, _nonce = self._begin(request, "feishu")
        # https://open.feishu.cn/document/common-capabilities/sso/api/obtain-oauth-code: client_id, redirect_uri, state
        url = prepare_grant_uri(cfg.authorize_url, cfg.app_id, "code", state=state,
                                redirect_uri=self.site.config.url("/signin/feishu/callback"))
        return RedirectResponse(url, status_code=303)

    async def feishu_callback(self, request: Request) -> Response:
        cfg = self.site.config.feishu
        if cfg is None:
            raise Refusal("signin_unavailable", status=404)
        try:
            pending = await self._finish(request, "feishu")
            user = await self._feishu_user(request.query_params.get("code", ""))
            email = user.get("enterprise_email") or user.get("email")
            viewer = await run_in_threadpool(self.site.signin.match, "feishu", user.get("open_id"), email)
        except OAuthFailed as exc:
            return self._refused(request, "oauth_failed", detail=str(exc))
        except SignInRefused as exc:
            return self._refused(request, exc.reason)
        return await self._done(request, viewer, pending.get("next"))

    async def _feishu_user(self, code: str) -> dict[str, Any]:
        """code -> user_access_token (authen v2, JSON body) -> user info `data` (open_id, email, name)."""
        cfg = self.site.config.feishu
        assert cfg is not None
        try:
            async with self._client() as client:
                resp = await client.post(cfg.token_url, json={
                    "grant_type": "authorization_code", "client_id": cfg.app_id, "client_secret": cfg.app_secret,
                    "code": code, "redirect_uri": self.site.config.url("/signin/feishu/callback")})
                body = resp.json()
                token = body.get("access_token")
                if body.get("code", 0) != 0 or not token:
                    raise OAuthFailed(str(body.get("error") or body.get("code") or f"HTTP {resp.status_code}"))
                info = (await client.get(cfg.user_info_url, headers={"Authorization": f"Bearer {token}"})).json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OAuthFailed(type(exc).__name__) from None
        data = info.get("data") if isinstance(info, dict) else None
        if info.get("code", 0) != 0 or not isinstance(data, dict) or not data.get("open_id"):
            raise OAuthFailed(str(info.get("msg") or info.get("code")))
        return data
