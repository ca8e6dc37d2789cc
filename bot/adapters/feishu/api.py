"""The Feishu Open API as the adapter uses it: lark-oapi's `Client`, plus what lark-oapi leaves out.

lark-oapi builds the request (`BaseRequest`); this module sends it over one `requests.Session` per
instance, so connections (and their TLS handshakes) are reused: lark-oapi's own transport calls
`requests.request` for every call, a new session, connection and scan of the environment for proxies each
time (`lark_oapi/core/http/transport.py`; a quarter of a prompt's CPU in bench/week.py --platform feishu).
It adds the tenant token kept per
instance (refreshed before it expires and when Feishu calls it invalid), client-side pacing under
Feishu's rate limits, and retries (tenacity): HTTP 429 / code 99991400 wait for `x-ogw-ratelimit-reset`,
code 230020 (too many messages to one chat) and repeatable 5xx back off exponentially.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from bot.adapters.feishu.sdk import JSON, AccessTokenType, BaseRequest, HttpMethod, build_user_agent
from bot.services.chat import ChatError
from bot.services.metrics import NO_METRICS, Metrics

log = logging.getLogger("zhoubao.feishu.api")

RATE_LIMITED = 99991400
CHAT_RATE_LIMITED = 230020
TOKEN_INVALID = frozenset({99991661, 99991663, 99991664, 99991665, 99991668})
FEISHU = "https://open.feishu.cn"
LARK = "https://open.larksuite.com"


class FeishuApiError(ChatError):
    """Feishu refused a call; `code` is Feishu's numeric code (0 when only the HTTP status failed)."""

    def __init__(self, code: int, msg: str, status: int = 200) -> None:
        self.code, self.status = code, status
        super().__init__(f"feishu_{code or status}", msg)


@dataclass(frozen=True)
class Limits:
    """Feishu's send limits, scaled by one factor (tests and the bench run faster than Feishu)."""

    # "接口频率限制 1000 次/分钟、50 次/秒" (发送消息 / 回复消息,
    # https://open.feishu.cn/document/server-docs/im-v1/message/create and .../message/reply; 频控策略
    # https://open.feishu.cn/document/ukTMukTMukTM/uUzN04SN3QjL1cDN): either bound trips 99991400.
    per_app: float = 50.0  # messages per second for the whole app
    per_chat: float = 5.0  # messages per second to one user or one group
    per_minute: float = 1000.0  # messages per minute for the whole app

    def scaled(self, factor: float) -> Limits:
        return Limits(self.per_app * factor, self.per_chat * factor, self.per_minute * factor)


@dataclass
class Pacer:
    """Spaces sends so neither the app (per second and per minute) nor any one chat exceeds its rate
    (thread-safe).

    Each send is booked at the later of "now" and the earliest slot both limits allow; a slot never
    moves earlier, so a late sleep cannot crowd the next send into the same second.
    """

    limits: Limits
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    margin: float = 0.98  # stay just under the limit: Feishu counts on its own clock
    _app_next: float = 0.0
    _chat_next: dict[str, float] = field(default_factory=dict)
    _minute: deque[float] = field(default_factory=deque)  # the app's latest booked slots, at most a minute's
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, chat: str | None) -> None:
        app_gap = 1.0 / (self.limits.per_app * self.margin)
        chat_gap = 1.0 / (self.limits.per_chat * self.margin)
        with self._lock:
            now = self.clock()
            slot = max(now, self._app_next, self._chat_next.get(chat, 0.0) if chat else 0.0)
            # 50/s alone would send 1,500 messages in 30 s against 1,000 a minute: a slot is also a minute
            # after the one `minute_cap` sends back (slots never move earlier, so the deque stays sorted).
            minute_cap = max(1, int(self.limits.per_minute * self.margin))
            if len(self._minute) >= minute_cap:
                slot = max(slot, self._minute[-minute_cap] + 60.0)
            self._minute.append(slot)
            while len(self._minute) > minute_cap:
                self._minute.popleft()
            self._app_next = slot + app_gap
            if chat:
                self._chat_next[chat] = slot + chat_gap
        if slot > now:
            self.sleep(slot - now)

    def hold(self, seconds: float, chat: str | None = None) -> None:
        """Feishu said wait: nothing is sent (to `chat`, or at all) for `seconds`."""
        with self._lock:
            until = self.clock() + seconds
            if chat is None:
                self._app_next = max(self._app_next, until)
            else:
                self._chat_next[chat] = max(self._chat_next.get(chat, 0.0), until)


