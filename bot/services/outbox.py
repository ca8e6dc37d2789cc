"""Replies go out from their own queue, one line per channel, so storing inbound never waits on sending.

The inbound worker stores a burst at database speed and hands each reply to `Outbox.send(channel, …)`.
Each channel's replies leave in order, from a thread of their own (started when the channel has
something to send, gone when it is empty), so a platform's 1 message/s/channel pacing or a
`Retry-After: 20` holds that channel's replies only — neither storing nor the other channels.
A reply lost to a crash is only a reply: what it confirms is already stored.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

from bot.services.chat import ChatError

log = logging.getLogger("zhoubao.outbox")

Send = Callable[[], object]


class Outbox:
    def __init__(self, max_channels: int = 16) -> None:
        """`max_channels`: how many channels send at once (threads); the others wait their turn."""
        self.max_channels = max_channels
        self._queues: dict[str, deque[tuple[Send, str]]] = {}
        self._active: set[str] = set()
        self._waiting: deque[str] = deque()  # channels with work but no thread yet, in arrival order
        self._lock = threading.Condition()
        self._stopped = False

    def send(self, channel: str, fn: Send, what: str = "reply") -> None:
        """Queue one send for `channel`; returns at once."""
        with self._lock:
            if self._stopped:
                log.warning("outbox stopped; reply dropped", extra={"channel": channel, "what": what})
                return
            self._queues.setdefault(channel, deque()).append((fn, what))
            if channel not in self._active and channel not in self._waiting:
                self._waiting.append(channel)
            self._start_waiting()

    def _start_waiting(self) -> None:
        while self._waiting and len(self._active) < self.max_channels:
            channel = self._waiting.popleft()
            self._active.add(channel)
            threading.Thread(target=self._drain, args=(channel,), name=f"zhoubao-out-{channel[:20]}",
                             daemon=True).start()

    def _drain(self, channel: str) -> None:
        while True:
            with self._lock:
                queue = self._queues.get(channel)
                if not queue:
                    self._queues.pop(channel, None)
                    self._active.discard(channel)
                    self._start_waiting()
                    self._lock.notify_all()
                    return
                fn, what = queue.popleft()
            try:
                fn()
            except ChatError:
                pass  # the gateway logged it (and told the editors if it matters)
            except Exception:
                log.exception("outbound %s failed", what, extra={"channel": channel})

    def pending(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._queues.values()) + len(self._active)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until every queued send has been made (tests, benches, shutdown); False on timeout."""
        with self._lock:
            return self._lock.wait_for(lambda: not self._queues and not self._active, timeout)

    def stop(self, timeout: float = 10.0) -> bool:
        """Send what is queued (up to `timeout`), then refuse more."""
        done = self.wait_idle(timeout)
        with self._lock:
            self._stopped = True
        return done
