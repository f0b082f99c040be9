"""The WeChat channel's settings (``TONGXIN_WECHAT_*``) and its own texts (``data/wechat.zh.yml``)."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from channels.pipeline.messages import Button

DEFAULT_TEXTS = Path(__file__).resolve().parents[2] / "data" / "wechat.zh.yml"
_PLACEHOLDERS = frozenset({"changeme", "change-me", "secret", "token", "xxx"})


class WeChatSettings(BaseSettings):
    """``TONGXIN_WECHAT_*``; the channel is on when token, app_id and app_secret are all set."""

    model_config = SettingsConfigDict(env_prefix="TONGXIN_WECHAT_", extra="ignore")

    token: SecretStr | None = None
    app_id: str | None = None
    app_secret: SecretStr | None = None
    aes_key: SecretStr | None = None  # the EncodingAESKey of safe mode (43 characters)
    api_base_url: str = "https://api.weixin.qq.com"
    reply_deadline_s: float = Field(default=4.0, gt=0, lt=5)  # WeChat gives up after 5 s

    @field_validator("token", "app_id", "app_secret", "aes_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _complete_or_absent(self) -> WeChatSettings:
        given = {"token": self.token, "app_id": self.app_id, "app_secret": self.app_secret}
        missing = [f"TONGXIN_WECHAT_{name.upper()}" for name, value in given.items() if value is None]
        if missing and (len(missing) < len(given) or self.aes_key is not None):
            raise ValueError(f"the WeChat channel is half-configured: set {', '.join(missing)} too, or unset all")
        for name in ("token", "app_secret"):
            secret = getattr(self, name)
            if secret is not None and secret.get_secret_value().strip().lower() in _PLACEHOLDERS:
                raise ValueError(f"TONGXIN_WECHAT_{name.upper()} is a placeholder, not a real secret")
        if self.aes_key is not None and not _is_aes_key(self.aes_key.get_secret_value()):
            raise ValueError("TONGXIN_WECHAT_AES_KEY must be the 43-character EncodingAESKey")
        return self

    @property
    def enabled(self) -> bool:
        return self.token is not None and self.app_id is not None and self.app_secret is not None


def _is_aes_key(key: str) -> bool:
    try:
        return len(key) == 43 and len(base64.b64decode(key + "=", validate=True)) == 32
    except binascii.Error:
        return False


class WeChatTexts(BaseModel):
    """The channel's own texts, from ``data/wechat.zh.yml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    welcome: str = Field(min_length=1)
    welcome_options: list[Button] = Field(min_length=1, max_length=9)
    unsupported_message: str = Field(min_length=1)
    turn_failed: str = Field(min_length=1)

    @classmethod
    def load(cls, path: Path = DEFAULT_TEXTS) -> WeChatTexts:
        return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
