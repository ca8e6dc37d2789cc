"""A real uvicorn server on a loopback port, in a thread, for the browser and the sign-in stand-ins."""

from __future__ import annotations

import socket
import threading

import uvicorn
from starlette.types import ASGIApp


class LiveServer:
    """Serves `app` on 127.0.0.1; the socket listens before the thread starts, so requests never race it."""

    def __init__(self, app: ASGIApp) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self._thread.join()
        self._sock.close()
