from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.channels.conftest import RasaHandler, rasa_reply

Make = Callable[..., TestClient]


def test_chat_returns_contract_shape(make_client: Make) -> None:
    client = make_client(
        rasa_reply(
            {"recipient_id": "web:u1", "text": "事实无人抚养儿童是指……"},
            {
                "recipient_id": "web:u1",
                "custom": {
                    "citations": [
                        {"doc_id": "de_facto_unsupported_definition", "doc_no": "民发〔2019〕62号", "title": "意见"}
                    ]
                },
            },
        )
    )
    resp = client.post("/api/chat", json={"sender_id": "test-web-sender-u1", "text": "什么是事实无人抚养儿童"})
    assert resp.status_code == 200
    body = resp.json()
    # Contract 3's fields, plus the token that proves this client owns the new conversation.
    assert set(body) == {"replies", "handoff", "session_token"} and body["handoff"] is None
    reply = body["replies"][0]
    assert {"text", "buttons", "citations"} <= set(reply)
    assert {"doc_id", "doc_no", "title"} <= set(reply["citations"][0])
    assert reply["citations"][0]["doc_no"] == "民发〔2019〕62号"


def test_sender_is_namespaced_by_channel(make_client: Make) -> None:
    senders: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        senders.append(__import__("json").loads(request.content)["sender"])
        return httpx.Response(200, json=[{"text": "好"}])

    make_client(handler).post("/api/chat", json={"sender_id": "test-web-sender-u1", "text": "你好"})
    assert senders == ["web:test-web-sender-u1"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"text": "你好"}, "missing_field"),
        ({"sender_id": "test-web-sender-u1"}, "missing_field"),
        ({"sender_id": "test-web-sender-u1", "text": ""}, "empty_text"),
        ({"sender_id": "test-web-sender-u1", "text": "   \n "}, "empty_text"),
        ({"sender_id": "", "text": "你好"}, "invalid_sender_id"),
        ({"sender_id": "13812345678", "text": "你好"}, "invalid_sender_id"),
        ({"sender_id": "test-web-sender-u1", "text": "孩" * 20_001}, "text_too_long"),
        ({"sender_id": "test-web-sender-u1", "text": 12}, "invalid_request"),
        (["not", "an", "object"], "invalid_request"),
    ],
)
def test_bad_input_gets_a_4xx_json_error(make_client: Make, body: object, code: str) -> None:
    resp = make_client(rasa_reply({"text": "不该到这里"})).post("/api/chat", json=body)
    assert 400 <= resp.status_code < 500
    assert resp.json()["error"]["code"] == code


def test_non_json_body_is_a_400(make_client: Make) -> None:
    client = make_client(rasa_reply({"text": "x"}))
    resp = client.post("/api/chat", content=b"{sender_id: u1", headers={"content-type": "application/json"})
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "invalid_json"
    resp = client.post("/api/chat", content="你好", headers={"content-type": "text/plain"})
    assert 400 <= resp.status_code < 500 and "error" in resp.json()


def test_rasa_down_gives_a_polite_reply_with_verified_numbers(make_client: Make) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    resp = make_client(down).post("/api/chat", json={"sender_id": "test-web-sender-u1", "text": "你好"})
    assert resp.status_code == 200
    text = resp.json()["replies"][0]["text"]
    assert resp.json()["replies"][-1]["text"].startswith("【使用须知】")  # first contact: the notice comes last
    assert "110" in text and "12345" in text and "12338" in text
    assert resp.json()["handoff"] is None


def test_empty_rasa_answer_is_never_an_empty_reply_list(make_client: Make) -> None:
    resp = make_client(rasa_reply()).post("/api/chat", json={"sender_id": "test-web-sender-u1", "text": "？？"})
    replies = resp.json()["replies"]
    assert resp.status_code == 200 and replies[0]["text"]
    assert replies[0]["buttons"][0]["payload"] == "/request_human"


def test_unexpected_error_still_answers_politely(make_client: Make) -> None:
    handler: RasaHandler = rasa_reply({"text": "x"})
    client = make_client(handler)

    async def explode(*args: object, **kwargs: object) -> object:
        raise ZeroDivisionError("bug")

    client.app.state.conversations.handle = explode  # type: ignore[attr-defined]
    resp = TestClient(client.app, raise_server_exceptions=False).post(
        "/api/chat", json={"sender_id": "test-web-sender-u1", "text": "你好"}
    )
    assert resp.status_code == 200 and "110" in resp.json()["replies"][0]["text"]


def test_unknown_route_is_a_json_404(make_client: Make) -> None:
    resp = make_client(rasa_reply()).get("/no/such/page")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"
