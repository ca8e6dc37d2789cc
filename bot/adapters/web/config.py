"""What the dashboard needs to know about its deployment; the runtime builds it from Settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, SecretStr


class WebSettings(BaseModel):
    """DASHBOARD_* variables (the runtime's Settings includes them)."""

    dashboard_secret: SecretStr | None = None  # signs sessions and links; when unset, kept in the file below
    dashboard_secret_file: Path = Path("./data/dashboard-secret")
    dashboard_url: str | None = None  # the public address, e.g. https://zhoubao.example.com
    # Sign in with Slack (Basic Information > App Credentials). Our own names: Bolt's `App` reads
    # SLACK_CLIENT_ID/SLACK_CLIENT_SECRET from the environment and turns to its OAuth installation flow.
    dashboard_slack_client_id: str | None = None
    dashboard_slack_client_secret: SecretStr | None = None
    slack_client_id: str | None = None  # the old names, still read (see `slack_sign_in`), with a warning
    slack_client_secret: SecretStr | None = None
    slack_openid_url: str = "https://slack.com"  # change only for a test stand-in

    def slack_sign_in(self) -> tuple[str, str] | None:
        """Sign in with Slack's client id and secret when both are set (the new names first, else the old)."""
        client_id = self.dashboard_slack_client_id or self.slack_client_id
        secret = self.dashboard_slack_client_secret or self.slack_client_secret
        return (client_id, secret.get_secret_value()) if client_id and secret is not None else None

    def old_names(self) -> list[str]:
        """The old variable names set; each is read, and the runtime says once to rename it."""
        return [name for name, value in (("SLACK_CLIENT_ID", self.slack_client_id),
                                         ("SLACK_CLIENT_SECRET", self.slack_client_secret)) if value is not None]


@dataclass(frozen=True)
class SlackSignIn:
    """Sign in with Slack (OpenID Connect). Endpoints: https://docs.slack.dev/authentication/sign-in-with-slack/
    (authorize at /openid/connect/authorize, keys at /openid/connect/keys, issuer https://slack.com) and
    https://docs.slack.dev/reference/methods/openid.connect.token."""

    client_id: str
    client_secret: str
    base_url: str = "https://slack.com"

    @property
    def issuer(self) -> str:
        return self.base_url.rstrip("/")

    @property
    def authorize_url(self) -> str:
        return f"{self.issuer}/openid/connect/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.issuer}/api/openid.connect.token"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/openid/connect/keys"


@dataclass(frozen=True)
class FeishuSignIn:
    """Feishu/Lark web login (OAuth 2). Authorize: https://open.feishu.cn/document/common-capabilities/sso/api/obtain-oauth-code
    (accounts.feishu.cn/open-apis/authen/v1/authorize); token: https://open.feishu.cn/document/authentication-management/access-token/get-user-access-token
    (POST /open-apis/authen/v2/oauth/token, JSON); user: https://open.feishu.cn/document/server-docs/authentication-management/login-state-management/get
    (GET /open-apis/authen/v1/user_info)."""

    app_id: str
    app_secret: str
    open_url: str = "https://open.feishu.cn"  # Lark: https://open.larksuite.com
    accounts_url: str | None = None  # default: the open_url with "open." replaced by "accounts."

    @property
    def authorize_url(self) -> str:
        base = self.accounts_url or self.open_url.replace("://open.", "://accounts.", 1)
        return f"{base.rstrip('/')}/open-apis/authen/v1/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.open_url.rstrip('/')}/open-apis/authen/v2/oauth/token"

    @property
    def user_info_url(self) -> str:
        return f"{self.open_url.rstrip('/')}/open-apis/authen/v1/user_info"


@dataclass(frozen=True)
class DashboardConfig:
    secret: str  # signs the session cookie and the one-time links
    public_url: str  # where people reach the dashboard; https:// makes the cookie Secure
    slack: SlackSignIn | None = None
    feishu: FeishuSignIn | None = None
    session_hours: int = 12

    @property
    def secure(self) -> bool:
        return self.public_url.startswith("https://")

    def url(self, path: str) -> str:
        return self.public_url.rstrip("/") + path


def team_path(key: str) -> str:
    """Where a department's team has its pages (and its sign-in) on the dashboard: `/t/<key>`."""
    return f"/t/{key}"
