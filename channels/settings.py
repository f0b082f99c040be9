"""Typed settings of the gateway (environment variables ``TONGXIN_*``), injected through ``get_settings``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from knowledge_base import KB_ROOT

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TONGXIN_", extra="ignore")

    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    rasa_url: str = "http://127.0.0.1:5005"
    action_url: str = "http://127.0.0.1:5055"
    rasa_timeout_s: float = Field(20.0, gt=0)
    health_timeout_s: float = Field(2.0, gt=0)
    kb_dir: Path = KB_ROOT
    max_text_chars: int = Field(2000, ge=10)


@lru_cache(maxsize=1)
def get_settings() -> GatewaySettings:
    return GatewaySettings()  # type: ignore[call-arg]  # values come from the environment
