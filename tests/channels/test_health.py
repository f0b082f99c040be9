from __future__ import annotations

from collections.abc import Callable

import httpx
from fastapi.testclient import TestClient

from tests.channels.conftest import actions_ready, rasa_reply

Make = Callable[..., TestClient]


def refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused", request=request)


def test_all_parts_ready_is_200(make_client: Make) -> None:
    resp = make_client(rasa_reply(), actions_ready).get("/healthz")
    assert resp.status_code == 200
    assert resp.json() == {
        "status": "ok",
        "parts": {"rasa": "ok", "action_server": "ok", "index": "ok", "sqlite": "ok"},
    }


def test_rasa_down_is_503_naming_rasa(make_client: Make) -> None:
    resp = make_client(refuse, actions_ready).get("/healthz")
    assert resp.status_code == 503 and resp.json()["failing"] == ["rasa"]


def test_action_server_down_names_it_and_the_index(make_client: Make) -> None:
    resp = make_client(rasa_reply(), refuse).get("/healthz")
    assert resp.status_code == 503 and resp.json()["failing"] == ["action_server", "index"]


def test_index_still_loading_is_503(make_client: Make) -> None:
    def loading(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"status": "loading", "index": {"ready": False}})

    resp = make_client(rasa_reply(), loading).get("/healthz")
    assert resp.status_code == 503 and resp.json()["failing"] == ["index"]
