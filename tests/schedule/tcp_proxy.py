"""A loopback TCP proxy that can cut every connection: a database outage without stopping the shared server."""

from __future__ import annotations

import socket
import threading


class CuttableProxy:
    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()  # the "server" is gone: the connection drops at once
                continue
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                _drop(s)

    def cut(self) -> None:
        """Drop every open connection and refuse new ones until restore()."""
        self.up = False
        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            _drop(s)

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


def _drop(s: socket.socket) -> None:
    """Shut the socket down, then close it. The shutdown is what sends the FIN and wakes the pump blocked
    in recv() on it: on Linux a bare close() while another thread is in recv() keeps the connection open
    until that recv returns, which it never does when the database side is idle. The database's backend
    then lives on, holding its session's advisory lock (the journal's leader lock), and the bot, back
    through the restored proxy, can never take it again: the flaky "15 answers stored" wait in CI."""
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already shut, or never connected
    try:
        s.close()
    except OSError:
        pass
