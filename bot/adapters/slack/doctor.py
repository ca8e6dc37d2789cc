"""`zhoubao doctor` on Slack: is the token good, does it have every scope, can every person be found?

Every failure is one line that says what to do. Error codes are Slack's Web API ones:
`invalid_auth` / `not_authed` / `token_revoked` / `account_inactive` (a bad token) and
`missing_scope` with its `needed` field (https://api.slack.com/methods/auth.test#errors,
https://api.slack.com/web#responses).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web import SlackResponse, WebClient

from bot.adapters.network import network_reason
from bot.adapters.slack.config import SlackSettings
from bot.adapters.slack.gateway import make_client
from bot.domain.team import Team

# Keep in step with docs/slack-manifest.yaml.
REQUIRED_SCOPES = ("canvases:write", "channels:history", "channels:read", "chat:write", "commands", "files:write",
                   "groups:history", "groups:read", "im:history", "im:write", "users:read", "users:read.email")
# Scopes only a feature of the team file uses: the manifest asks for them, doctor names them only when it is on.
FEATURE_SCOPES: dict[str, Callable[[Team], bool]] = {
    "canvases:write": lambda team: team.documents.slack_canvas,  # the report as a canvas (canvas.py)
}
# A conversation id: C… (public channel) or G… (older private channel), upper-case letters and digits
# (https://docs.slack.dev/reference/objects/conversation-object).
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
# What conversations.info and conversations.list need to see a public and a private channel
# (https://docs.slack.dev/reference/methods/conversations.info: channels:read, groups:read).
_CHANNEL_SCOPES = "channels:read and groups:read"
_BAD_TOKEN = frozenset({"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive",
                        "not_allowed_token_type"})


def explain(exc: BaseException, settings: SlackSettings) -> str | None:
    """One line for a Slack failure (unreachable, bad token, missing scope, other refusal), or None
    when `exc` is not about Slack."""
    if isinstance(exc, SlackApiError):
        error = str(exc.response.get("error") or "unknown_error")
        if error in _BAD_TOKEN:
            return (f"Slack refused SLACK_BOT_TOKEN ({error}): copy the Bot User OAuth Token (xoxb-…) again from "
                    "the app's OAuth & Permissions page, or reinstall the app")
        if error == "missing_scope":
            needed = exc.response.get("needed") or "see docs/slack-manifest.yaml"
            return (f"Slack token lacks a scope (missing_scope, needed: {needed}): add it under OAuth & "
                    "Permissions, reinstall the app and copy the new token")
        return f"Slack answered {error}; see https://api.slack.com/methods for what it means"
    reason = network_reason(exc)
    if reason is not None:
        return (f"Slack unreachable at {settings.slack_api_url} ({reason}): check the network, proxy or "
                "SLACK_API_URL")
    if isinstance(exc, SlackClientError):
        return f"Slack client error: {exc}"
    return None


def sign_in(settings: SlackSettings) -> tuple[SlackResponse | None, str]:
    """(auth.test's answer, a line saying who the bot is) or (None, what went wrong)."""
    if settings.slack_bot_token is None:
        return None, "Slack: SLACK_BOT_TOKEN is not set"
    client = make_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url, retries=1)
    try:
        auth = client.auth_test()
    except (SlackApiError, SlackClientError, OSError) as exc:
        return None, explain(exc, settings) or f"Slack: {exc}"
    if settings.slack_app_token is not None:
        # Socket Mode opens its connection with the app-level token (xapp-…) through
        # apps.connections.open (https://api.slack.com/methods/apps.connections.open); asking for a URL
        # here checks that token too, and the URL is simply left unused.
        token = settings.slack_app_token.get_secret_value()
        try:
            make_client(token, settings.slack_api_url, retries=1).apps_connections_open(app_token=token)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "unknown_error")
            return None, (f"Slack refused SLACK_APP_TOKEN ({error}): create an app-level token with "
                          "connections:write under Basic Information → App-Level Tokens, and turn on Socket Mode")
        except (SlackClientError, OSError) as exc:
            return None, explain(exc, settings) or f"Slack: {exc}"
    return auth, f"slack: signed in as {auth.get('user')} in team {auth.get('team') or auth.get('team_id')}"


