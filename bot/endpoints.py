"""``python -m bot.endpoints --out var/endpoints.yml``: Rasa's endpoints file from the settings.

The default profile needs nothing running (SQLite tracker store, in-memory lock store); the
scale-out profile (``TONGXIN_TRACKER_STORE=postgresql TONGXIN_LOCK_STORE=redis``) lets several
Rasa servers share conversations.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from bot.settings import BotSettings

# Rasa's SQL tracker store reading a bounded window of each conversation (bot/tracker_store.py).
TRACKER_STORE = "bot.tracker_store.WindowedSQLTrackerStore"


def endpoints(settings: BotSettings) -> dict[str, Any]:
    tracker: dict[str, Any]
    if settings.tracker_store == "postgresql":
        tracker = {
            "type": TRACKER_STORE,
            "dialect": "postgresql",
            "url": settings.tracker_pg_host,
            "port": settings.tracker_pg_port,
            "db": settings.tracker_pg_db,
            "username": settings.tracker_pg_user,
        }
        if settings.tracker_pg_password:
            tracker["password"] = settings.tracker_pg_password.get_secret_value()
    else:
        settings.tracker_sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        tracker = {"type": TRACKER_STORE, "dialect": "sqlite", "db": str(settings.tracker_sqlite_path)}
    tracker["keep_events"] = settings.tracker_keep_events
    lock: dict[str, Any] = {"type": "in_memory"}
    if settings.lock_store == "redis":
        lock = {
            "type": "redis",
            "url": settings.redis_host,
            "port": settings.redis_port,
            "db": settings.redis_db,
            "key_prefix": "tongxin",
        }
    return {
        "action_endpoint": {"url": settings.action_url.rstrip("/") + "/webhook"},
        "tracker_store": tracker,
        "lock_store": lock,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.endpoints")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(yaml.safe_dump(endpoints(BotSettings()), sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
