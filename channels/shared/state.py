"""The shared state of one gateway process: in-process (no ``TONGXIN_REDIS_URL``) or on Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from redis.asyncio import Redis

from channels.shared.bus import EventBus, LocalBus, RedisBus
from channels.shared.cache import LiveCache, LocalCache, RedisCache
from channels.shared.presence import LocalPresence, Presence, RedisPresence
from channels.shared.ratelimit import LocalRateLimiter, RateLimiter, RedisRateLimiter


@dataclass
class SharedState:
    backend: str  # "in-process" | "redis"
    bus: EventBus
    presence: Presence
    cache: LiveCache
    limiter: Callable[[str, int, float], RateLimiter]  # (name, burst, per second) → a limiter shared by name
    redis: Redis | None = None

    async def check(self) -> str:
        """"ok", or why the backend cannot be used (for ``/healthz``)."""
        if self.redis is None:
            return "ok"
        try:
            await self.redis.ping()
        except Exception as exc:
            return f"down: {exc!r}"
        return "ok"


def local_state() -> SharedState:
    return SharedState(
        "in-process",
        LocalBus(),
        LocalPresence(),
        LocalCache(),
        lambda _name, burst, rate: LocalRateLimiter(burst, rate),
    )


@asynccontextmanager
async def open_shared(redis_url: str | None) -> AsyncIterator[SharedState]:
    """The state for the lifespan of the app; on Redis, the connection is checked first (fail fast)."""
    if not redis_url:
        yield local_state()
        return
    redis = Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30)
    try:
        await redis.ping()
        bus = RedisBus(redis)
        await bus.start()
        try:
            yield SharedState(
                "redis",
                bus,
                RedisPresence(redis),
                RedisCache(redis),
                lambda name, burst, rate: RedisRateLimiter(redis, name, burst, rate),
                redis,
            )
        finally:
            await bus.stop()
    finally:
        await redis.aclose()
