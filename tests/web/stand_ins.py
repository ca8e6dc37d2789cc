"""Loopback stand-ins for Slack's OpenID Connect endpoints and Feishu's OAuth endpoints.

Shapes as the platforms document them:
- Slack: https://docs.slack.dev/authentication/sign-in-with-slack/ (authorize at /openid/connect/authorize with
  response_type, scope, client_id, state, nonce, redirect_uri; JWKS at /openid/connect/keys; id_token claims iss,
  sub, aud, exp, iat, nonce, email, email_verified, name, https://slack.com/user_id, https://slack.com/team_id)
  and https://docs.slack.dev/reference/methods/openid.connect.token ({"ok": true, "access_token", "id_token"}).
- Feishu: https://open.feishu.cn/document/common-capabilities/sso/api/obtain-oauth-code (redirect with code, state),
  https://open.feishu.cn/document/authentication-management/access-token/get-user-access-token (POST JSON,
  {"code": 0, "access_token", "expires_in", "token_type": "Bearer"}; errors {"code": 20003, "error": "invalid_grant"}),
  https://open.feishu.cn/document/server-docs/authentication-management/login-state-management/get
  ({"code": 0, "msg": "success", "data": {"name", "open_id", "union_id", "email", "enterprise_email", …}}).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "2141029472.691202649728"
CLIENT_SECRET = "e1b9e11dfcd19c1982d5de12921e17e8c"


@dataclass
class SlackIdP:
    """Signs in `user` (claims) when asked; `tamper` changes the next id_token (audience, expiry, key)."""

    user: dict[str, Any] = field(default_factory=dict)
    tamper: dict[str, Any] = field(default_factory=dict)
    sign_with: RSAKey | None = None  # None: the published key
    now: float = field(default_factory=time.time)
    url: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "slack-1"}))
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    token_calls: list[dict[str, str]] = field(default_factory=list)

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/openid/connect/authorize", self.authorize),
            Route("/openid/connect/keys", self.keys),
            Route("/api/openid.connect.token", self.token, methods=["POST"]),
        ])

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        assert q["response_type"] == "code" and q["client_id"] == CLIENT_ID
        assert set(q["scope"].split()) == {"openid", "profile", "email"}
        code = secrets.token_hex(8)
        self.codes[code] = {"nonce": q["nonce"], "redirect_uri": q["redirect_uri"]}
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}", 302)

    async def keys(self, request: Request) -> Response:
        return JSONResponse(KeySet([self.key]).as_dict(private=False))

    async def token(self, request: Request) -> Response:
        form = dict((await request.form()).items())
        self.token_calls.append({k: str(v) for k, v in form.items()})
        grant = self.codes.pop(str(form.get("code")), None)
        if (grant is None or form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET
                or form.get("redirect_uri") != grant["redirect_uri"]):
            return JSONResponse({"ok": False, "error": "invalid_code"})
        claims = {"iss": self.url, "aud": CLIENT_ID, "iat": int(self.now), "exp": int(self.now) + 3600,
                  "auth_time": int(self.now), "nonce": grant["nonce"], **self.user, **self.tamper}
        id_token = jwt.encode({"alg": "RS256", "kid": "slack-1"}, claims, self.sign_with or self.key)
        return JSONResponse({"ok": True, "access_token": "xoxp-1234", "token_type": "Bearer", "id_token": id_token})


def slack_user(user_id: str, email: str, name: str = "") -> dict[str, Any]:
    return {"sub": user_id, "https://slack.com/user_id": user_id, "https://slack.com/team_id": "T0R7GR",
            "email": email, "email_verified": True, "name": name or user_id}


@dataclass
class FeishuIdP:
    user: dict[str, Any] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/open-apis/authen/v1/authorize", self.authorize),
            Route("/open-apis/authen/v2/oauth/token", self.token, methods=["POST"]),
            Route("/open-apis/authen/v1/user_info", self.user_info),
        ])

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        assert q["client_id"] == "cli_a1b2c3" and q["response_type"] == "code"
        code = secrets.token_hex(8)
        self.codes[code] = q["redirect_uri"]
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}", 302)

    async def token(self, request: Request) -> Response:
        body = await request.json()
        redirect = self.codes.pop(str(body.get("code")), None)
        if (redirect is None or body.get("grant_type") != "authorization_code" or body.get("client_id") != "cli_a1b2c3"
                or body.get("client_secret") != "feishu-secret" or body.get("redirect_uri") != redirect):
            return JSONResponse({"code": 20003, "error": "invalid_grant",
                                 "error_description": "The authorization code is invalid"}, status_code=400)
        token = "u-" + secrets.token_hex(8)
        self.tokens[token] = dict(self.user)
        return JSONResponse({"code": 0, "access_token": token, "expires_in": 7200, "token_type": "Bearer",
                             "scope": ""})

    async def user_info(self, request: Request) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return JSONResponse({"code": 99991668, "msg": "Invalid access token for authorization."}, status_code=401)
        return JSONResponse({"code": 0, "msg": "success", "data": {
            "name": "", "en_name": "", "avatar_url": "", "union_id": "on_1", "user_id": "", "tenant_key": "tk",
            "email": "", "enterprise_email": "", **self.tokens[token]}})
