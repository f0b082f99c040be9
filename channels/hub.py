"""In-process publish/subscribe for live updates: widget sockets, console SSE, staff presence."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

Event = dict[str, Any]


class Hub:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Event]]] = defaultdict(set)
        self._presence: dict[int, float] = {}

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

    def publish(self, topic: str, event: Event) -> int:
        delivered = 0
        for queue in list(self._subscribers.get(topic, ())):
            try:
                queue.put_nowait(event)
                delivered += 1
            except asyncio.QueueFull:  # a stuck client loses live updates, not data (it is in the store)
                continue
        return delivered

    def listeners(self, topic: str) -> int:
        return len(self._subscribers.get(topic, ()))

    # Staff presence: a console with an open live connection counts as on duty.
    def staff_seen(self, staff_id: int) -> None:
        self._presence[staff_id] = time.monotonic()

    def staff_online(self, within_s: float = 90.0) -> int:
        now = time.monotonic()
        return sum(1 for seen in self._presence.values() if now - seen <= within_s)
