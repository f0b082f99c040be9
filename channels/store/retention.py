"""Retention: conversations not seen for ``TONGXIN_RETENTION_DAYS`` are deleted from both stores.

The gateway runs :func:`purge` hourly (:func:`run_hourly`, in one process of many);
``python -m channels.store.retention purge [--days N]`` runs it once.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import sys

from bot.settings import BotSettings
from channels.settings import GatewaySettings
from channels.shared.cache import LiveCache
from channels.store.store import Store
from channels.store.tracker_eraser import TrackerEraser

logger = logging.getLogger(__name__)
KEYS_KEPT = dt.timedelta(days=2)  # a button or menu older than this is stale anyway


def purge(store: Store, eraser: TrackerEraser, days: float, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete what is older than ``days`` from the gateway store and Rasa's tracker store."""
    now = now or dt.datetime.now(dt.UTC)
    cutoff = now - dt.timedelta(days=days)
    store.purge_keys_before(now - KEYS_KEPT)
    removed = store.purge_before(cutoff)
    for channel, sender in removed:
        eraser.erase(f"{channel}:{sender}")
    trackers = eraser.purge_before(cutoff)
    return {"conversations": len(removed), "trackers": trackers}


async def run_hourly(
    store: Store, eraser: TrackerEraser, days: int, cache: LiveCache, every_s: float = 3600.0
) -> None:
    """Hourly, in one gateway process however many run: the first to take the hour's lease purges."""
    while True:
        try:
            if await cache.add("lease:retention", "1", every_s * 0.9):
                result = await asyncio.to_thread(purge, store, eraser, days)
                if result["conversations"]:
                    logger.info(
                        "retention purge removed %d conversations older than %d days", result["conversations"], days
                    )
        except Exception:  # the purge retries next time; serving users is never blocked by it
            logger.exception("retention purge failed")
        await asyncio.sleep(every_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m channels.store.retention")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("purge", help="delete conversations older than the retention period, in both stores")
    run.add_argument("--days", type=float, help="default: TONGXIN_RETENTION_DAYS")
    run.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    settings = GatewaySettings()
    store = Store(settings.database_url)
    store.migrate()
    eraser = TrackerEraser(BotSettings().tracker_url())
    try:
        result = purge(store, eraser, args.days if args.days is not None else settings.retention_days)
    finally:
        eraser.close()
        store.close()
    print(
        json.dumps(result)
        if args.json
        else f"purged {result['conversations']} conversations, {result['trackers']} other trackers"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
