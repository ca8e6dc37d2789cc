"""A loopback stand-in for the Feishu Open API: a real HTTP server on 127.0.0.1 that records every call.

It issues tenant tokens (and can invalidate them), creates, replies to and patches messages (a `uuid`
seen before returns the first message, as Feishu does), looks up emails, and can answer 429 or any
error code on demand (or lose an answer: the call carried out, its answer an error), or enforce Feishu's
send limits (scaled) with 429 + `x-ogw-ratelimit-reset`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.feishu.docs_api import SCOPES as DOCS_SCOPES
from tests.feishu.docs_api import FeishuDocs

UUID_WINDOW = 3600.0  # seconds a message's uuid deduplicates (see `_send`)


def _elements(tree: Any) -> int:
    """Every element or component of a card: anything with a `tag`, at any depth."""
    if isinstance(tree, dict):
        return ("tag" in tree) + sum(_elements(v) for v in tree.values())
    if isinstance(tree, list):
        return sum(_elements(v) for v in tree)
    return 0


def _method_name(method: str, path: str) -> str:
    """An Open API call by Feishu's name for it (im.message.create …), else its verb and path."""
    if path == "/open-apis/im/v1/messages":
        return "im.message.create"
    if re.fullmatch(r"/open-apis/im/v1/messages/[^/]+/reply", path):
        return "im.message.reply"
    if method == "PATCH" and re.fullmatch(r"/open-apis/im/v1/messages/[^/]+", path):
        return "im.message.patch"
    return f"{method} {path}"


@dataclass
class Message:
    message_id: str
    chat_id: str
    receive_id: str
    msg_type: str
    content: dict[str, Any]
    uuid: str | None
    reply_to: str | None = None
    patches: list[dict[str, Any]] = field(default_factory=list)

    @property
    def current(self) -> dict[str, Any]:
        return self.patches[-1] if self.patches else self.content


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: dict[str, Any]
    token: str | None
    status: int
    code: int
    at: float


@dataclass
class Failure:
    method: str
    path: str  # a regex matched against the path
    status: int
    code: int
    headers: dict[str, str]
    times: int
    receive_id: str | None = None  # only sends to this user or chat
    lose: bool = False  # the call is carried out; only its answer is this one (lost on the way back)


