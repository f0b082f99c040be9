"""Channel keys: small values a channel adapter must find again on whichever gateway process gets the next
request (a Telegram button's long payload, the numbered menu a user last saw, a WeChat message claimed).

:class:`StoreKeys` keeps them in the gateway store (SQLite by default, PostgreSQL when scaled out);
:class:`MemoryKeys` in a bounded dict, for an adapter used on its own.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Protocol

from channels.store.store import Store


class ChannelKeys(Protocol):
    async def add(self, namespace: str, key: str, value: str) -> bool:
        """Keep the value unless the key exists; True when this call kept it (a claim)."""
        ...

    async def put(self, namespace: str, key: str, value: str) -> None: ...

    async def get(self, namespace: str, key: str) -> str | None: ...

    async def delete(self, namespace: str, key: str) -> None: ...


class StoreKeys:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def add(self, namespace: str, key: str, value: str) -> bool:
        return await asyncio.to_thread(self._store.add_key, namespace, key, value)

    async def put(self, namespace: str, key: str, value: str) -> None:
        await asyncio.to_thread(self._store.put_key, namespace, key, value)

    async def get(self, namespace: str, key: str) -> str | None:
        return await asyncio.to_thread(self._store.get_key, namespace, key)

    async def delete(self, namespace: str, key: str) -> None:
        await asyncio.to_thread(self._store.delete_key, namespace, key)


class MemoryKeys:
    def __init__(self, max_entries: int = 10_000) -> None:
        self._items: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._max = max_entries

    async def add(self, namespace: str, key: str, value: str) -> bool:
        if (namespace, key) in self._items:
            return False
        await self.put(namespace, key, value)
        return True

    async def put(self, namespace: str, key: str, value: str) -> None:
        self._items[(namespace, key)] = value
        self._items.move_to_end((namespace, key))
        while len(self._items) > self._max:
            self._items.popitem(last=False)

    async def get(self, namespace: str, key: str) -> str | None:
        return self._items.get((namespace, key))

    async def delete(self, namespace: str, key: str) -> None:
        self._items.pop((namespace, key), None)
