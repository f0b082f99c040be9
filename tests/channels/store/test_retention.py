"""The hourly retention purge runs in one gateway process, however many run."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from channels.shared.cache import LocalCache
from channels.store import retention


async def test_the_hourly_purge_runs_in_one_process_of_many(monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[int] = []

    def purge(*args: Any) -> dict[str, int]:
        runs.append(1)
        return {"conversations": 0, "trackers": 0}

    monkeypatch.setattr(retention, "purge", purge)
    cache = LocalCache()  # what Redis is to several gateway processes
    loops = [
        asyncio.create_task(retention.run_hourly(None, None, 180, cache, every_s=0.5))  # type: ignore[arg-type]
        for _ in range(3)
    ]
    await asyncio.sleep(1.2)
    for loop in loops:
        loop.cancel()
    await asyncio.gather(*loops, return_exceptions=True)
    assert 2 <= len(runs) <= 3  # once per period (three periods began), not three times per period
