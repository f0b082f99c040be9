from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

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
        "secret_file": tmp_path / "session.secret",
        "duty_days": "1-7",
        "duty_hours": "00:00-23:59",
        **overrides,
    }
    return GatewaySettings(**values)


def disabled_channels() -> dict[str, Any]:
    from channels.adapters.telegram import TelegramSettings
    from channels.adapters.wechat.settings import WeChatSettings

    return {
        "telegram": TelegramSettings(token=None),
        "wechat": WeChatSettings(token=None, app_id=None, app_secret=None),
    }


class WebOwner:
    """Makes a test client behave as the widget does for every web conversation it starts: the session token
    of each sender goes back with its later messages and replaces ``sender_id`` in history requests. Tests of
    the tokens themselves (tests/channels/test_web_privacy.py) use a client without it."""

    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}

    def on_request(self, request: httpx.Request) -> None:
        if request.url.path == "/api/chat" and request.method == "POST":
            try:
                sender = json.loads(request.content or b"{}").get("sender_id")
            except (ValueError, AttributeError):
                return
            if isinstance(sender, str) and sender in self.tokens:
                request.headers["X-Session-Token"] = self.tokens[sender]
        elif request.url.path == "/api/history":
            sender = request.url.params.get("sender_id")
            if sender in self.tokens:
                request.headers["X-Session-Token"] = self.tokens[sender]
            request.url = request.url.copy_remove_param("sender_id")

    def on_response(self, response: httpx.Response) -> None:
        request = response.request
        if request.url.path != "/api/chat" or request.method != "POST" or response.status_code != 200:
            return
        response.read()
        token = response.json().get("session_token")
        sender = json.loads(response.request.content or b"{}").get("sender_id")
        if isinstance(token, str) and isinstance(sender, str):
            self.tokens[sender] = token


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(
        rasa: RasaHandler, actions: RasaHandler = actions_ready, *, as_owner: bool = True, **settings: Any
    ) -> TestClient:
        app = create_app(
            gateway_settings(tmp_path, **settings),
            rasa_transport=httpx.MockTransport(rasa),
            actions_transport=httpx.MockTransport(actions),
            tracker_url=f"sqlite:///{tmp_path / 't.db'}",
            **disabled_channels(),
        )
        client = TestClient(app)
        if as_owner:
            owner = WebOwner()
            client.event_hooks = {"request": [owner.on_request], "response": [owner.on_response]}
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


# A fresh database for tests that run against SQLite and against this machine's PostgreSQL.
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_database() -> Iterator[str]:
    name = f"tongxin_test_{secrets.token_hex(4)}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # the machine kind runs PostgreSQL; say clearly when it does not
        admin.dispose()
        pytest.fail(f"PostgreSQL on 127.0.0.1:5432 is not reachable: {exc}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        yield from _postgres_database()
