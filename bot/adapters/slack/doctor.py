"""`zhoubao doctor` on Slack: is the token good, does it have every scope, can every person be found?"""

from __future__ import annotations

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.adapters.slack.config import SlackSettings
from bot.adapters.slack.gateway import make_client
from bot.domain.team import Team

# Keep in step with docs/slack-manifest.yaml.
REQUIRED_SCOPES = ("chat:write", "commands", "files:write", "im:history", "im:write", "users:read",
                   "users:read.email")


def check(settings: SlackSettings, team: Team) -> list[tuple[bool, str]]:
    """One (ok, line) per check: credentials, transport, scopes, and each person's Slack account."""
    if settings.slack_bot_token is None:
        return [(False, "slack: SLACK_BOT_TOKEN is not set")]
    lines: list[tuple[bool, str]] = []
    if settings.slack_app_token is not None:
        lines.append((True, "slack transport: Socket Mode (SLACK_APP_TOKEN)"))
    elif settings.slack_signing_secret is not None:
        lines.append((True, f"slack transport: HTTP on port {settings.port}, POST /slack/events"))
    else:
        lines.append((False, "slack transport: set SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP)"))
    client = make_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url, retries=1)
    try:
        auth = client.auth_test()
    except (SlackApiError, SlackClientError, OSError) as exc:
        reason = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
        return [*lines, (False, f"slack token refused: {reason}")]
    lines.append((True, f"slack: signed in as {auth.get('user')} in team {auth.get('team') or auth.get('team_id')}"))
    header = next((v for k, v in auth.headers.items() if k.lower() == "x-oauth-scopes"), None)
    granted = {s.strip() for s in (header[0] if isinstance(header, list) else header or "").split(",") if s.strip()}
    if granted:
        missing = [s for s in REQUIRED_SCOPES if s not in granted]
        lines.append((not missing, "slack scopes: " + (f"missing {', '.join(missing)} — add them and reinstall"
                                                      if missing else "all granted")))
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
            unresolved.append(f"{person.name} ({person.slack or person.email}: {exc.response.get('error')})")
    lines.append((not unresolved, "slack people: " + (f"cannot resolve {'; '.join(unresolved)}" if unresolved
                                                     else f"all {len(team.people)} resolved")))
    return lines
