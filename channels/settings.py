"""Typed settings of the gateway (environment variables ``TONGXIN_*``), injected through ``get_settings``."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from knowledge_base import KB_ROOT

# The crisis screen runs on every message before anything else, so its latency is the user's: two
# onnxruntime threads cut it (p95 24 → 18 ms per message in `tools.crisis_bench`), not spinning while idle.
SCREEN_THREADS = 2

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_HOURS = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TONGXIN_", extra="ignore")

    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    # "development" (the default: `make run`) or "production" (a bureau's server: secrets required).
    env: Literal["development", "production"] = "development"
    rasa_url: str = "http://127.0.0.1:5005"
    action_url: str = "http://127.0.0.1:5055"
    # Several Rasa servers / action servers, comma-separated (the scale-out profile); empty: the one above.
    rasa_urls: str = ""
    action_urls: str = ""
    # Redis for what every gateway process must see the same (live events, presence, limits, the WeChat
    # token, leases); unset: kept in this process, which is right only when it is the only one.
    redis_url: str | None = None
    gateway_workers: int = Field(1, ge=1, le=64)
    # The reverse proxy's address(es), comma-separated, whose X-Forwarded-For is believed; empty: none.
    trusted_proxies: str = ""
    rasa_timeout_s: float = Field(20.0, gt=0)
    health_timeout_s: float = Field(2.0, gt=0)
    kb_dir: Path = KB_ROOT
    max_text_chars: int = Field(2000, ge=10)
    # The m3e encoder exported to ONNX (`make build`): the crisis screen's learned half needs it.
    encoder_dir: Path = PROJECT_ROOT / ".build" / "encoder" / "m3e-small"
    screen_threads: int = Field(SCREEN_THREADS, ge=1, le=8)

    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'gateway.db'}"
    retention_days: int = Field(180, ge=1)
    rate_burst: int = Field(8, ge=1)
    rate_per_second: float = Field(0.5, gt=0)

    # Hotline duty: "08:30-17:30" on ISO weekdays "1-5" (Monday–Friday), in the bureau's time zone.
    duty_hours: str = "08:30-17:30"
    duty_days: str = "1-5"
    timezone: str = "Asia/Shanghai"

    # Sites allowed to embed the widget (CORS on the public chat API; no cookies are involved there).
    widget_origins: list[str] = Field(default_factory=lambda: ["*"])
    # Console sessions and web conversation tokens are signed with this secret; several gateway processes
    # must share one, so it is required in production and with Redis. In development only, one is generated
    # once and kept in ``secret_file``, so that sessions survive a restart.
    session_secret: SecretStr | None = None
    secret_file: Path = PROJECT_ROOT / "var" / "session.secret"
    cookie_secure: bool = False

    @field_validator("duty_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        if not _HOURS.match(value):
            raise ValueError("duty_hours must look like 08:30-17:30")
        return value

    @field_validator("duty_days")
    @classmethod
    def _days(cls, value: str) -> str:
        if not re.fullmatch(r"[1-7](-[1-7])?(,[1-7](-[1-7])?)*", value):
            raise ValueError("duty_days must look like 1-5 or 1-5,7 (ISO weekdays)")
        return value

    @field_validator("session_secret")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and (
            len(value.get_secret_value()) < 32
            or value.get_secret_value().lower() in {"changeme", "secret", "change-me"}
        ):
            raise ValueError("TONGXIN_SESSION_SECRET must be a random string of at least 32 characters")
        return value

    @model_validator(mode="after")
    def _shared_secret(self) -> GatewaySettings:
        if self.session_secret is None and (self.env == "production" or self.redis_url or self.gateway_workers > 1):
            raise ValueError(
                "TONGXIN_SESSION_SECRET is required in production and when several gateway processes run "
                "(generate one: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        if self.gateway_workers > 1 and not self.redis_url:
            raise ValueError("several gateway workers need TONGXIN_REDIS_URL to share live state and limits")
        return self

    @property
    def rasa_servers(self) -> list[str]:
        return _urls(self.rasa_urls or self.rasa_url)

    @property
    def action_servers(self) -> list[str]:
        return _urls(self.action_urls or self.action_url)

    def on_duty(self, now: dt.datetime | None = None) -> bool:
        local = (now or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(self.timezone))
        days: set[int] = set()
        for part in self.duty_days.split(","):
            first, _, last = part.partition("-")
            days.update(range(int(first), int(last or first) + 1))
        match = _HOURS.match(self.duty_hours)
        assert match is not None
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        minutes = local.hour * 60 + local.minute
        return local.isoweekday() in days and h1 * 60 + m1 <= minutes < h2 * 60 + m2


def _urls(value: str) -> list[str]:
    return [u.strip() for u in value.split(",") if u.strip()]


@lru_cache(maxsize=1)
def get_settings() -> GatewaySettings:
    return GatewaySettings()
