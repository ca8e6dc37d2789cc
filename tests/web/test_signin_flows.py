"""Sign in with Slack (OIDC) and Feishu web login against loopback stand-ins, plus the one-time link rules."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from joserfc.jwk import RSAKey

from bot.adapters.web import DashboardConfig, FeishuSignIn, SlackSignIn, build_dashboard
from bot.domain.team import Team
from bot.services.bot import Bot
from tests.conftest import migrated_sqlite
from tests.fakes import FakeChat, FixedClock
from tests.helpers import example_team, make_bot
from tests.web.conftest import SECRET
from tests.web.live import LiveServer
from tests.web.stand_ins import CLIENT_ID, CLIENT_SECRET, FeishuIdP, SlackIdP, slack_user


def team_with_platform_ids() -> Team:
    data = example_team().model_dump()
    for p in data["people"]:
        if p["id"] == "lina":
            p["slack"], p["feishu"] = "U0LINA", "ou_lina"
    return Team.model_validate(data)


@dataclass
class World:
    bot: Bot
    clock: FixedClock
    slack: SlackIdP
    feishu: FeishuIdP
    url: str

    def browser(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, follow_redirects=True, timeout=10)


@pytest.fixture
def world(tmp_path: Path, chat: FakeChat, clock: FixedClock) -> Iterator[World]:
    bot = make_bot(migrated_sqlite(tmp_path / 'w.db'), chat, clock, team_with_platform_ids())
    slack, feishu = SlackIdP(now=clock.now.timestamp()), FeishuIdP()
    with LiveServer(slack.app()) as s_live, LiveServer(feishu.app()) as f_live, LiveServer() as live:
        slack.url = s_live.url
        config = DashboardConfig(
            secret=SECRET, public_url=live.url, slack=SlackSignIn(CLIENT_ID, CLIENT_SECRET, s_live.url),
            feishu=FeishuSignIn("cli_a1b2c3", "feishu-secret", open_url=f_live.url, accounts_url=f_live.url))
        live.app = build_dashboard(bot, config)
        yield World(bot, clock, slack, feishu, live.url)


def who(resp: httpx.Response) -> str | None:
    m = re.search(r'<span id="me">([^<]+)</span>', resp.text)
    return m.group(1) if m else None


# ----- Slack ------------------------------------------------------------------------------------------


def test_slack_sign_in_matches_by_slack_id_then_by_email(world: World) -> None:
    world.slack.user = slack_user("U0LINA", "someone-else@example.com")
    with world.browser() as b:
        resp = b.get("/signin/slack", params={"next": "/history"})
        assert resp.status_code == 200 and resp.url.path == "/history" and who(resp) == "李娜"
    call = world.slack.token_calls[-1]
    assert call["grant_type"] == "authorization_code" and call["redirect_uri"] == f"{world.url}/signin/slack/callback"
    world.slack.user = slack_user("U0UNKNOWN", "zhangwei@example.com")
    with world.browser() as b:
        resp = b.get("/signin/slack")
        assert resp.url.path == "/week" and who(resp) == "张伟"
        assert "立即发布" in resp.text  # an editor


@pytest.mark.parametrize("tamper, problem", [
    ({"aud": "someone-elses-app"}, "id_token"),
    ({"exp": "past"}, "id_token"),
    ({"iss": "https://evil.example"}, "id_token"),
    ({"nonce": "not-the-one-we-sent"}, "id_token"),
    # OpenID Connect Core 1.0 §3.1.3.7: with several audiences, azp must be present (and name us).
    ({"aud": [CLIENT_ID, "another-app"]}, "id_token"),
])
def test_slack_id_token_with_wrong_claims_is_refused(world: World, tamper: dict[str, object], problem: str) -> None:
    if tamper.get("exp") == "past":
        tamper = {"exp": int(world.clock.now.timestamp()) - 3600, "iat": int(world.clock.now.timestamp()) - 7200}
    world.slack.user = slack_user("U0LINA", "lina@example.com")
    world.slack.tamper = tamper
    with world.browser() as b:
        resp = b.get("/signin/slack")
        assert resp.status_code == 403
        assert "平台登录没有完成" in resp.text and problem in resp.text
        assert b.get("/week").url.path == "/signin"  # not signed in


def test_slack_forged_id_token_is_refused(world: World) -> None:
    world.slack.user = slack_user("U0LINA", "lina@example.com")
    world.slack.sign_with = RSAKey.generate_key(2048, parameters={"kid": "slack-1"})  # same kid, wrong key
    with world.browser() as b:
        resp = b.get("/signin/slack")
        assert resp.status_code == 403 and "bad_signature" in resp.text
        assert b.get("/week").url.path == "/signin"


def test_slack_replayed_state_is_refused(world: World) -> None:
    world.slack.user = slack_user("U0LINA", "lina@example.com")
    with httpx.Client(base_url=world.url, follow_redirects=False, timeout=10) as b:
        to_slack = b.get("/signin/slack").headers["location"]
        callback = httpx.get(to_slack, follow_redirects=False).headers["location"]
        cookie_before = dict(b.cookies)
        done = b.get(callback)
        assert done.status_code == 303 and done.headers["location"] == "/week"
        # An attacker replays the callback with the session cookie from before it was used.
        b.cookies.clear()
        b.cookies.update(cookie_before)
        again = b.get(callback)
        assert again.status_code == 403 and "state 不匹配" in again.text
    # A callback with a state this browser never asked for is refused too.
    with world.browser() as b:
        resp = b.get("/signin/slack/callback", params={"code": "x", "state": "made-up"})
        assert resp.status_code == 403 and "state 不匹配" in resp.text


def test_slack_user_outside_the_team_gets_a_plain_403(world: World) -> None:
    world.slack.user = slack_user("U0STRANGER", "stranger@example.com")
    with world.browser() as b:
        resp = b.get("/signin/slack")
        assert resp.status_code == 403 and "不在本团队的团队文件中" in resp.text


def test_slack_unverified_email_is_not_used_to_match(world: World) -> None:
    world.slack.user = {**slack_user("U0UNKNOWN", "zhangwei@example.com"), "email_verified": False}
    with world.browser() as b:
        assert b.get("/signin/slack").status_code == 403


# ----- Feishu ---------------------------------------------------------------------------------------------


def test_feishu_sign_in_by_open_id_and_by_enterprise_email(world: World) -> None:
    world.feishu.user = {"open_id": "ou_lina", "name": "李娜"}
    with world.browser() as b:
        resp = b.get("/signin/feishu")
        assert resp.url.path == "/week" and who(resp) == "李娜"
    world.feishu.user = {"open_id": "ou_other", "enterprise_email": "zhangwei@example.com"}
    with world.browser() as b:
        assert who(b.get("/signin/feishu")) == "张伟"


def test_feishu_bad_code_and_stranger_are_refused(world: World) -> None:
    world.feishu.user = {"open_id": "ou_stranger", "email": "x@example.com"}
    with world.browser() as b:
        resp = b.get("/signin/feishu")
        assert resp.status_code == 403 and "不在本团队的团队文件中" in resp.text
    with httpx.Client(base_url=world.url, follow_redirects=False, timeout=10) as b:
        to_feishu = b.get("/signin/feishu").headers["location"]
        state = httpx.URL(to_feishu).params["state"]
        resp = b.get("/signin/feishu/callback", params={"code": "forged", "state": state})
        assert resp.status_code == 403 and "invalid_grant" in resp.text


# ----- the one-time link --------------------------------------------------------------------------------


def test_link_expires_after_ten_minutes_and_refuses_forgeries(world: World) -> None:
    from bot.runtime.dashboard import sign_in_link

    config = DashboardConfig(secret=SECRET, public_url=world.url)
    link, _ = sign_in_link(world.bot.ctx, config, "lina")
    world.clock.advance(minutes=10, seconds=1)
    with world.browser() as b:
        page = b.get(link)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        token = httpx.URL(link).params["token"]
        assert csrf is not None
        resp = b.post("/signin/link", data={"csrf": csrf.group(1), "token": token})
        assert resp.status_code == 403 and "已过期" in resp.text
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        assert b.get("/signin/link", params={"token": forged}).status_code == 403
    world.clock.advance(minutes=-10, seconds=-1)


def test_sign_out_ends_the_session_and_next_never_leaves_the_site(world: World) -> None:
    world.slack.user = slack_user("U0LINA", "lina@example.com")
    with world.browser() as b:
        for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
            resp = b.get("/signin/slack", params={"next": evil})
            assert resp.url.host == "127.0.0.1" and resp.url.path == "/week"
        csrf = re.search(r'name="csrf" value="([^"]+)"', resp.text)
        assert csrf is not None
        out = b.post("/signout", data={"csrf": csrf.group(1)})
        assert out.url.path == "/signin"
        assert b.get("/week").url.path == "/signin"


def test_session_cookie_is_httponly_and_lax(world: World) -> None:
    world.slack.user = slack_user("U0LINA", "lina@example.com")
    with httpx.Client(base_url=world.url, follow_redirects=False, timeout=10) as b:
        to_slack = b.get("/signin/slack").headers["location"]
        callback = httpx.get(to_slack, follow_redirects=False).headers["location"]
        cookie = b.get(callback).headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie  # plain http here
    assert timedelta(hours=12).total_seconds() == int(re.search(r"max-age=(\d+)", cookie).group(1))  # type: ignore[union-attr]
