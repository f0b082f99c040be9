"""Publish/subscribe for live updates: widget sockets, console SSE and urgent alerts.

``publish`` never waits and never fails the caller: a live update is a nudge to re-read the store, where the
data is. The Redis bus relays every event through one channel per topic, so a console connected to one
gateway process hears what happened on another.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from redis.asyncio import Redis

logger = logging.getLogger(__name__)
Event = dict[str, Any]


class EventBus(Protocol):
    def publish(self, topic: str, event: Event) -> None: ...

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[asyncio.Queue[Event]]: ...


class LocalBus:
    """In-process fan-out: each subscriber has a bounded queue."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Event]]] = defaultdict(set)

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=1000)
        self._subscribers[topic].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[topic].discard(queue)
            if not self._subscribers[topic]:
                del self._subscribers[topic]

    def publish(self, topic: str, event: Event) -> None:
        for queue in list(self._subscribers.get(topic, ())):
            with contextlib.suppress(asyncio.QueueFull):  # a stuck client loses live updates, not data
                queue.put_nowait(event)

    def listeners(self, topic: str) -> int:
        return len(self._subscribers.get(topic, ()))


class RedisBus:
    """Events go out through Redis and come back to every process (this one included) by one pattern
    subscription, then fan out locally. Outgoing events keep their order through one sender task."""

    def __init__(self, redis: Redis, prefix: str = "tongxin:bus:") -> None:
        self._redis, self._prefix = redis, prefix
        self._local = LocalBus()
        self._outbox: asyncio.Queue[tuple[str, str]] = asyncio.Queue(maxsize=10_000)
        self._tasks: list[asyncio.Task[None]] = []
        self._subscribed = asyncio.Event()

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._send())]
        await asyncio.wait_for(self._subscribed.wait(), timeout=10)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[asyncio.Queue[Event]]:
        return self._local.subscribe(topic)

    def publish(self, topic: str, event: Event) -> None:
        try:
            self._outbox.put_nowait((self._prefix + topic, json.dumps(event, ensure_ascii=False)))
        except asyncio.QueueFull:
            logger.error("live update dropped (Redis is not keeping up): %s", topic)

    async def _send(self) -> None:
        while True:
            channel, data = await self._outbox.get()
            try:
                await self._redis.publish(channel, data)
            except Exception:  # Redis down: the consoles fall back to their periodic refresh
                logger.exception("could not publish a live update to Redis")

    async def _listen(self) -> None:
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(self._prefix + "*")
                self._subscribed.set()
                async for message in pubsub.listen():
                    if message.get("type") != "pmessage":
                        continue
                    channel = message["channel"]
                    channel = channel.decode() if isinstance(channel, bytes) else str(channel)
                    try:
                        event = json.loads(message["data"])
                    except (TypeError, ValueError):
                        continue
                    self._local.publish(channel.removeprefix(self._prefix), event)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("the Redis subscription for live updates broke; reconnecting")
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
