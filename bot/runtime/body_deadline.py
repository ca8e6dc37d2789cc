"""A request body not complete `BODY_SECONDS` after the request began is cut, on every route of the HTTP app.

uvicorn has no such bound: a lying Content-Length or a stalled upload would hold the request (and, for a
route that reads its body in a thread, the thread) for as long as the client keeps the socket open.
"""

from __future__ import annotations

import logging

import anyio
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BODY_SECONDS = 10.0  # a lying Content-Length or a stalled upload holds a request no longer than this

log = logging.getLogger("zhoubao.runtime")


class BodyDeadline:
    """ASGI middleware: a request body not complete within `seconds` of the request's start is cut.

    The route (or `BodyLimit` draining an oversized body) then reads a disconnect, whatever it answers
    is dropped, and the client gets 408 with `Connection: close`, so uvicorn closes the socket instead
    of waiting for bytes that never come. A response already started goes on untouched."""

    def __init__(self, app: ASGIApp, seconds: float | None = None) -> None:
        self.app = app
        self.seconds = BODY_SECONDS if seconds is None else seconds  # read when built, so a test can shorten it

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = anyio.current_time() + self.seconds
        body_done = cut = started = False

        async def timed_receive() -> Message:
            nonlocal body_done, cut
            if body_done or cut:
                return await receive() if body_done else {"type": "http.disconnect"}
            with anyio.move_on_after(deadline - anyio.current_time()):
                message = await receive()
                body_done = message["type"] != "http.request" or not message.get("more_body", False)
                return message
            cut = True
            return {"type": "http.disconnect"}

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if cut and not started:
                return  # the route's answer to a cut body (often a 500 for the disconnect) is replaced below
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, timed_receive, guarded_send)
        except Exception:
            if not cut or started:
                raise
        if cut and not started:
            log.warning("%s %s: body not complete after %.0f s; answered 408 and closed the connection",
                        scope.get("method"), scope.get("path"), self.seconds)
            await JSONResponse({"msg": "request body not received in time"}, status_code=408,
                               headers={"connection": "close"})({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
