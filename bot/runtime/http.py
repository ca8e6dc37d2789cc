"""The one HTTP app, on Starlette: platform callbacks, health, readiness and metrics, in every mode.

    POST /slack/events    Slack Events API, slash commands, interactivity (HTTP mode only)
    POST /feishu/events   Feishu event and card callbacks (FEISHU_EVENT_MODE=http only)
    GET  /healthz         liveness        GET /readyz   readiness        GET /metrics   Prometheus text

Both platform callbacks are served by one endpoint (`platform_endpoint`): it reads the body (cut by
`BodyDeadline` when it does not arrive in time), hands the raw bytes and the headers to the adapter's `Callback` (its intake: signature,
journal, answer) in Starlette's thread pool, and answers what the callback said. Bodies over `MAX_BODY`
are answered 413 by `BodyLimit` before any route (so before any signature check) sees them; a body not
complete `BODY_SECONDS` after the request began is answered 408 and the connection closed by
`BodyDeadline`, on every route. The dashboard mounts on the same app through `extra` (routes or mounts, matched last).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.runtime.body_deadline import BodyDeadline
from bot.runtime.health import Health, Probe
from bot.runtime.metrics import CONTENT_TYPE, PrometheusMetrics

MAX_BODY = 1 << 20  # 1 MiB: Slack's and Feishu's payloads are far smaller; anything bigger is refused
_DRAIN_FACTOR = 16  # a refused body up to 16 MiB is read and dropped so the sender sees the 413
# A platform adapter's answer to one callback: (raw body, headers with lower-case names) -> (status, JSON
# body or None for an empty one). It runs in the thread pool: it may wait for a journal commit.
Callback = Callable[[bytes, Mapping[str, str]], tuple[int, Mapping[str, Any] | None]]


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: 413 for a body over `limit`, by its Content-Length or, streamed, by the bytes seen.

    The route reads the body before doing anything with it, so an oversized one never reaches a
    signature check or a handler."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _discard(receive, self.limit * _DRAIN_FACTOR)
            await _too_large(send)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except _TooLarge:
            if started:
                raise
            await _discard(receive, self.limit * _DRAIN_FACTOR)
            await _too_large(send)


async def _discard(receive: Receive, most: int) -> None:
    """Read and drop the rest of the body (up to `most` bytes), so the client, still sending, reads the
    413 instead of a connection reset; past `most` the server just closes the connection."""
    dropped = 0
    while dropped <= most:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return
        dropped += len(message.get("body", b""))


async def _too_large(send: Send) -> None:
    await JSONResponse({"msg": "request body too large"}, status_code=413)({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


class Timing:
    """ASGI middleware: request latency by path into the metrics (unknown paths share one label)."""

    def __init__(self, app: ASGIApp, metrics: PrometheusMetrics, paths: frozenset[str]) -> None:
        self.app = app
        self.metrics = metrics
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            path = scope["path"] if scope["path"] in self.paths else "other"
            self.metrics.request_took(path, time.perf_counter() - start)


def _probe(check: Callable[[], Probe]) -> Callable[[Request], Response]:
    def endpoint(request: Request) -> Response:  # sync: Starlette runs it in a thread (it queries the database)
        status, body = check()
        return JSONResponse(body, status_code=status)

    return endpoint


def _no_ack() -> AbstractContextManager[None]:
    return contextlib.nullcontext()


def platform_endpoint(callback: Callback, in_flight: Callable[[], AbstractContextManager[None]] = _no_ack
                      ) -> Callable[[Request], Any]:
    """POST endpoint for one platform's callbacks, held inside `in_flight()` from reading the body to the
    answer (the journal's worker waits while platform requests are being answered)."""

    async def endpoint(request: Request) -> Response:
        with in_flight():
            try:
                body = await request.body()  # BodyDeadline turns a stalled body into a disconnect
            except ClientDisconnect:
                return JSONResponse({"error": "incomplete body"}, status_code=408)
            headers = {k.lower(): v for k, v in request.headers.items()}
            status, answer = await run_in_threadpool(callback, body, headers)
            return JSONResponse(answer, status_code=status) if answer is not None else Response(status_code=status)

    return endpoint


def build_http_app(health: Health, metrics: PrometheusMetrics, *, events: Mapping[str, Callback] | None = None,
                   in_flight: Callable[[], AbstractContextManager[None]] | None = None,
                   extra: Sequence[BaseRoute] = ()) -> Starlette:
    """The app: `events` maps a callback path to its platform adapter's `Callback`, each served by
    `platform_endpoint`; `extra` is matched after ours (the dashboard mounts there)."""

    def scrape(request: Request) -> Response:  # sync: reading the spool is file I/O
        return Response(metrics.exposition(health.spooled(), health.unprocessed()), media_type=CONTENT_TYPE)

    routes: list[BaseRoute] = [Route(path, platform_endpoint(callback, in_flight or _no_ack), methods=["POST"])
                               for path, callback in (events or {}).items()]
    routes += [Route("/healthz", _probe(health.live), methods=["GET"]),
               Route("/readyz", _probe(health.ready), methods=["GET"]),
               Route("/metrics", scrape, methods=["GET"])]
    known = frozenset(path for path in [*(events or {}), "/healthz", "/readyz", "/metrics"])
    # BodyDeadline outside BodyLimit: draining an oversized body that never ends is cut too.
    middleware = [Middleware(Timing, metrics=metrics, paths=known), Middleware(BodyDeadline),
                  Middleware(BodyLimit, limit=MAX_BODY)]
    return Starlette(routes=[*routes, *extra], middleware=middleware)