@dataclass
class OpenApi:
    """One app's access to the Open API at `domain` (Feishu, Lark, or a loopback stand-in)."""

    app_id: str
    app_secret: str
    domain: str = FEISHU
    limits: Limits = field(default_factory=Limits)
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    retries: int = 5
    timeout: float = 10.0
    metrics: Metrics = NO_METRICS
    _http: requests.Session = field(init=False)
    _token: str | None = None
    _token_expires: float = 0.0
    _token_lock: threading.Lock = field(default_factory=threading.Lock)
    pacer: Pacer = field(init=False)

    def __post_init__(self) -> None:
        self._http = _session(self.domain)
        self.pacer = Pacer(self.limits, self.clock, self.sleep)

    # ----- tenant access token ------------------------------------------------

    def tenant_token(self, *, refresh: bool = False) -> str:
        """A valid tenant_access_token, fetched again 30 minutes before it expires or when `refresh`."""
        with self._token_lock:
            if refresh or self._token is None or self.clock() >= self._token_expires:
                try:
                    body = self._send(_request(HttpMethod.POST, "/open-apis/auth/v3/tenant_access_token/internal",
                                               {"app_id": self.app_id, "app_secret": self.app_secret}, auth=False),
                                      None)
                except _Retry as retry:  # the next call tries again; this one fails plainly
                    raise retry.error from None
                self._token = str(body["tenant_access_token"])
                self._token_expires = self.clock() + max(60.0, float(body.get("expire", 7200)) - 1800)
            return self._token

    # ----- calls ----------------------------------------------------------------

    def call(self, method: HttpMethod, uri: str, body: dict[str, Any] | None = None, *,
             paths: dict[str, str] | None = None, query: dict[str, str] | None = None,
             chat: str | None = None) -> dict[str, Any]:
        """Send one request and return its JSON body; raises `FeishuApiError` once retries are spent.

        `chat` names the user or group a message goes to, so sends are paced per chat as well.
        """
        try:
            return self._call(method, uri, body, paths=paths, query=query, chat=chat)
        except FeishuApiError as exc:
            self.metrics.platform_error("feishu", uri, str(exc.code))
            raise

    def _call(self, method: HttpMethod, uri: str, body: dict[str, Any] | None, *,
              paths: dict[str, str] | None, query: dict[str, str] | None, chat: str | None) -> dict[str, Any]:
        request = _request(method, uri, body, paths=paths, query=query)
        # A 5xx or a dropped connection leaves the outcome unknown: retried only when a second attempt
        # cannot double anything — a read, a PATCH, or a message carrying its `uuid` (Feishu delivers one
        # message per uuid within an hour: https://open.feishu.cn/document/server-docs/im-v1/message/create).
        repeatable = method != HttpMethod.POST or bool(body and body.get("uuid"))
        refreshed = False

        def attempt() -> dict[str, Any]:
            nonlocal refreshed
            try:
                return self._attempt(request, chat, repeatable)
            except _Retry as retry:
                if not retry.token_invalid or refreshed:
                    raise
                refreshed = True  # an invalidated token is fetched again once, and the call sent again at once
                self.tenant_token(refresh=True)
                return self._attempt(request, chat, repeatable)

        def hold(state: RetryCallState) -> None:
            """Before the next attempt: log, and hold the pacer for the wait (230020 is about one chat;
            429 / 99991400 about the whole app), so other sends wait too."""
            retry = _retry_of(state)
            wait = state.next_action.sleep if state.next_action is not None else 0.0
            log.warning("feishu call retried", extra={"code": retry.error.code, "status": retry.error.status,
                                                      "wait": wait, "uri": uri})
            self.pacer.hold(wait, chat if retry.error.code == CHAT_RATE_LIMITED else None)

        retrying = Retrying(
            stop=stop_after_attempt(self.retries + 1),
            retry=retry_if_exception(lambda exc: isinstance(exc, _Retry) and not exc.token_invalid),
            wait=_wait, before_sleep=hold,
            # A message waits in the pacer (held above) before it is sent again; anything else waits here.
            sleep=(lambda seconds: None) if chat is not None else self.sleep,
            reraise=True)
        try:
            return retrying(attempt)
        except _Retry as retry:
            raise retry.error from None

    def _attempt(self, request: BaseRequest, chat: str | None, repeatable: bool) -> dict[str, Any]:
        """One try; raises _Retry for what may succeed when tried again, FeishuApiError for the rest."""
        if chat is not None:  # Feishu's 50/s and 5/s limits are on messages, not on lookups
            self.pacer.wait(chat)
        try:
            return self._send(request, self.tenant_token())
        except FeishuApiError as exc:
            if exc.status < 500 or not repeatable:
                raise
            raise _Retry(exc) from None
        except (requests.RequestException, OSError) as exc:
            error = FeishuApiError(0, f"connection error: {type(exc).__name__}", 0)
            if not repeatable:
                raise error from None
            raise _Retry(error) from None

    def _send(self, request: BaseRequest, token: str | None) -> dict[str, Any]:
        """One HTTP exchange as lark-oapi's transport makes it (its URL, headers and JSON marshalling), on
        this instance's session."""
        uri = request.uri or ""
        for key, value in (request.paths or {}).items():  # path parameters URL-encoded, as lark-oapi does
            uri = uri.replace(":" + key, quote(str(value), safe=""))
        headers = {**(request.headers or {}), "User-Agent": _USER_AGENT}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = None if request.body is None else JSON.marshal(request.body).encode("utf-8")
        assert request.http_method is not None
        raw = self._http.request(request.http_method.name, self.domain.rstrip("/") + uri, params=request.queries,
                                 data=data, headers=headers, timeout=self.timeout)
        status = raw.status_code
        try:
            body = json.loads(raw.content) if raw.content else {}
        except ValueError:
            body = {}
        code = int(body.get("code", 0 if 200 <= status < 300 else -1))
        if status == 429 or code == RATE_LIMITED:
            raise _Retry(FeishuApiError(code or RATE_LIMITED, body.get("msg", "rate limited"), status),
                         reset=_reset_seconds(raw.headers))
        if code == CHAT_RATE_LIMITED:
            raise _Retry(FeishuApiError(code, body.get("msg", "too many messages to this chat"), status))
        if code in TOKEN_INVALID:
            raise _Retry(FeishuApiError(code, body.get("msg", "invalid tenant token"), status), token_invalid=True)
        if code != 0 or not 200 <= status < 300:
            raise FeishuApiError(code if code != -1 else 0, str(body.get("msg", f"HTTP {status}")), status)
        return dict(body)


