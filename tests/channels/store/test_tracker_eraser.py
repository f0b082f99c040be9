"""Erasing a conversation from Rasa's tracker store also erases the slot values its window keeps."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from channels.store.tracker_eraser import TrackerEraser, TrackerStoreUnreachable


def _tracker_db(path: Path) -> str:
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, timestamp FLOAT)"))
        c.execute(text("CREATE TABLE tracker_windows (sender_id TEXT PRIMARY KEY, start_id INTEGER, slots TEXT)"))
        for i, (sender, ts) in enumerate([("web:a", 100.0), ("web:a", 200.0), ("web:b", 5_000_000_000.0)]):
            c.execute(text("INSERT INTO events VALUES (:i, :s, 'user', :t)"), {"i": i, "s": sender, "t": ts})
        for sender in ("web:a", "web:b"):
            c.execute(text("INSERT INTO tracker_windows VALUES (:s, 1, '{\"child_age\": 9}')"), {"s": sender})
    engine.dispose()
    return url


def _windows(url: str) -> list[str]:
    engine = create_engine(url)
    with engine.connect() as c:
        found = [row[0] for row in c.execute(text("SELECT sender_id FROM tracker_windows ORDER BY sender_id"))]
    engine.dispose()
    return found


def test_erase_removes_events_and_window(tmp_path: Path) -> None:
    url = _tracker_db(tmp_path / "t.db")
    eraser = TrackerEraser(url)
    assert eraser.erase("web:a") == 2
    assert eraser.count("web:a") == 0
    assert _windows(url) == ["web:b"]
    eraser.close()


def test_purge_removes_windows_of_purged_conversations(tmp_path: Path) -> None:
    url = _tracker_db(tmp_path / "t.db")
    eraser = TrackerEraser(url)
    assert eraser.purge_before(dt.datetime.fromtimestamp(1_000_000, tz=dt.UTC)) == 1
    assert _windows(url) == ["web:b"]
    eraser.close()


def test_a_store_without_rasas_events_is_an_error_not_an_empty_deletion(tmp_path: Path) -> None:
    eraser = TrackerEraser(f"sqlite:///{tmp_path / 'wrong.db'}")  # a wrong path: SQLite makes an empty file
    with pytest.raises(TrackerStoreUnreachable, match="no events table"):
        eraser.erase("web:a")
    eraser.close()


def test_an_unreachable_store_is_an_error() -> None:
    eraser = TrackerEraser("postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2")
    with pytest.raises(TrackerStoreUnreachable, match="cannot be reached"):
        eraser.erase("web:a")
    eraser.close()

