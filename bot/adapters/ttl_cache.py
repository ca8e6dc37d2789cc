"""A small thread-safe cache whose entries are trusted for a while, then asked for again — and kept
meanwhile, so a failed lookup can still answer with what was known (both gateways' profile names)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """`fresh(key)` is a value younger than `ttl` seconds, `stale(key)` the last one however old."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._values: dict[K, tuple[V, float]] = {}
        self._lock = threading.Lock()

    def fresh(self, key: K) -> tuple[bool, V | None]:
        """(True, value) when `key` was put less than `ttl` ago, else (False, None)."""
        with self._lock:
            found = self._values.get(key)
        if found is not None and self.clock() - found[1] < self.ttl:
            return True, found[0]
        return False, None

    def stale(self, key: K) -> V | None:
        """The last value put for `key`, however old (None if never)."""
        with self._lock:
            found = self._values.get(key)
        return found[0] if found is not None else None

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._values[key] = (value, self.clock())
