"""The store tests run against SQLite and against the PostgreSQL server of this machine (``database_url``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from channels.store.store import Store


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store(database_url)
    s.migrate()
    yield s
    s.close()
