"""Channel keys in the gateway store (SQLite and PostgreSQL): what one gateway process keeps, another finds."""

from __future__ import annotations

import datetime as dt

from channels.store.keys import MemoryKeys, StoreKeys
from channels.store.store import Store


async def test_a_claim_is_won_once_and_a_value_found_by_another_process(database_url: str) -> None:
    one, two = Store(database_url), Store(database_url)  # two processes' connections to one database
    one.migrate()
    try:
        a, b = StoreKeys(one), StoreKeys(two)
        assert await a.add("wechat-taken", "gh:msg:1", "") is True
        assert await b.add("wechat-taken", "gh:msg:1", "") is False
        await a.put("wechat-taken", "gh:msg:1", '["答复"]')
        assert await b.get("wechat-taken", "gh:msg:1") == '["答复"]'
        await b.delete("wechat-taken", "gh:msg:1")
        assert await a.get("wechat-taken", "gh:msg:1") is None
    finally:
        one.close()
        two.close()


def test_old_keys_are_purged(store: Store) -> None:
    store.put_key("menu", "telegram:1", "[]")
    assert store.purge_keys_before(dt.datetime.now(dt.UTC) - dt.timedelta(days=2)) == 0
    assert store.purge_keys_before(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)) == 1
    assert store.get_key("menu", "telegram:1") is None


async def test_memory_keys_behave_the_same() -> None:
    keys = MemoryKeys(max_entries=2)
    assert await keys.add("n", "a", "1") and not await keys.add("n", "a", "2")
    await keys.put("n", "b", "2")
    await keys.put("n", "c", "3")  # bounded: the oldest goes
    assert await keys.get("n", "a") is None and await keys.get("n", "c") == "3"


def test_deleting_a_conversation_deletes_the_menu_that_names_its_user(store: Store) -> None:
    conversation = store.conversation("telegram", "55001")
    store.put_key("menu", "telegram:55001", '[{"title": "是", "payload": "/affirm"}]')
    store.put_key("menu", "telegram:55002", "[]")
    store.delete_conversation(conversation.id)
    assert store.get_key("menu", "telegram:55001") is None and store.get_key("menu", "telegram:55002") == "[]"
