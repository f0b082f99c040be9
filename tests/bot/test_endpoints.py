from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.endpoints import endpoints, main
from bot.settings import BotSettings


def test_default_profile_needs_nothing_running(tmp_path: Path) -> None:
    data = endpoints(BotSettings(tracker_sqlite_path=tmp_path / "t.db", action_url="http://127.0.0.1:6000"))
    assert data["action_endpoint"] == {"url": "http://127.0.0.1:6000/webhook"}
    assert data["tracker_store"] == {
        "type": "bot.tracker_store.WindowedSQLTrackerStore",
        "dialect": "sqlite",
        "db": str(tmp_path / "t.db"),
        "keep_events": 70,
    }
    assert data["lock_store"] == {"type": "in_memory"}


def test_scale_out_profile_uses_postgres_and_redis() -> None:
    data = endpoints(BotSettings(tracker_store="postgresql", lock_store="redis"))
    assert data["tracker_store"]["dialect"] == "postgresql" and data["tracker_store"]["db"] == "test"
    assert data["lock_store"]["type"] == "redis" and data["lock_store"]["port"] == 6379


def test_placeholder_admin_token_is_refused() -> None:
    with pytest.raises(ValidationError, match="real secret"):
        BotSettings(admin_token="changeme")


def test_cli_writes_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TONGXIN_TRACKER_SQLITE_PATH", str(tmp_path / "t.db"))
    out = tmp_path / "endpoints.yml"
    assert main(["--out", str(out)]) == 0
    assert "action_endpoint" in out.read_text()
