"""The scale-out profile: two Rasa servers share one PostgreSQL tracker store and a Redis lock store, and the
gateway store is on PostgreSQL: a conversation started on one Rasa server continues on the other."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import httpx
import pytest
import redis
from sqlalchemy import create_engine, text

from channels.store.store import Store
from tools.stack import Stack, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]
ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="module")
def databases() -> Iterator[tuple[str, str]]:
    names = (f"tongxin_tracker_{secrets.token_hex(3)}", f"tongxin_gateway_{secrets.token_hex(3)}")
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield names
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory, databases: tuple[str, str]) -> Iterator[tuple[Stack, int]]:
    redis.Redis(host="127.0.0.1", port=6379).ping()  # the machine kind runs Redis; fail clearly if it does not
    tracker_db, gateway_db = databases
    stack = Stack(
        tmp_path_factory.mktemp("scale"),
        extra_env={
            "TONGXIN_TRACKER_STORE": "postgresql",
            "TONGXIN_TRACKER_PG_DB": tracker_db,
            "TONGXIN_LOCK_STORE": "redis",
            "TONGXIN_REDIS_DB": "5",
            "TONGXIN_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{gateway_db}",
        },
    )
    second = free_port()
    try:
        stack.start()
        stack.start_rasa("rasa-b", second)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{second}/status", timeout=3).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        yield stack, second
    finally:
        stack.stop_all()


def test_a_conversation_moves_between_rasa_servers(scaled: tuple[Stack, int]) -> None:
    stack, second = scaled
    first = stack.chat("test-web-sender-scale-1", "帮我看看孩子能享受什么保障")
    assert "几岁" in "".join(r["text"] for r in first["replies"])
    resp = httpx.post(
        f"http://127.0.0.1:{second}/webhooks/rest/webhook",
        json={"sender": "web:test-web-sender-scale-1", "message": "孩子9岁"},
        timeout=60,
    )
    assert resp.status_code == 200
    assert "爸爸" in "".join(m.get("text") or "" for m in resp.json())  # server B knew the form was running
    third = stack.chat("test-web-sender-scale-1", "他爸在坐牢")  # and back on server A, the answer from B is remembered
    assert "妈妈" in "".join(r["text"] for r in third["replies"])


def test_the_gateway_store_is_on_postgresql(scaled: tuple[Stack, int], databases: tuple[str, str]) -> None:
    stack, _ = scaled
    stack.chat("test-web-sender-scale-2", "什么是留守儿童")
    store = Store(f"postgresql+psycopg://postgres@127.0.0.1:5432/{databases[1]}")
    try:
        conversation = store.find_conversation("web", "test-web-sender-scale-2")
        assert conversation is not None
        assert [m.author for m in store.messages(conversation.id)][:2] == ["user", "bot"]
    finally:
        store.close()
