"""Per-sender token bucket: a burst is fine, a flood gets a kind "please wait"."""

from __future__ import annotations

import time
from collections import OrderedDict


class RateLimiter:
    def __init__(self, burst: int = 8, per_second: float = 0.5, max_keys: int = 100_000) -> None:
        self.burst, self.rate, self.max_keys = burst, per_second, max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return allowed
