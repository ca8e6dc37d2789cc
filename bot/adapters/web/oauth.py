"""Sign in with Slack (OIDC) and Feishu web login (OAuth 2), through Authlib's Starlette client (state,
nonce, code exchange and the id_token's checks). Imported by `signin.SignInRoutes` only when a platform
sign-in is configured.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
from authlib.common.urls import url_decode
from authlib.deprecate import AuthlibDeprecationWarning
from authlib.oidc.core import CodeIDToken
from joserfc.errors import JoseError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from bot.adapters.web.config import DashboardConfig
from bot.adapters.web.site import Refusal, Site, safe_next
from bot.services.context import Clock
from bot.services.signin import SignInRefused, Viewer

with warnings.catch_warnings():
    # Authlib 1.9 warns, on every start, that it falls back from the `httpx2` package to httpx: httpx is
    # the one installed and tested here.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.starlette_client import OAuth, OAuthError
    from authlib.integrations.starlette_client.apps import StarletteOAuth2App

STATE_LIFETIME = timedelta(minutes=10)
SLACK_SCOPE = "openid profile email"
ID_TOKEN_LEEWAY = 60  # seconds of clock skew allowed on exp/iat


class OAuthFailed(Exception):
    """The platform did not complete the sign-in; `detail` is its error code."""


class PlatformSignIn:
    """The OAuth routes' work; `done` signs the viewer in and redirects, `refused` renders the sign-in page's
    refusal (both `SignInRoutes`'s, so the two kinds of sign-in end the same way)."""

    def __init__(self, site: Site, done: Callable[[Request, Viewer, str | None], Awaitable[Response]],
                 refused: Callable[..., Response], transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.site = site
        self._done = done
        self._refused = refused
        self.oauth = oauth_clients(site.config, transport)

    # ----- Authlib keeps state and nonce in the session; we add where to go and when it began ------

    def _app(self, platform: str) -> StarletteOAuth2App:
        client = self.oauth.create_client(platform)
        if client is None:
            raise Refusal("signin_unavailable", status=404)
        return client

    async def begin(self, request: Request, platform: str, callback: str) -> Response:
        client = self._app(platform)
        request.session["signin"] = {"platform": platform, "at": self.site.clock().timestamp(),
                                     "next": safe_next(request.query_params.get("next"))}
        return await client.authorize_redirect(request, self.site.config.url(callback))

    async def _finish(self, request: Request, platform: str, **checks: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """(the platform's token answer, the pending sign-in) for this callback; Refusal("oauth_state") if the
        sign-in is not this browser's, is older than STATE_LIFETIME or its state was used before."""
        client = self._app(platform)
        pending = request.session.pop("signin", None)
        state = request.query_params.get("state", "")
        now = self.site.clock()
        if (not isinstance(pending, dict) or pending.get("platform") != platform or not state
                or now.timestamp() - float(pending.get("at", 0)) > STATE_LIFETIME.total_seconds()):
            raise Refusal("oauth_state")
        # The session cookie could be replayed from before, state and all; the database remembers used states.
        if not await run_in_threadpool(self.site.signin.use_once, platform, state, now + STATE_LIFETIME):
            raise Refusal("oauth_state")
        try:
            token = await client.authorize_access_token(request, **checks)
        except OAuthError as exc:
            if exc.error == "mismatching_state":
                raise Refusal("oauth_state") from None
            raise OAuthFailed(str(exc.error)) from None
        except JoseError as exc:
            raise OAuthFailed(f"id_token {exc.error}") from None
        except (httpx.HTTPError, ValueError) as exc:
            raise OAuthFailed(type(exc).__name__) from None
        return token, pending

    # ----- Slack -------------------------------------------------------------------------------------

    async def slack_callback(self, request: Request) -> Response:
        cfg = self.site.config.slack
        if cfg is None:
            raise Refusal("signin_unavailable", status=404)
        try:
            # Authlib checks the id_token's signature (Slack's JWKS), nonce and these claims, at our clock's time.
            token, pending = await self._finish(
                request, "slack", claims_cls=_id_token_at(self.site.clock), leeway=ID_TOKEN_LEEWAY,
                claims_options={"iss": {"essential": True, "value": cfg.issuer},
                                "aud": {"essential": True, "value": cfg.client_id},
                                "exp": {"essential": True}, "sub": {"essential": True}})
            claims = token.get("userinfo")
            if not isinstance(claims, dict):
                raise OAuthFailed("id_token missing")
            # Claims as documented: sub and https://slack.com/user_id are the user id; email with email_verified.
            user_id = str(claims.get("https://slack.com/user_id") or claims.get("sub") or "")
            email = claims.get("email") if claims.get("email_verified") else None
            viewer = await run_in_threadpool(self.site.signin.match, "slack", user_id, email)
        except OAuthFailed as exc:
            return self._refused(request, "oauth_failed", detail=str(exc))
        except SignInRefused as exc:
            return self._refused(request, exc.reason)
        return await self._done(request, viewer, pending.get("next"))

    # ----- Feishu --------------------------------------------------------------------------------------

    async def feishu_callback(self, request: Request) -> Response:
        try:
            token, pending = await self._finish(request, "feishu")
            user = await self._feishu_user(token)
            email = user.get("enterprise_email") or user.get("email")
            viewer = await run_in_threadpool(self.site.signin.match, "feishu", user.get("open_id"), email)
        except OAuthFailed as exc:
            return self._refused(request, "oauth_failed", detail=str(exc))
        except SignInRefused as exc:
            return self._refused(request, exc.reason)
        return await self._done(request, viewer, pending.get("next"))

    async def _feishu_user(self, token: dict[str, Any]) -> dict[str, Any]:
        """The user info `data` (open_id, email, name) the user access token gives."""
        cfg = self.site.config.feishu
        assert cfg is not None
        try:
            info = (await self._app("feishu").get(cfg.user_info_url, token=token)).json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OAuthFailed(type(exc).__name__) from None
        data = info.get("data") if isinstance(info, dict) else None
        if not isinstance(info, dict) or info.get("code", 0) != 0 or not isinstance(data, dict) or not data.get("open_id"):
            raise OAuthFailed(str(info.get("msg") or info.get("code")) if isinstance(info, dict) else "user_info")
        return data



def oauth_clients(config: DashboardConfig, transport: httpx.AsyncBaseTransport | None = None) -> OAuth:
    """Authlib's clients for the configured platforms; `transport` points them at a test's stand-in."""
    oauth = OAuth()
    http: dict[str, Any] = {"timeout": 10.0, **({"transport": transport} if transport is not None else {})}
    if config.slack is not None:
        cfg = config.slack
        # Server metadata as Slack's https://slack.com/.well-known/openid-configuration states it.
        oauth.register("slack", client_id=cfg.client_id, client_secret=cfg.client_secret,
                       authorize_url=cfg.authorize_url, access_token_url=cfg.token_url,
                       issuer=cfg.issuer, jwks_uri=cfg.jwks_url, id_token_signing_alg_values_supported=["RS256"],
                       # openid.connect.token takes client_id and client_secret as form fields
                       client_kwargs={**http, "scope": SLACK_SCOPE, "token_endpoint_auth_method": "client_secret_post"})
    if config.feishu is not None:
        cfg_f = config.feishu
        oauth.register("feishu", client_id=cfg_f.app_id, client_secret=cfg_f.app_secret,
                       authorize_url=cfg_f.authorize_url, access_token_url=cfg_f.token_url,
                       client_auth_methods=[("feishu_json", _feishu_json_body)],
                       client_kwargs={**http, "token_endpoint_auth_method": "feishu_json"})
    return oauth


def _feishu_json_body(auth: Any, method: str, uri: str, headers: Any, body: bytes | str) -> tuple[str, Any, bytes]:
    """Feishu's token endpoint (authen v2, see `FeishuSignIn`) reads JSON, the client's id and secret in it."""
    text = body.decode() if isinstance(body, bytes) else body
    form = {**dict(url_decode(text)), "client_id": auth.client_id, "client_secret": auth.client_secret}
    headers["Content-Type"] = "application/json; charset=utf-8"
    return uri, headers, json.dumps(form).encode()


def _id_token_at(clock: Clock) -> type[CodeIDToken]:
    """Authlib's id_token claims, checked at `clock`'s time (a test's clock, or the wall clock)."""

    class IdTokenAt(CodeIDToken):
        def validate(self, now: int | None = None, leeway: int = 0) -> None:
            super().validate(now=int(clock().timestamp()), leeway=leeway)

    return IdTokenAt
