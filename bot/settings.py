"""Typed settings of the action server and of the Rasa endpoints (environment variables ``TONGXIN_*``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class BotSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TONGXIN_", extra="ignore")

    action_host: str = "127.0.0.1"
    action_port: int = 5055
    action_url: str = "http://127.0.0.1:5055"
    # Token for POST /admin/reload-index on the action server; the route is off without it.
    admin_token: SecretStr | None = None

    # Rasa's tracker store and lock store (written into the endpoints file by ``python -m bot.endpoints``).
    tracker_store: Literal["sqlite", "postgresql"] = "sqlite"
    tracker_sqlite_path: Path = PROJECT_ROOT / "var" / "rasa_tracker.db"
    tracker_pg_host: str = "127.0.0.1"
    tracker_pg_port: int = 5432
    tracker_pg_db: str = "test"
    tracker_pg_user: str = "postgres"
    tracker_pg_password: SecretStr | None = None
    # Events a turn reads back at least (bot/tracker_store.py): about seven turns, more than any step looks back.
    tracker_keep_events: int = Field(default=70, ge=20)
    lock_store: Literal["in_memory", "redis"] = "in_memory"
    redis_host: str = "127.0.0.1"
    redis_port: int = 6379
    redis_db: int = 1

    def tracker_url(self) -> str:
        """SQLAlchemy URL of Rasa's tracker store, for the gateway's deletion and retention purge."""
        if self.tracker_store == "postgresql":
            password = f":{self.tracker_pg_password.get_secret_value()}" if self.tracker_pg_password else ""
            return (
                f"postgresql+psycopg://{self.tracker_pg_user}{password}@{self.tracker_pg_host}:"
                f"{self.tracker_pg_port}/{self.tracker_pg_db}"
            )
        return f"sqlite:///{self.tracker_sqlite_path}"

    @model_validator(mode="after")
    def _no_placeholder_token(self) -> BotSettings:
        token = self.admin_token.get_secret_value() if self.admin_token else None
        if token is not None and (len(token) < 16 or token.lower() in {"changeme", "change-me", "secret"}):
            raise ValueError("TONGXIN_ADMIN_TOKEN must be a real secret of at least 16 characters")
        return self


@lru_cache(maxsize=1)
def get_settings() -> BotSettings:
    return BotSettings()
