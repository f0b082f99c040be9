"""Each shared-state interface is tested in both implementations: in-process, and on this machine's Redis."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator

import pytest
import redis

from channels.shared.state import SharedState, local_state, open_shared

REDIS_URL = "redis://127.0.0.1:6379/7"


@pytest.fixture
def redis_url() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:  # the machine kind runs Redis; say clearly when it does not
        pytest.fail(f"Redis on 127.0.0.1:6379 is not reachable: {exc}")
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture(params=["in-process", pytest.param("redis", marks=pytest.mark.redis)])
async def shared(request: pytest.FixtureRequest) -> AsyncIterator[SharedState]:
    if request.param == "in-process":
        yield local_state()
        return
    url: str = request.getfixturevalue("redis_url")
    async with open_shared(url) as state:
        yield state


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"
