"""`zhoubao doctor` for Feishu: can the app get a token, send messages, and find every person?

The tenant-token call needs no permission (https://open.feishu.cn/document/ukTMukTMukTM/ukDNz4SO0MjL5QzM/
auth-v3/auth/tenant_access_token_internal), so any refusal there means the app id or secret is wrong.
Permission codes are from Feishu's generic error code list
(https://open.feishu.cn/document/server-docs/api-call-guide/generic-error-code).
"""

from __future__ import annotations

from bot.adapters.feishu.api import FeishuApiError, OpenApi
from bot.adapters.feishu.config import FeishuSettings
from bot.adapters.feishu.people import People
from bot.adapters.feishu.sdk import HttpMethod
from bot.adapters.network import network_reason
from bot.domain.team import Team
from bot.services.documents import bitable_columns

# Feishu codes that mean a permission (scope) is missing from the app.
_NO_SCOPE = {99991672, 99991679, 40004, 41050}

# What the bot needs, and the permissions any one of which grants it ("权限要求（满足任一）"), as docs/feishu.md
# lists them with their sources (消息概述, 机器人进群, 获取单个用户信息 …).
NEEDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("send and patch messages", ("im:message:send_as_bot", "im:message")),
    ("im.message.receive_v1 in chats with the bot", ("im:message.p2p_msg:readonly", "im:message.p2p_msg")),
    ("im.message.receive_v1 @-mentions in groups", ("im:message.group_at_msg:readonly", "im:message.group_at_msg",
                                                    "im:message.group_msg")),
    # The edit event carries the message receive_v1 does, so the same grant (docs/feishu.md says what is unchecked).
    ("im.message.updated_v1 (edits) in chats with the bot", ("im:message.p2p_msg:readonly", "im:message.p2p_msg")),
    ("im.message.recalled_v1", ("im:message:readonly", "im:message")),
    # The bot-added event is also delivered with im:chat.members:bot_access (issue 21 item 9; the event's page,
    # https://open.feishu.cn/document/server-docs/group/chat-member/event/added-2, lists it beside im:chat:readonly).
    ("im.chat.member.bot.added_v1", ("im:chat:readonly", "im:chat", "im:chat.members:bot_access")),
    # 判断用户或机器人是否在群里 (https://open.feishu.cn/document/server-docs/group/chat-member/is_in_chat):
    # "开启其中任意一项权限即可调用".
    ("the report chat check", ("im:chat:readonly", "im:chat", "im:chat.members:read", "im:chat.group_info:readonly")),
    ("team members by email", ("contact:user.id:readonly",)),
    ("reporters' names (contact API)", ("contact:contact.base:readonly", "contact:contact:readonly_as_app",
                                        "contact:contact:readonly", "contact:contact:access_as_app")),
    ("reporters' names (the name field)", ("contact:user.base:readonly",)),
)
# What publishing into documents needs, when the team file turns it on (documents.feishu_doc / feishu_bitable);
# each call's page names its permissions (bot/adapters/feishu/documents.py cites them), docs/feishu.md lists them.
DOCUMENT_NEEDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("documents: create and edit a docx (docx/v1/documents, …/descendant, …/batch_delete)", ("docx:document",)),
    ("documents: Markdown into blocks (docx/v1/documents/blocks/convert)",
     ("docx:document.block:convert", "docx:document")),
    ("documents: share with the team (drive/v1/permissions/:token/members)",
     ("docs:permission.member:create", "drive:drive")),
    ("documents: the document's link (drive/v1/metas/batch_query)",
     ("drive:drive.metadata:readonly", "drive:drive:readonly", "drive:drive")),
)
BITABLE_NEEDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("多维表格: create rows (records/batch_create)", ("base:record:create", "bitable:app")),
    ("多维表格: update rows (records/batch_update)", ("base:record:update", "bitable:app")),
    ("多维表格: read the table's columns (doctor)", ("base:field:read", "bitable:app:readonly", "bitable:app")),
)
GRANTED = 1  # grant_status in 查询租户授权状态 (1 granted, 2 not)


