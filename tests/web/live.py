"""A real uvicorn server on a loopback port, in a thread, for the browser and the sign-in stand-ins."""

from __future__ import annotations

import socket
import threading

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send


class LiveServer:
    """Serves `app` on 127.0.0.1; the socket listens before the thread starts, so requests never race it.

    `url` is known once built, so an app that needs its own address (the dashboard's public URL) may be given
    later: `live.app = build(live.url)` before the first request (or again, to serve a rebuilt one)."""

    def __init__(self, app: ASGIApp | None = None) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = app
        self.server = uvicorn.Server(uvicorn.Config(self._serve, log_level="warning", lifespan="off", interface="asgi3"))
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "LiveServer: set .app before the first request"
        await self.app(scope, receive, send)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self._thread.join()
        self._sock.close()
