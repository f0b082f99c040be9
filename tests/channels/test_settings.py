"""The gateway's settings fail fast where several processes would otherwise fail at random."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from channels.settings import GatewaySettings

SECRET = "a-real-secret-" + "x" * 40


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SESSION_SECRET", "ENV", "REDIS_URL", "GATEWAY_WORKERS", "RASA_URLS", "ACTION_URLS"):
        monkeypatch.delenv(f"TONGXIN_{name}", raising=False)


def test_development_needs_no_secret_nor_redis() -> None:
    settings = GatewaySettings()
    assert settings.session_secret is None and settings.redis_url is None
    assert settings.rasa_servers == ["http://127.0.0.1:5005"]


@pytest.mark.parametrize(
    "values",
    [{"env": "production"}, {"redis_url": "redis://127.0.0.1:6379/0"}, {"gateway_workers": 2, "redis_url": "redis://h"}],
)
def test_the_session_secret_is_required_in_production_and_with_several_processes(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="TONGXIN_SESSION_SECRET is required"):
        GatewaySettings(**values)  # type: ignore[arg-type]
    assert GatewaySettings(**values, session_secret=SECRET)  # type: ignore[arg-type]


def test_several_workers_need_redis() -> None:
    with pytest.raises(ValidationError, match="TONGXIN_REDIS_URL"):
        GatewaySettings(gateway_workers=2, session_secret=SECRET)  # type: ignore[arg-type]


def test_several_rasa_servers_are_listed_by_comma(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TONGXIN_RASA_URLS", "http://10.0.0.2:5005, http://10.0.0.3:5005")
    assert GatewaySettings().rasa_servers == ["http://10.0.0.2:5005", "http://10.0.0.3:5005"]
