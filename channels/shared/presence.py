"""Staff presence: a console with an open live connection says so every few seconds and counts as on duty."""

from __future__ import annotations

import logging
import time
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

ONLINE_WITHIN_S = 90.0


class Presence(Protocol):
    async def seen(self, staff_id: int) -> None: ...

    async def online(self, within_s: float = ONLINE_WITHIN_S) -> int: ...


class LocalPresence:
    def __init__(self) -> None:
        self._seen: dict[int, float] = {}

    async def seen(self, staff_id: int) -> None:
        self._seen[staff_id] = time.time()

    async def online(self, within_s: float = ONLINE_WITHIN_S) -> int:
        now = time.time()
        return sum(1 for at in self._seen.values() if now - at <= within_s)


class RedisPresence:
    """One sorted set, staff id → last seen (Unix time); old entries are trimmed as it is read."""

    def __init__(self, redis: Redis, key: str = "tongxin:presence") -> None:
        self._redis, self._key = redis, key

    async def seen(self, staff_id: int) -> None:
        try:
            await self._redis.zadd(self._key, {str(staff_id): time.time()})
        except RedisError:  # the console keeps working; it counts again when Redis is back
            logger.exception("staff presence not recorded: Redis unavailable")

    async def online(self, within_s: float = ONLINE_WITHIN_S) -> int:
        """Staff seen recently; 0 when Redis cannot say (users are then given the hotlines and a call-back,
        never told someone is coming who may not be)."""
        since = time.time() - within_s
        try:
            await self._redis.zremrangebyscore(self._key, "-inf", f"({since - 3600}")
            return int(await self._redis.zcount(self._key, since, "+inf"))
        except RedisError:
            logger.exception("staff presence unknown: Redis unavailable")
            return 0
