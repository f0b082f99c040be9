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


def test_with_two_rasa_servers_one_down_is_still_ok_and_listed(make_client: Make) -> None:
    answer = rasa_reply({"text": "您好"})

    def half_down(request: httpx.Request) -> httpx.Response:
        return refuse(request) if request.url.host == "rasa-a" else answer(request)

    client = make_client(half_down, actions_ready, rasa_urls="http://rasa-a:5005,http://rasa-b:5005")
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["parts"]["rasa"] == "ok"
    assert body["servers"]["rasa"][0].startswith("down") and body["servers"]["rasa"][1] == "ok"
    # and a conversation whose own server is the one down is answered by the other
    replies = client.post("/api/chat", json={"sender_id": "health-two-servers-01", "text": "你好"}).json()
    assert replies["replies"][0]["text"] == "您好"