def check(settings: SlackSettings, team: Team) -> list[tuple[bool, str]]:
    """One (ok, line) per check: credentials, transport, scopes, and each person's Slack account."""
    if settings.slack_bot_token is None:
        return [(False, "slack: SLACK_BOT_TOKEN is not set — add the Bot User OAuth Token (xoxb-…) to .env")]
    lines: list[tuple[bool, str]] = []
    if settings.slack_app_token is not None:
        lines.append((True, "slack transport: Socket Mode (SLACK_APP_TOKEN)"))
    elif settings.slack_signing_secret is not None:
        lines.append((True, f"slack transport: HTTP on port {settings.port}, POST /slack/events"))
    else:
        lines.append((False, "slack transport: set SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP)"))
    auth, said = sign_in(settings)
    if auth is None:
        return [*lines, (False, said)]
    lines.append((True, said))
    client = make_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url, retries=1)
    header = next((v for k, v in auth.headers.items() if k.lower() == "x-oauth-scopes"), None)
    granted = {s.strip() for s in (header[0] if isinstance(header, list) else header or "").split(",") if s.strip()}
    if granted:
        missing = [s for s in REQUIRED_SCOPES if s not in granted and FEATURE_SCOPES.get(s, lambda t: True)(team)]
        lines.append((not missing, "slack scopes: " + (f"missing {', '.join(missing)} — add them under OAuth & "
                                                      "Permissions and reinstall the app"
                                                      if missing else "all granted")))
    lines.append(report_channel(client, team.team.report_channel))
    unresolved: list[str] = []
    for person in team.people:
        try:
            if person.slack:
                client.users_info(user=person.slack)
            elif person.email:
                client.users_lookupByEmail(email=person.email)
            else:
                unresolved.append(f"{person.name} (no slack id or email)")
        except SlackApiError as exc:
            if exc.response.get("error") == "missing_scope":  # no lookup can work: say which scope, once
                return [*lines, (False, explain(exc, settings) or "Slack: missing_scope")]
            unresolved.append(f"{person.name} ({person.slack or person.email}: {exc.response.get('error')})")
        except (SlackClientError, OSError) as exc:
            return [*lines, (False, explain(exc, settings) or f"Slack: {exc}")]
    lines.append((not unresolved, "slack people: " + (
        f"cannot resolve {'; '.join(unresolved)} — put each one's Slack member id (slack: U…) or Slack "
        "e-mail in the team file" if unresolved else f"all {len(team.people)} resolved")))
    return lines


def report_channel(client: WebClient, channel: str) -> tuple[bool, str]:
    """(ok, line) for the team file's report channel: it is a channel id, the channel exists and the bot is
    a member (conversations.info's `is_member` for the calling bot,
    https://docs.slack.dev/reference/methods/conversations.info). A `#name` is looked up with
    conversations.list (https://docs.slack.dev/reference/methods/conversations.list) so the ✗ can name its id."""
    where = f"slack report channel {channel}"
    try:
        if not _CHANNEL_ID.match(channel):
            found = _channel_named(client, channel.removeprefix("#"))
            if found is None:
                return False, (f"{where}: not a channel id, and no channel of that name is visible to the bot — "
                               "put the channel's id (C…, from the channel's details) in report_channel")
            return False, (f"{where}: a name, not an id; it is {found} — write report_channel: {found} in the "
                           "team file (Slack edits and threads need the id)")
        info = client.conversations_info(channel=channel)
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "unknown_error")
        if error == "missing_scope":
            return False, f"{where}: cannot check it (missing_scope) — add {_CHANNEL_SCOPES} and reinstall the app"
        if error == "channel_not_found":
            return False, (f"{where}: channel_not_found — check the id, and for a private channel invite the bot "
                           "(/invite @zhoubao) so it can see it")
        return False, f"{where}: Slack answered {error}"
    except (SlackClientError, OSError) as exc:
        return False, f"{where}: {network_reason(exc) or exc}"
    name = (info.get("channel") or {}).get("name") or channel
    if not (info.get("channel") or {}).get("is_member"):
        return False, f"{where} (#{name}): the bot is not a member — /invite @zhoubao in #{name}"
    return True, f"{where} (#{name}): exists, the bot is a member"


def _channel_named(client: WebClient, name: str) -> str | None:
    """The id of the channel called `name` among those the bot can see (public and private), else None."""
    cursor: str | None = None
    while True:
        page = client.conversations_list(types="public_channel,private_channel", exclude_archived=True,
                                         limit=1000, cursor=cursor)
        for conversation in page.get("channels") or []:
            if conversation.get("name") == name:
                return str(conversation["id"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return None
