"""The shared state's behaviour, the same in-process and on Redis; and on Redis, across "processes" (two
independent connections, as two gateway processes have)."""

from __future__ import annotations

import asyncio

import pytest
import redis
from redis.asyncio import Redis

from channels.shared.presence import RedisPresence
from channels.shared.ratelimit import RedisRateLimiter
from channels.shared.state import SharedState, open_shared
from tests.channels.shared.conftest import unique


async def test_a_subscriber_gets_what_is_published_on_its_topic_only(shared: SharedState) -> None:
    async with shared.bus.subscribe("console") as queue, shared.bus.subscribe("other") as other:
        shared.bus.publish("console", {"type": "message", "conversation_id": 7})
        assert await asyncio.wait_for(queue.get(), 5) == {"type": "message", "conversation_id": 7}
        await asyncio.sleep(0.1)
        assert other.empty()


async def test_presence_counts_staff_seen_recently(shared: SharedState) -> None:
    assert await shared.presence.online() == 0
    await shared.presence.seen(1)
    await shared.presence.seen(2)
    await shared.presence.seen(1)
    assert await shared.presence.online() == 2
    await asyncio.sleep(0.05)
    assert await shared.presence.online(within_s=0.01) == 0


async def test_a_burst_passes_and_a_flood_is_limited(shared: SharedState) -> None:
    limiter = shared.limiter(unique("chat"), 3, 0.5)
    assert [await limiter.allow("web:u1") for _ in range(5)] == [True, True, True, False, False]
    assert await limiter.allow("web:u2")  # another sender has a bucket of its own


async def test_the_cache_expires_and_a_lease_has_one_holder(shared: SharedState) -> None:
    key = unique("token")
    await shared.cache.set(key, "abc", 0.2)
    assert await shared.cache.get(key) == "abc"
    await asyncio.sleep(0.3)
    assert await shared.cache.get(key) is None
    lease = unique("lease")
    assert await shared.cache.add(lease, "1", 5) is True
    assert await shared.cache.add(lease, "1", 5) is False
    await shared.cache.delete(lease)
    assert await shared.cache.add(lease, "1", 5) is True


@pytest.mark.redis
async def test_two_processes_share_events_presence_limits_and_leases(redis_url: str) -> None:
    async with open_shared(redis_url) as one, open_shared(redis_url) as two:
        async with two.bus.subscribe("console") as queue:
            one.bus.publish("console", {"type": "alert", "urgent": True})
            assert await asyncio.wait_for(queue.get(), 5) == {"type": "alert", "urgent": True}
        await one.presence.seen(42)
        assert await two.presence.online() == 1
        name = unique("login")
        first, second = one.limiter(name, 2, 0.01), two.limiter(name, 2, 0.01)
        assert [await first.allow("k"), await second.allow("k"), await first.allow("k")] == [True, True, False]
        lease = unique("retention")
        assert await one.cache.add(lease, "1", 5) and not await two.cache.add(lease, "1", 5)
        assert await one.check() == "ok"


@pytest.mark.redis
async def test_redis_down_is_said_at_start_not_later() -> None:
    with pytest.raises(redis.ConnectionError):
        async with open_shared("redis://127.0.0.1:1/0"):
            pass


async def test_redis_lost_while_running_never_refuses_a_message_nor_promises_staff() -> None:
    gone = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)  # as if Redis went away
    try:
        assert await RedisRateLimiter(gone, "chat", 1, 0.01).allow("web:u1") is True
        await RedisPresence(gone).seen(1)  # logged, not raised: the console stays open
        assert await RedisPresence(gone).online() == 0
    finally:
        await gone.aclose()
