"""Malformed and hostile input on the chat API: always a clear 4xx JSON error or a polite answer, never a 5xx."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.channels.pipeline.test_conversation import FakeRasa

Make = Callable[..., TestClient]


@pytest.fixture
def client(make_client: Make) -> TestClient:
    return make_client(FakeRasa())


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"\xff\xfe\x00not utf-8", {"content-type": "application/json"}),
        (b'{"sender_id": "test-web-sender-u1", "text": "\xe4\xbd"}', {"content-type": "application/json"}),
        (b"sender_id=u1&text=hi", {"content-type": "application/x-www-form-urlencoded"}),
        (b"<xml><text>hi</text></xml>", {"content-type": "application/xml"}),
        (b"", {"content-type": "application/json"}),
        (b"null", {"content-type": "application/json"}),
        (b'{"sender_id": ["u1"], "text": {"a": 1}}', {"content-type": "application/json"}),
        (
            b'{"sender_id": "test-web-sender-u1", "text": "hi", "metadata": {"k": ' + b"[1]" * 10 + b"}}",
            {"content-type": "application/json"},
        ),
    ],
)
def test_malformed_bodies_are_4xx_json(client: TestClient, body: bytes, headers: dict[str, str]) -> None:
    resp = client.post("/api/chat", content=body, headers=headers)
    assert 400 <= resp.status_code < 500, resp.text
    assert "error" in resp.json()


def test_oversized_body_is_413(client: TestClient) -> None:
    resp = client.post(
        "/api/chat",
        content=json.dumps({"sender_id": "test-web-sender-u1", "text": "x" * 100_000}),
        headers={"content-type": "application/json"},
    )
    assert resp.status_code == 413 and resp.json()["error"]["code"] == "too_large"


def test_control_characters_are_dropped(client: TestClient) -> None:
    resp = client.post("/api/chat", json={"sender_id": "test-web-sender-u1", "text": "你\x00好\u200b\x1b"})
    assert resp.status_code == 200 and resp.json()["replies"][0]["text"] == "答：你好"
    only_control = client.post("/api/chat", json={"sender_id": "test-web-sender-u1", "text": "\x00\x07\u200b"})
    assert only_control.status_code == 422 and only_control.json()["error"]["code"] == "empty_text"


def test_script_payloads_are_plain_text(client: TestClient) -> None:
    resp = client.post("/api/chat", json={"sender_id": "test-web-sender-u1", "text": "<script>alert(1)</script>"})
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/json")
    history = client.get("/api/history", params={"sender_id": "test-web-sender-u1"}).json()["messages"]
    assert history[0]["text"] == "<script>alert(1)</script>"  # stored as text; the widget renders text only


@pytest.mark.parametrize("sender", ["../etc/passwd", "a" * 200, "u1;drop table", "用户"])
def test_bad_sender_ids_are_rejected(client: TestClient, sender: str) -> None:
    resp = client.post("/api/chat", json={"sender_id": sender, "text": "你好"})
    assert resp.status_code == 422


def test_wrong_method_and_unknown_route_are_json(client: TestClient) -> None:
    assert client.get("/api/chat").json()["error"]["code"] == "method_not_allowed"
    assert client.delete("/healthz").status_code == 405


def test_the_chat_api_can_be_called_from_an_embedding_site(client: TestClient) -> None:
    resp = client.options(
        "/api/chat",
        headers={
            "Origin": "https://mzj.yichang.gov.cn",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert resp.status_code == 200 and resp.headers["access-control-allow-origin"] in (
        "*",
        "https://mzj.yichang.gov.cn",
    )
    assert "access-control-allow-credentials" not in resp.headers
