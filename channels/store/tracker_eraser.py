"""Erase a conversation from Rasa's tracker store (deletion requests and the retention purge).

Rasa's SQL tracker store only appends events, so the rows are deleted directly in its database, with
the conversation's window (the slot values the windowed store keeps beside them, bot/tracker_store.py).
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

logger = logging.getLogger(__name__)

WINDOW_TABLE = "tracker_windows"  # bot/tracker_store.py (Rasa's environment, not importable here)


class TrackerStoreUnreachable(RuntimeError):
    pass


class TrackerEraser:
    def __init__(self, url: str | None) -> None:
        self.url = url
        self._engine: Engine | None = create_engine(url) if url else None

    def _has_events(self) -> bool:
        return self._engine is not None and inspect(self._engine).has_table("events")

    def erase(self, sender_id: str) -> int:
        """Delete a conversation's events; how many. Raises ``TrackerStoreUnreachable`` when the configured
        store cannot be reached or holds no Rasa events table (a wrong URL): a deletion must never be
        reported done when nothing was erased."""
        if self._engine is None:
            return 0  # no tracker store configured (tests of the gateway alone)
        try:
            present = self._has_events()
        except SQLAlchemyError as exc:
            raise TrackerStoreUnreachable(f"Rasa's tracker store cannot be reached: {exc}") from exc
        if not present:
            raise TrackerStoreUnreachable("Rasa's tracker store has no events table: is the tracker URL right?")
        with self._engine.begin() as connection:
            result = connection.execute(text("DELETE FROM events WHERE sender_id = :s"), {"s": sender_id})
            self._erase_window(connection, sender_id)
            return int(result.rowcount or 0)

    def purge_before(self, cutoff: dt.datetime) -> int:
        if not self._has_events():
            return 0
        assert self._engine is not None
        with self._engine.begin() as connection:
            # Whole conversations whose last event is older than the cutoff.
            stale = text("SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :t")
            senders = [row[0] for row in connection.execute(stale, {"t": cutoff.timestamp()})]
            for sender in senders:
                connection.execute(text("DELETE FROM events WHERE sender_id = :s"), {"s": sender})
                self._erase_window(connection, sender)
            return len(senders)

    def _erase_window(self, connection: Connection, sender_id: str) -> None:
        if inspect(connection).has_table(WINDOW_TABLE):
            connection.execute(text(f"DELETE FROM {WINDOW_TABLE} WHERE sender_id = :s"), {"s": sender_id})

    def count(self, sender_id: str) -> int:
        if not self._has_events():
            return 0
        assert self._engine is not None
        with self._engine.connect() as connection:
            return int(
                connection.execute(text("SELECT COUNT(*) FROM events WHERE sender_id = :s"), {"s": sender_id}).scalar()
                or 0
            )

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
