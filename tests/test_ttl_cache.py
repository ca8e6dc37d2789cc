"""The one TTL cache both gateways keep profile names in: fresh for `ttl`, then asked again, and the
last value still at hand when asking fails."""

from __future__ import annotations

from bot.adapters.ttl_cache import TtlCache


def test_a_value_is_fresh_for_its_ttl_then_only_stale() -> None:
    now = [0.0]
    cache: TtlCache[str, str | None] = TtlCache(86_400.0, clock=lambda: now[0])
    assert cache.fresh("U1") == (False, None) and cache.stale("U1") is None
    cache.put("U1", "李娜")
    cache.put("U2", None)  # "nobody knows": cached as well, so it is not asked again at once
    now[0] = 86_399.0
    assert cache.fresh("U1") == (True, "李娜") and cache.fresh("U2") == (True, None)
    now[0] = 86_400.0
    assert cache.fresh("U1") == (False, None)  # ask again …
    assert cache.stale("U1") == "李娜"  # … and if that fails, this is what was known
    cache.put("U1", "Li Na")
    assert cache.fresh("U1") == (True, "Li Na")
