"""Token buckets: a burst is fine, a flood gets a kind "please wait". Keyed by sender (chat) or by client and
user name (console login)."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class RateLimiter(Protocol):
    async def allow(self, key: str) -> bool: ...


class LocalRateLimiter:
    def __init__(self, burst: int = 8, per_second: float = 0.5, max_keys: int = 100_000) -> None:
        self.burst, self.rate, self.max_keys = burst, per_second, max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    async def allow(self, key: str) -> bool:
        return self.take(key)

    def take(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return allowed


# The same bucket, computed inside Redis so that every gateway process draws from it; Redis's clock decides.
_TAKE = """
local burst, rate = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
if tokens >= 1 then tokens = tokens - 1; allowed = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return allowed
"""


class RedisRateLimiter:
    def __init__(self, redis: Redis, name: str, burst: int, per_second: float) -> None:
        self._redis, self._prefix = redis, f"tongxin:limit:{name}:"
        self.burst, self.rate = burst, per_second
        self._script = redis.register_script(_TAKE)

    async def allow(self, key: str) -> bool:
        try:
            return bool(await self._script(keys=[self._prefix + key], args=[self.burst, self.rate]))
        except RedisError:  # Redis down: a message is never refused for it (the crisis screen ran already)
            logger.exception("rate limit %s not checked: Redis unavailable", self._prefix)
            return True
