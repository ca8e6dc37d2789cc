"""Slack's Web API rate limits, kept on our side so a big team is prompted at the allowed pace, and a
retry handler that honours `Retry-After` exactly (including the fractional values a test stand-in sends)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping
from typing import Any

from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

# Calls per minute (https://api.slack.com/apis/rate-limits); chat.postMessage is ~1 per second per
# channel, which `Pacer` keys by channel.
TIER_PER_MINUTE: dict[str, float] = {
    "conversations.open": 50,  # Tier 3
    "users.lookupByEmail": 50,  # Tier 3
    "users.info": 100,  # Tier 4
    "views.open": 100,  # Tier 4
    "chat.update": 50,  # Tier 3
    "chat.postMessage": 60,  # per channel
}
PER_CHANNEL = frozenset({"chat.postMessage"})


class Pacer:
    """Blocks each call until the method's (or the channel's) rate allows it; `scale` speeds limits up
    for tests and benches (scale=100: a 50/min tier allows 5,000/min)."""

    def __init__(self, per_minute: Mapping[str, float] | None = None, scale: float = 1.0) -> None:
        # 5% under the limit, so network jitter does not turn an allowed pace into 429s.
        self.interval = {m: 63.0 / (n * scale) for m, n in (per_minute or TIER_PER_MINUTE).items()}
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, method: str, channel: str | None = None) -> None:
        gap = self.interval.get(method)
        if gap is None:
            return
        key = f"{method}:{channel}" if method in PER_CHANNEL else method
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get(key, 0.0))
            self._next[key] = slot + gap
        if slot > now:
            time.sleep(slot - now)


class RetryAfterHandler(RateLimitErrorRetryHandler):
    """Like slack_sdk's handler, but sleeps exactly `Retry-After` seconds (plus a little jitter)."""

    def prepare_for_next_attempt(self, *, state: Any, request: Any, response: Any = None,
                                 error: Exception | None = None) -> None:
        if response is None:
            raise error  # type: ignore[misc]
        state.next_attempt_requested = True
        header = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), None)
        value = header[0] if isinstance(header, list) else header
        try:
            duration = float(value) if value is not None else 1.0
        except ValueError:
            duration = 1.0
        time.sleep(duration + random.random() * min(0.1, duration / 10))
        state.increment_current_attempt()