_USER_AGENT = build_user_agent()  # what lark-oapi's transport sends


def _session(domain: str) -> requests.Session:
    """A session for `domain`: connections kept (enough for the outbox's lanes), and the environment read
    once, here (HTTPS_PROXY / NO_PROXY, REQUESTS_CA_BUNDLE), where requests would read it on every call."""
    http = requests.Session()
    http.trust_env = False
    http.proxies.update(requests.utils.get_environ_proxies(domain))
    http.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=32)
    http.mount("https://", adapter)
    http.mount("http://", adapter)
    return http


class _Retry(Exception):
    def __init__(self, error: FeishuApiError, reset: float | None = None, token_invalid: bool = False) -> None:
        self.error, self.reset, self.token_invalid = error, reset, token_invalid
        super().__init__(str(error))


_backoff = wait_exponential(multiplier=0.25, max=8.0)  # 0.25 s, 0.5 s, 1 s … at most 8 s


def _retry_of(state: RetryCallState) -> _Retry:
    exc = state.outcome.exception() if state.outcome is not None else None
    assert isinstance(exc, _Retry)
    return exc


def _wait(state: RetryCallState) -> float:
    """As long as Feishu said (`x-ogw-ratelimit-reset`), else backing off exponentially."""
    reset = _retry_of(state).reset
    return reset if reset is not None else _backoff(state)


def _reset_seconds(headers: Mapping[str, str]) -> float | None:
    """`x-ogw-ratelimit-reset` is the number of seconds until the limit resets."""
    for k, v in headers.items():
        if k.lower() == "x-ogw-ratelimit-reset":
            try:
                return max(0.0, float(v))
            except ValueError:
                return None
    return None


def _request(method: HttpMethod, uri: str, body: dict[str, Any] | None, *, paths: dict[str, str] | None = None,
             query: dict[str, str] | None = None, auth: bool = True) -> BaseRequest:
    builder = (BaseRequest.builder().http_method(method).uri(uri).paths(dict(paths or {}))
               .queries(list((query or {}).items())).headers({"Content-Type": "application/json; charset=utf-8"}))
    if auth:
        builder = builder.token_types({AccessTokenType.TENANT})
    if body is not None:
        builder = builder.body(body)
    return builder.build()
