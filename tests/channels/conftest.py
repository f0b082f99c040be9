from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from channels.app import create_app
from channels.settings import GatewaySettings

RasaHandler = Callable[[httpx.Request], httpx.Response]


def rasa_reply(*messages: dict[str, Any]) -> RasaHandler:
    """A fake Rasa: /status is healthy, the webhook answers with ``messages``."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/status":
            return httpx.Response(200, json={"model_file": "models/test.tar.gz"})
        return httpx.Response(200, json=list(messages))

    return handler


def actions_ready(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"status": "ok", "index": {"ready": True}})


def gateway_settings(tmp_path: Path, **overrides: Any) -> GatewaySettings:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'gateway.db'}",
        "duty_days": "1-7",
        "duty_hours": "00:00-23:59",
        **overrides,
    }
    return GatewaySettings(**values)


def disabled_channels() -> dict[str, Any]:
    from channels.telegram import TelegramSettings
    from channels.wechat import WeChatSettings

    return {
        "telegram": TelegramSettings(token=None),
        "wechat": WeChatSettings(token=None, app_id=None, app_secret=None),
    }


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(rasa: RasaHandler, actions: RasaHandler = actions_ready, **settings: Any) -> TestClient:
        app = create_app(
            gateway_settings(tmp_path, **settings),
            rasa_transport=httpx.MockTransport(rasa),
            actions_transport=httpx.MockTransport(actions),
            tracker_url=f"sqlite:///{tmp_path / 't.db'}",
            **disabled_channels(),
        )
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
