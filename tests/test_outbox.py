"""Replies leave per channel in order, and a slow channel holds only itself."""

from __future__ import annotations

import threading

from bot.services.chat import ChatError
from bot.services.outbox import Outbox
from tests.conftest import PATIENCE


def test_each_channel_in_order_and_a_blocked_channel_holds_only_itself() -> None:
    out = Outbox()
    gate = threading.Event()
    sent: list[tuple[str, int]] = []
    lock = threading.Condition()

    def send(channel: str, n: int) -> None:
        if channel == "slow" and n == 0:
            assert gate.wait(PATIENCE)  # as if Slack answered Retry-After: 20
        with lock:
            sent.append((channel, n))
            lock.notify_all()

    for n in range(3):
        out.send("slow", lambda n=n: send("slow", n))
    for n in range(50):
        out.send("fast", lambda n=n: send("fast", n))
    # the fast channel finishes while the slow one is still held
    with lock:
        assert lock.wait_for(lambda: sum(1 for c, _ in sent if c == "fast") == 50, PATIENCE)
    assert [n for c, n in sent if c == "slow"] == []
    gate.set()
    assert out.wait_idle(PATIENCE)
    assert [n for c, n in sent if c == "fast"] == list(range(50))
    assert [n for c, n in sent if c == "slow"] == [0, 1, 2]


def test_a_failed_send_does_not_stop_the_channel() -> None:
    out = Outbox(max_channels=1)
    sent: list[int] = []

    def fail() -> None:
        raise ChatError("ratelimited")

    def boom() -> None:
        raise RuntimeError("bug")

    out.send("c", fail)
    out.send("c", boom)
    out.send("c", lambda: sent.append(1))
    out.send("d", lambda: sent.append(2))  # waits for a free thread, then goes
    assert out.wait_idle(PATIENCE) and sent == [1, 2]