def needs_of(team: Team) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Every need of the bot for `team`: chat always, documents and 多维表格 when its file turns them on."""
    return NEEDS + (DOCUMENT_NEEDS if team.documents.feishu_doc else ()) + \
        (BITABLE_NEEDS if team.documents.feishu_bitable else ())


def missing_scopes(granted: set[str], needs: tuple[tuple[str, tuple[str, ...]], ...] = NEEDS
                   ) -> list[tuple[str, tuple[str, ...]]]:
    """The needs none of whose permissions is granted."""
    return [(need, any_of) for need, any_of in needs if not granted & set(any_of)]


def _scopes(api: OpenApi, needs: tuple[tuple[str, tuple[str, ...]], ...] = NEEDS) -> tuple[bool, str]:
    """What the tenant granted the app (GET /open-apis/application/v6/scopes needs no permission itself:
    https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/application-v6/scope/list; lark-oapi
    `api/application/v6/model/list_scope_request.py`)."""
    try:
        body = api.call(HttpMethod.GET, "/open-apis/application/v6/scopes")
    except FeishuApiError as exc:
        return False, f"feishu permissions: cannot read them ({exc})"
    scopes = (body.get("data") or {}).get("scopes") or []
    granted = {str(s.get("scope_name")) for s in scopes if s.get("grant_status") == GRANTED}
    lost = missing_scopes(granted, needs)
    if not lost:
        return True, "feishu permissions: every one the bot needs is granted"
    return False, "feishu permissions: missing " + "; ".join(
        f"{need} (grant {' or '.join(any_of)})" for need, any_of in lost)


def explain(exc: BaseException, settings: FeishuSettings) -> str | None:
    """One line for a Feishu failure (unreachable, bad credentials, missing permission, other refusal),
    or None when `exc` is not about Feishu."""
    if isinstance(exc, FeishuApiError):
        if exc.code in _NO_SCOPE:
            return (f"Feishu: the app lacks a permission (code {exc.code}: {exc}); add it under the app's "
                    "Permissions & Scopes, publish a new version, then start again")
        return f"Feishu refused the call (code {exc.code or exc.status}: {exc})"
    reason = network_reason(exc)
    if reason is not None:
        return (f"Feishu unreachable at {settings.feishu_domain} ({reason}): check the network, proxy or "
                "FEISHU_DOMAIN")
    return None


def sign_in(settings: FeishuSettings, api: OpenApi | None = None) -> tuple[bool, str]:
    """(True, which app signed in) or (False, one line on what went wrong) after one tenant-token call."""
    if not settings.feishu_app_id or settings.feishu_app_secret is None:
        return False, "Feishu: set FEISHU_APP_ID and FEISHU_APP_SECRET (both, from Credentials & Basic Info)"
    if settings.feishu_event_mode == "http" and not (settings.feishu_verification_token and
                                                     settings.feishu_encrypt_key):
        return False, ("Feishu: FEISHU_EVENT_MODE=http needs FEISHU_VERIFICATION_TOKEN and FEISHU_ENCRYPT_KEY "
                       "(Events & Callbacks → Encryption Strategy), or FEISHU_EVENT_MODE=ws")
    try:
        api = api or OpenApi(settings.feishu_app_id, settings.feishu_app_secret.get_secret_value(),
                             domain=settings.feishu_domain, retries=0)
        api.tenant_token()
    except FeishuApiError as exc:
        return False, (f"Feishu refused FEISHU_APP_ID / FEISHU_APP_SECRET (code {exc.code or exc.status}: {exc}): "
                       "copy both again from the app's Credentials & Basic Info page")
    except (OSError, ValueError) as exc:  # lark-oapi raises ValueError for a domain it will not use
        return False, explain(exc, settings) or f"Feishu: FEISHU_DOMAIN {settings.feishu_domain}: {exc}"
    return True, f"feishu: app {settings.feishu_app_id} gets a tenant token at {settings.feishu_domain}"


def check(settings: FeishuSettings, team: Team, api: OpenApi | None = None) -> list[tuple[bool, str]]:
    """One (ok, text) per check: credentials, the contact lookup permission, each person's identity,
    the report chat. Unresolved people and missing permissions are named."""
    out: list[tuple[bool, str]] = []
    if not settings.feishu_app_id or settings.feishu_app_secret is None:
        return [(False, "feishu: FEISHU_APP_ID and FEISHU_APP_SECRET are not set — add both to .env")]
    api = api or OpenApi(settings.feishu_app_id, settings.feishu_app_secret.get_secret_value(),
                         domain=settings.feishu_domain, retries=1)
    good, said = sign_in(settings, api)
    if not good:
        return [(False, said)]
    out.append((True, said))
    out.append(_scopes(api, needs_of(team)))
    people = People(api, team)
    try:
        lost = people.unresolved()
        out.append((not lost, "feishu identities: " + (
            "unresolved " + ", ".join(f"{p.name} ({p.email or 'no email'})" for p in lost)
            + " — put each one's Feishu e-mail (or feishu: ou_…) in the team file" if lost
            else "every person has an open_id")))
    except FeishuApiError as exc:
        scope = " (missing permission contact:user.id:readonly — add it and publish a new version)" \
            if exc.code in _NO_SCOPE else ""
        out.append((False, f"feishu identities: email lookup failed{scope}: {exc}"))
    except OSError as exc:
        return [*out, (False, explain(exc, settings) or f"Feishu: {exc}")]
    out.append(_report_chat(api, settings, team.team.report_channel))
    if team.documents.feishu_bitable is not None:
        out.append(_bitable_columns(api, team))
    return out


def _bitable_columns(api: OpenApi, team: Team) -> tuple[bool, str]:
    """Does the 多维表格 table have a column for every field the rows carry? A missing one fails every write
    (列出字段 GET /open-apis/bitable/v1/apps/:app_token/tables/:table_id/fields -> data.items[].field_name,
    https://open.feishu.cn/document/server-docs/docs/bitable-v1/app-table-field/list; lark-oapi
    `api/bitable/v1/model/app_table_field_for_list.py`)."""
    config = team.documents.feishu_bitable
    assert config is not None
    where = f"feishu 多维表格 {config.app_token}/{config.table_id}"
    names: set[str] = set()
    token = ""
    try:
        while True:
            body = api.call(HttpMethod.GET, "/open-apis/bitable/v1/apps/:app_token/tables/:table_id/fields",
                            paths={"app_token": config.app_token, "table_id": config.table_id},
                            query={"page_size": "100", **({"page_token": token} if token else {})})
            data = body.get("data") or {}
            names |= {str(f.get("field_name")) for f in data.get("items") or []}
            token = str(data.get("page_token") or "")
            if not data.get("has_more") or not token:
                break
    except FeishuApiError as exc:
        scope = " (missing permission bitable:app)" if exc.code in _NO_SCOPE else ""
        return False, (f"{where}: not readable{scope}: {exc}; check app_token and table_id in the team file and add "
                       "the app to the 多维表格 (… → Add document app)")
    lost = [c for c in bitable_columns(team.team.locale) if c not in names]
    if lost:
        return False, f"{where}: missing columns {', '.join(lost)} — add them to the table (text; 进度/Progress: number)"
    return True, f"{where}: every column the rows need is there"


def _report_chat(api: OpenApi, settings: FeishuSettings, channel: str) -> tuple[bool, str]:
    """Is the bot in the report chat? `GET /open-apis/im/v1/chats/:chat_id/members/is_in_chat` answers for the
    token's own identity, here the bot (判断用户或机器人是否在群里,
    https://open.feishu.cn/document/server-docs/group/chat-member/is_in_chat; lark-oapi
    `api/im/v1/model/is_in_chat_chat_members_response_body.py`: `data.is_in_chat`)."""
    try:
        body = api.call(HttpMethod.GET, "/open-apis/im/v1/chats/:chat_id/members/is_in_chat",
                        paths={"chat_id": channel})
    except FeishuApiError as exc:
        scope = " (missing permission im:chat:readonly)" if exc.code in _NO_SCOPE else ""
        return False, (f"feishu report chat {channel}: not reachable{scope}: {exc}; check report_channel in the "
                       "team file (a chat id, oc_…) and add the bot to that group")
    except OSError as exc:
        return False, explain(exc, settings) or f"Feishu: {exc}"
    if (body.get("data") or {}).get("is_in_chat") is True:
        return True, f"feishu report chat {channel}: the bot is a member"
    return False, (f"feishu report chat {channel}: the bot is not in this group, so Friday's report cannot be "
                   "posted; add it (group settings → Bots → Add bot)")
