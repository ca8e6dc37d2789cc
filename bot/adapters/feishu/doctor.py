"""`zhoubao doctor` for Feishu: can the app get a token, send messages, and find every person?"""

from __future__ import annotations

from lark_oapi.core.enum import HttpMethod

from bot.adapters.feishu.api import FeishuApiError, OpenApi
from bot.adapters.feishu.config import FeishuSettings
from bot.adapters.feishu.people import People
from bot.domain.team import Team

# Feishu codes that mean a permission (scope) is missing from the app.
_NO_SCOPE = {99991672, 99991679, 40004, 41050}


def check(settings: FeishuSettings, team: Team, api: OpenApi | None = None) -> list[tuple[bool, str]]:
    """One (ok, text) per check: credentials, the contact lookup permission, each person's identity,
    the report chat. Unresolved people and missing permissions are named."""
    out: list[tuple[bool, str]] = []
    if not settings.feishu_app_id or settings.feishu_app_secret is None:
        return [(False, "feishu: FEISHU_APP_ID and FEISHU_APP_SECRET are not set")]
    api = api or OpenApi(settings.feishu_app_id, settings.feishu_app_secret.get_secret_value(),
                         domain=settings.feishu_domain, retries=1)
    try:
        api.tenant_token()
        out.append((True, f"feishu: app {settings.feishu_app_id} gets a tenant token at {settings.feishu_domain}"))
    except FeishuApiError as exc:
        return [(False, f"feishu: no tenant token ({exc}); check FEISHU_APP_ID / FEISHU_APP_SECRET")]
    if settings.feishu_event_mode == "http" and not (settings.feishu_verification_token and
                                                     settings.feishu_encrypt_key):
        out.append((False, "feishu: FEISHU_EVENT_MODE=http needs FEISHU_VERIFICATION_TOKEN and FEISHU_ENCRYPT_KEY"))
    people = People(api, team)
    try:
        lost = people.unresolved()
        out.append((not lost, "feishu identities: " + (
            "unresolved " + ", ".join(f"{p.name} ({p.email or 'no email'})" for p in lost) if lost
            else "every person has an open_id")))
    except FeishuApiError as exc:
        scope = " (missing permission contact:user.id:readonly)" if exc.code in _NO_SCOPE else ""
        out.append((False, f"feishu identities: email lookup failed{scope}: {exc}"))
    channel = team.team.report_channel
    try:
        api.call(HttpMethod.GET, "/open-apis/im/v1/chats/:chat_id", paths={"chat_id": channel})
        out.append((True, f"feishu report chat {channel}: the bot is a member"))
    except FeishuApiError as exc:
        scope = " (missing permission im:chat:readonly)" if exc.code in _NO_SCOPE else ""
        out.append((False, f"feishu report chat {channel}: not reachable{scope}: {exc}; add the bot to the group"))
    return out
