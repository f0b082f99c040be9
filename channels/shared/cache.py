"""Short-lived values every process reads: the WeChat access token, and leases (one holder at a time, such as
the one process that refreshes the token or runs the hourly retention purge)."""

from __future__ import annotations

import time
from typing import Protocol

from redis.asyncio import Redis


class LiveCache(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, ttl_s: float) -> None: ...

    async def add(self, key: str, value: str, ttl_s: float) -> bool:
        """Set only when absent (a lease); True when this caller got it."""
        ...

    async def delete(self, key: str) -> None: ...


class LocalCache:
    def __init__(self) -> None:
        self._items: dict[str, tuple[str, float]] = {}

    async def get(self, key: str) -> str | None:
        item = self._items.get(key)
        if item is None or item[1] <= time.monotonic():
            self._items.pop(key, None)
            return None
        return item[0]

    async def set(self, key: str, value: str, ttl_s: float) -> None:
        self._items[key] = (value, time.monotonic() + ttl_s)

    async def add(self, key: str, value: str, ttl_s: float) -> bool:
        if await self.get(key) is not None:
            return False
        await self.set(key, value, ttl_s)
        return True

    async def delete(self, key: str) -> None:
        self._items.pop(key, None)


class RedisCache:
    def __init__(self, redis: Redis, prefix: str = "tongxin:cache:") -> None:
        self._redis, self._prefix = redis, prefix

    async def get(self, key: str) -> str | None:
        value = await self._redis.get(self._prefix + key)
        return value.decode() if isinstance(value, bytes) else value

    async def set(self, key: str, value: str, ttl_s: float) -> None:
        await self._redis.set(self._prefix + key, value, px=max(1, int(ttl_s * 1000)))

    async def add(self, key: str, value: str, ttl_s: float) -> bool:
        return bool(await self._redis.set(self._prefix + key, value, px=max(1, int(ttl_s * 1000)), nx=True))

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)