class OpenApiStandIn:
    def __init__(self, *, directory: dict[str, str] | None = None, per_app: float | None = None,
                 per_chat: float | None = None, per_minute: float | None = None, minute: float = 60.0,
                 token_ttl: int = 7200) -> None:
        self.directory = dict(directory or {})  # email -> open_id
        self.names: dict[str, str] = {}  # open_id -> name, for GET contact/v3/users/:user_id
        # What the tenant granted the app, as 查询租户授权状态 lists it (scope_name -> grant_status, 1 granted)
        self.scopes: dict[str, int] = {s: 1 for s in (
            "im:message:send_as_bot", "im:message.p2p_msg:readonly", "im:message.group_at_msg:readonly",
            "im:message:readonly", "im:chat:readonly", "contact:user.id:readonly", "contact:contact.base:readonly",
            "contact:user.base:readonly", *DOCS_SCOPES)}
        self.docs = FeishuDocs(self.scopes)  # docx, drive and bitable (tests/feishu/docs_api.py)
        self.per_app, self.per_chat, self.token_ttl = per_app, per_chat, token_ttl
        # 1,000 messages a minute per app ("接口频率限制 1000 次/分钟、50 次/秒", 发送消息
        # https://open.feishu.cn/document/server-docs/im-v1/message/create); `minute` shortens the window
        # for a test, as `per_app` scales the second's.
        self.per_minute, self.minute = per_minute, minute
        self._sent_minute: deque[float] = deque()
        self.calls: list[Call] = []
        self.messages: dict[str, Message] = {}
        self.by_uuid: dict[str, str] = {}
        self.uuid_at: dict[str, float] = {}
        self.tokens: set[str] = set()
        self.chats: set[str] = set()  # group chats the bot is in
        self.other_chats: set[str] = set()  # group chats that exist, without the bot
        self.recalled: set[str] = set()  # message ids recalled in the chat (no longer shown)
        self.failures: list[Failure] = []
        self.problems: list[str] = []  # every send Feishu would have refused for its size
        self.bot_open_id = "ou_bot"
        self._sent_app: deque[float] = deque()
        self._sent_chat: dict[str, deque[float]] = {}
        self._n = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    # ----- control ---------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> OpenApiStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail(self, method: str, path: str, *, status: int = 200, code: int = 0, times: int = 1,
             headers: dict[str, str] | None = None, receive_id: str | None = None, lose: bool = False) -> None:
        """The next `times` calls matching `method` and the `path` regex (and, with `receive_id`, sent
        to that user or chat) get this answer instead. With `lose`, each is carried out all the same (a
        message sent, a card patched) and only its answer is replaced: a response lost on the way back, a
        5xx after the work was done, whose outcome the client cannot know."""
        self.failures.append(Failure(method, path, status, code, dict(headers or {}), times, receive_id, lose))

    def recall(self, message_id: str) -> None:
        """A person (a group admin) recalls the bot's message: it is gone from the chat."""
        with self._lock:
            self.recalled.add(message_id)

    def invalidate_tokens(self) -> None:
        """Every issued tenant token stops working (code 99991663), as when Feishu rotates them."""
        with self._lock:
            self.tokens.clear()

    def sent(self, *, to: str | None = None, msg_type: str | None = None) -> list[Message]:
        """Messages delivered (each once), oldest first."""
        return [m for m in self.messages.values() if m.message_id not in self.recalled
                and (to is None or to in (m.receive_id, m.chat_id)) and (msg_type is None or m.msg_type == msg_type)]

    def stats(self) -> dict[str, Any]:
        """What a bench in another process reads (GET /_stats): calls per API method (as Feishu names them)
        and, of the messages delivered, how many went to each receive_id and to each chat; calls refused
        for a rate limit; sends refused for their size."""
        with self._lock:
            calls: dict[str, int] = {}
            for c in self.calls:
                name = _method_name(c.method, c.path)
                calls[name] = calls.get(name, 0) + 1
            per_receiver: dict[str, int] = {}
            per_chat: dict[str, int] = {}
            for m in self.messages.values():
                per_receiver[m.receive_id] = per_receiver.get(m.receive_id, 0) + 1
                per_chat[m.chat_id] = per_chat.get(m.chat_id, 0) + 1
            limited = sum(1 for c in self.calls if c.status == 429 or c.code == 230020)
            return {"calls": calls, "sent_to": per_receiver, "sent_in": per_chat, "rate_limited": limited,
                    "problems": list(self.problems)}

    def calls_to(self, method: str, pattern: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and re.search(pattern, c.path)]

    # ----- the API -------------------------------------------------------------------

    def _handle(self, method: str, path: str, query: dict[str, str], body: dict[str, Any],
                token: str | None) -> tuple[int, dict[str, Any], dict[str, str]]:
        for f in self.failures:
            if f.times > 0 and f.method == method and re.search(f.path, path) and \
                    f.receive_id in (None, body.get("receive_id")):
                f.times -= 1
                if f.lose:
                    self._carry_out(method, path, query, body, token)
                return f.status, {"code": f.code, "msg": "scripted failure"}, f.headers
        return self._carry_out(method, path, query, body, token)

    def _carry_out(self, method: str, path: str, query: dict[str, str], body: dict[str, Any],
                   token: str | None) -> tuple[int, dict[str, Any], dict[str, str]]:
        if path == "/open-apis/auth/v3/tenant_access_token/internal":
            self._n += 1
            tok = f"t-{self._n}"
            self.tokens.add(tok)
            return 200, {"code": 0, "msg": "ok", "tenant_access_token": tok, "expire": self.token_ttl}, {}
        if token not in self.tokens:
            return 400, {"code": 99991663, "msg": "Invalid access token for authorization"}, {}
        if method == "GET" and path == "/open-apis/bot/v3/info":
            return 200, {"code": 0, "msg": "ok", "bot": {"open_id": self.bot_open_id, "app_name": "zhoubao"}}, {}
        if method == "POST" and path == "/open-apis/contact/v3/users/batch_get_id":
            users = [{"email": e, **({"user_id": self.directory[e]} if e in self.directory else {})}
                     for e in body.get("emails", [])]
            return 200, {"code": 0, "msg": "success", "data": {"user_list": users}}, {}
        if method == "GET" and path == "/open-apis/application/v6/scopes":
            return 200, {"code": 0, "msg": "success", "data": {"scopes": [
                {"scope_name": k, "grant_status": v} for k, v in self.scopes.items()]}}, {}
        m = re.fullmatch(r"/open-apis/contact/v3/users/([^/]+)", path)
        if method == "GET" and m:  # 获取单个用户信息: data.user.name (contact:user.base:readonly)
            if m.group(1) not in self.names:
                return 400, {"code": 41050, "msg": "no user authority error"}, {}
            return 200, {"code": 0, "msg": "success", "data": {"user": {"open_id": m.group(1),
                                                                       "name": self.names[m.group(1)]}}}, {}
        m = re.fullmatch(r"/open-apis/im/v1/chats/([^/]+)/members/is_in_chat", path)
        if method == "GET" and m:  # 判断用户或机器人是否在群里: data.is_in_chat for the token's identity (the bot)
            if m.group(1) in self.chats | self.other_chats:
                return 200, {"code": 0, "msg": "success", "data": {"is_in_chat": m.group(1) in self.chats}}, {}
            return 400, {"code": 232011, "msg": "bot is not in the chat"}, {}
        m = re.fullmatch(r"/open-apis/im/v1/chats/([^/]+)", path)
        if method == "GET" and m:
            if m.group(1) in self.chats:
                return 200, {"code": 0, "msg": "success", "data": {"chat_id": m.group(1)}}, {}
            return 400, {"code": 232011, "msg": "bot is not in the chat"}, {}
        if method == "POST" and path == "/open-apis/im/v1/messages":
            receive_id = str(body.get("receive_id"))
            chat = receive_id if query.get("receive_id_type") == "chat_id" else f"oc_p2p_{receive_id}"
            return self._send(chat, receive_id, body, None)
        m = re.fullmatch(r"/open-apis/im/v1/messages/([^/]+)/reply", path)
        if method == "POST" and m:
            parent = self.messages.get(m.group(1))
            chat = parent.chat_id if parent else f"oc_unknown_{m.group(1)}"
            return self._send(chat, chat, body, m.group(1))
        m = re.fullmatch(r"/open-apis/im/v1/messages/([^/]+)", path)
        if method == "PATCH" and m:
            msg = self.messages.get(m.group(1))
            if m.group(1) in self.recalled:  # https://open.feishu.cn/document/server-docs/im-v1/message-card/patch
                return 400, {"code": 230011, "msg": "The message is recalled."}, {}
            if msg is None or msg.msg_type != "interactive":
                return 400, {"code": 230001, "msg": "message not found or not a card"}, {}
            refused = self._too_big("interactive", body, json.loads(body["content"]))
            if refused is not None:
                return refused
            msg.patches.append(json.loads(body["content"]))
            return 200, {"code": 0, "msg": "success"}, {}
        answered = self.docs.handle(method, path, query, body)
        if answered is not None:
            return answered
        return 404, {"code": 404, "msg": f"no route {method} {path}"}, {}

    def _send(self, chat: str, receive_id: str, body: dict[str, Any],
              reply_to: str | None) -> tuple[int, dict[str, Any], dict[str, str]]:
        uuid = body.get("uuid")
        # "持有相同 uuid 的请求，在 1 小时内至多成功发送（回复）一条消息" (发送消息 / 回复消息,
        # https://open.feishu.cn/document/server-docs/im-v1/message/create and .../message/reply): a second
        # message with a uuid seen within the hour is not delivered; the first one is answered.
        if uuid and uuid in self.by_uuid and time.monotonic() - self.uuid_at[uuid] < UUID_WINDOW:
            old = self.messages[self.by_uuid[uuid]]
            return 200, {"code": 0, "msg": "success", "data": {"message_id": old.message_id, "chat_id": old.chat_id}}, {}
        limited = self._limited(chat)
        if limited is not None:
            return limited
        content = json.loads(body["content"])
        refused = self._too_big(str(body["msg_type"]), body, content)
        if refused is not None:
            return refused
        self._n += 1
        msg = Message(f"om_{self._n}", chat, receive_id, str(body["msg_type"]), content, uuid, reply_to)
        self.messages[msg.message_id] = msg
        if uuid:
            self.by_uuid[uuid] = msg.message_id
            self.uuid_at[uuid] = time.monotonic()
        return 200, {"code": 0, "msg": "success", "data": {"message_id": msg.message_id, "chat_id": chat,
                                                          "msg_type": msg.msg_type}}, {}

    def _too_big(self, msg_type: str, body: dict[str, Any], content: Any) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        """Feishu's size limits, measured as docs/platform-limits.md says Feishu measures them: the whole
        request body as lark-oapi sends it (150 KB for text, 30 KB for cards and posts: 发送消息, code
        230025), and every tagged element of a card (200: 卡片 JSON 2.0 结构). The element cap's code through
        im/v1/messages is not documented; 230099 "Failed to create card content" is our best reading."""
        size = len(json.dumps(body, ensure_ascii=False).encode("utf-8"))
        limit = 150 * 1024 if msg_type == "text" else 30 * 1024
        if size > limit:
            self.problems.append(f"{msg_type} message of {size} bytes")
            return 400, {"code": 230025, "msg": "The length of the message content reaches its limit"}, {}
        if msg_type == "interactive" and (count := _elements(content)) > 200:
            self.problems.append(f"card of {count} elements")
            return 400, {"code": 230099, "msg": "Failed to create card content, ErrCode: 300305; "
                                                "ErrMsg: The number of card components exceeds 200"}, {}
        return None

    def _limited(self, chat: str) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        now = time.monotonic()
        if self.per_app is not None:
            window = self._sent_app
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= self.per_app:
                reset = max(0.001, window[0] + 1.0 - now)
                return 429, {"code": 99991400, "msg": "request trigger frequency limit"}, {
                    "x-ogw-ratelimit-limit": str(self.per_app), "x-ogw-ratelimit-reset": f"{reset:.3f}"}
        if self.per_minute is not None:
            window = self._sent_minute
            while window and window[0] <= now - self.minute:
                window.popleft()
            if len(window) >= self.per_minute:
                reset = max(0.001, window[0] + self.minute - now)
                return 429, {"code": 99991400, "msg": "request trigger frequency limit"}, {
                    "x-ogw-ratelimit-limit": str(self.per_minute), "x-ogw-ratelimit-reset": f"{reset:.3f}"}
        if self.per_chat is not None:
            window = self._sent_chat.setdefault(chat, deque())
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= self.per_chat:
                return 400, {"code": 230020, "msg": "This operation triggers the frequency limit."}, {}
            window.append(now)
        if self.per_app is not None:
            self._sent_app.append(now)
        if self.per_minute is not None:
            self._sent_minute.append(now)
        return None

    def _sent(self, query: dict[str, str]) -> list[dict[str, Any]]:
        """GET /_sent?to=…&msg_type=…: `sent` as JSON, each message as the chat shows it now (its last patch)."""
        with self._lock:
            return [{"message_id": m.message_id, "chat_id": m.chat_id, "receive_id": m.receive_id,
                     "msg_type": m.msg_type, "reply_to": m.reply_to, "content": m.current}
                    for m in self.sent(to=query.get("to"), msg_type=query.get("msg_type"))]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # An answer leaves in one write, without waiting on Nagle: on a kept-alive connection, headers and
            # body written apart waited for the client's delayed ACK (40 ms a call), which Feishu's servers do not.
            wbufsize = -1
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if parts.path in ("/_stats", "/_sent"):  # for a bench with the stand-in in another process
                    self._answer(200, standin.stats() if parts.path == "/_stats" else standin._sent(query), {})
                    return
                body = json.loads(raw) if raw else {}
                auth = self.headers.get("Authorization") or ""
                token = auth[7:] if auth.startswith("Bearer ") else None
                with standin._lock:
                    status, answer, headers = standin._handle(method, parts.path, query, body, token)
                    standin.calls.append(Call(method, parts.path, query, body, token, status,
                                              int(answer.get("code", 0)), time.monotonic()))
                self._answer(status, answer, headers)

            def _answer(self, status: int, answer: Any, headers: dict[str, str]) -> None:
                data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_PATCH(self) -> None:
                self._serve("PATCH")

            def do_DELETE(self) -> None:
                self._serve("DELETE")

        return Handler


if __name__ == "__main__":  # a stand-in in its own process, for benches: prints its URL, serves until killed
    import sys

    # argv[1]: {"per_app": …, "per_chat": …, "per_minute": …, "chats": [...], "directory": {email: open_id}}
    config = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    server = OpenApiStandIn(directory=config.get("directory"), per_app=config.get("per_app"),
                            per_chat=config.get("per_chat"), per_minute=config.get("per_minute")).start()
    server.chats.update(config.get("chats", []))
    print(server.url, flush=True)
    threading.Event().wait()
