"""A web conversation's data only for the client that had it: every public route, called with another
conversation's id and no token or a wrong one, reveals nothing of it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocketDisconnect

from channels.store import retention
from tests.channels.pipeline.test_conversation import FakeRasa

Make = Callable[..., TestClient]
VICTIM = "test-web-victim-3f9a1c7e"
ATTACKER = "test-web-attacker-8b2d4e6f"
SECRET = "我叫王小明 孩子爸爸在沙洋监狱"
# Every route outside the console (which has its own anonymous-refusal test) and the static files.
PUBLIC_ROUTES = {
    ("POST", "/api/chat"),
    ("GET", "/api/history"),
    ("WS", "/ws"),
    ("GET", "/"),
    ("GET", "/healthz"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
}


@pytest.fixture
def client(make_client: Make) -> TestClient:
    # A raw client: it sends only what each test puts in the request, as a stranger would.
    return make_client(FakeRasa(), as_owner=False)


def start(client: TestClient, sender: str, text: str) -> str:
    resp = client.post("/api/chat", json={"sender_id": sender, "text": text})
    assert resp.status_code == 200, resp.text
    token = resp.json()["session_token"]
    assert isinstance(token, str) and token
    return token


def reveals(body: Any) -> bool:
    return "王小明" in json.dumps(body, ensure_ascii=False) or "沙洋" in json.dumps(body, ensure_ascii=False)


@pytest.fixture
def victim(client: TestClient) -> str:
    token = start(client, VICTIM, SECRET)
    handed = client.post(
        "/api/chat", json={"sender_id": VICTIM, "text": "/request_human"}, headers={"X-Session-Token": token}
    ).json()
    assert handed["handoff"] and handed["session_token"] == token
    return token


def own_token(client: TestClient, sender: str) -> str:
    conversation = client.app.state.store.find_conversation("web", sender)  # type: ignore[attr-defined]
    token: str = client.app.state.session_tokens.issue(conversation)  # type: ignore[attr-defined]
    return token


def wrong_tokens(client: TestClient, victim_token: str) -> list[str | None]:
    other = start(client, ATTACKER, "什么是留守儿童")
    number, signature = victim_token.split(".")
    return [
        None,
        "",
        "not-a-token",
        other,  # a real token, of another conversation
        f"{number}.{other.split('.')[1]}",  # the victim's row with another signature
        f"{number}.{'A' * 43}",
        f"{int(number) + 1}.{signature}",
        victim_token + "x",
    ]


def routes(candidates: list[Any]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for route in candidates:
        included = getattr(route, "original_router", None)  # FastAPI keeps an included router whole
        if included is not None:
            found |= routes(included.routes)
        elif isinstance(route, WebSocketRoute):
            found.add(("WS", route.path))
        elif isinstance(route, Route) and not route.path.startswith("/console"):
            found |= {(m, route.path) for m in route.methods or ()} - {("HEAD", route.path)}
    return found


def test_the_public_routes_are_the_ones_swept(client: TestClient) -> None:
    assert routes(client.app.routes) == PUBLIC_ROUTES  # type: ignore[attr-defined]


def test_chat_with_another_conversations_id_answers_but_reveals_nothing(client: TestClient, victim: str) -> None:
    for token in wrong_tokens(client, victim):
        headers = {"X-Session-Token": token} if token is not None else {}
        resp = client.post("/api/chat", json={"sender_id": VICTIM, "text": "你好"}, headers=headers)
        assert resp.status_code == 200, (token, resp.text)
        body = resp.json()
        assert body["session_token"] is None and body["handoff"] is None, token
        assert not reveals(body), token
        resp = client.post("/api/chat", json={"sender_id": VICTIM, "text": "你好", "session_token": token})
        assert resp.status_code in (200, 422) and not reveals(resp.json())
        if resp.status_code == 200:
            assert resp.json()["session_token"] is None and resp.json()["handoff"] is None


def test_history_refuses_without_the_conversations_own_token(client: TestClient, victim: str) -> None:
    for token in wrong_tokens(client, victim):
        for headers in (
            ({"X-Session-Token": token}, {"Authorization": f"Bearer {token}"}) if token is not None else ({},)
        ):
            for params in ({}, {"sender_id": VICTIM}, {"sender_id": VICTIM, "since": 0}):
                resp = client.get("/api/history", params=params, headers=headers)
                assert not reveals(resp.json()), (token, params)
                if resp.status_code == 200:  # another conversation's own token reads that one, never the id's
                    assert token == own_token(client, ATTACKER), (token, params)
                else:
                    assert resp.status_code == 401, (token, params, resp.status_code)
    own = client.get("/api/history", headers={"Authorization": f"Bearer {victim}"}).json()
    assert reveals(own) and own["handoff"]["priority"] == "normal"


def test_websocket_refuses_without_the_conversations_own_token(client: TestClient, victim: str) -> None:
    for token in wrong_tokens(client, victim):
        with client.websocket_connect("/ws") as ws:
            ws.send_text(json.dumps({"type": "hello", "sender_id": VICTIM, "session_token": token}))
            assert ws.receive_json() == {"type": "error", "code": "unauthorised"}
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            assert closed.value.code == 4401
    # A message before the hello, or the id in the URL as before, is not a hello.
    for first in ({"type": "message", "text": "你好"}, "hello"):
        with client.websocket_connect(f"/ws?sender_id={VICTIM}") as ws:
            ws.send_text(json.dumps(first))
            assert ws.receive_json() == {"type": "error", "code": "invalid_hello"}
    with client.websocket_connect("/ws") as ws:
        ws.send_text(json.dumps({"type": "hello", "sender_id": VICTIM, "session_token": victim}))
        assert ws.receive_json() == {"type": "session", "session_token": victim}


def test_the_page_and_health_say_nothing_of_a_conversation(client: TestClient, victim: str) -> None:
    for path in ("/", f"/?sender_id={VICTIM}", "/healthz", "/openapi.json", "/docs", "/redoc"):
        resp = client.get(path)
        assert "王小明" not in resp.text and VICTIM not in resp.text and victim not in resp.text


def test_a_deleted_conversations_token_is_worthless_and_a_new_one_gets_a_new_token(client: TestClient) -> None:
    old = start(client, VICTIM, SECRET)
    client.app.state.conversations.eraser.erase = lambda sender: None  # type: ignore[attr-defined]
    headers = {"X-Session-Token": old}
    client.post("/api/chat", json={"sender_id": VICTIM, "text": "删库"}, headers=headers)
    client.post("/api/chat", json={"sender_id": VICTIM, "text": "/tx_confirm_delete"}, headers=headers)
    assert client.get("/api/history", headers=headers).status_code == 401
    new = start(client, VICTIM, "什么是留守儿童")  # the same device starts again
    assert new != old
    assert client.get("/api/history", headers=headers).status_code == 401
    history = client.get("/api/history", headers={"X-Session-Token": new}).json()
    assert not reveals(history) and history["messages"][0]["text"] == "什么是留守儿童"


def test_the_retention_purge_ends_the_token(client: TestClient) -> None:
    token = start(client, VICTIM, SECRET)
    store = client.app.state.store  # type: ignore[attr-defined]

    class Eraser:
        def erase(self, sender: str) -> int:
            return 0

        def purge_before(self, cutoff: dt.datetime) -> int:
            return 0

    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
    assert retention.purge(store, Eraser(), 180, now=later)["conversations"] == 1  # type: ignore[arg-type]
    assert client.get("/api/history", headers={"X-Session-Token": token}).status_code == 401
    with client.websocket_connect("/ws") as ws:
        ws.send_text(json.dumps({"type": "hello", "sender_id": VICTIM, "session_token": token}))
        # The id is free again: a new conversation, with a new token, and none of the old messages.
        session = ws.receive_json()
        assert session["type"] == "session" and session["session_token"] not in (None, token)


@pytest.mark.parametrize(
    "sender", ["a", "u1", "13812345678", "x" * 129, "abc def ghijklmnopq", "用户用户用户用户用户用户用户用户"]
)
def test_short_or_strange_ids_are_refused_with_a_clear_error(client: TestClient, sender: str) -> None:
    resp = client.post("/api/chat", json={"sender_id": sender, "text": "你好"})
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "invalid_sender_id" and "16-128" in resp.json()["error"]["message"]
