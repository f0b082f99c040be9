"""The conversation pipeline through /api/chat, with a scripted fake Rasa and the real store."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

Make = Callable[..., TestClient]


class FakeRasa:
    """Answers by the message text; records what reached it."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.down = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/status":
            return httpx.Response(200, json={"model_file": "m.tar.gz"})
        if self.down:
            raise httpx.ConnectError("down", request=request)
        if request.method == "PUT":
            return httpx.Response(200, json={})
        text = json.loads(request.content)["message"]
        self.received.append(text)
        if text == "/request_human":
            return httpx.Response(
                200,
                json=[
                    {"text": "好的，我已经帮您转给工作人员"},
                    {
                        "custom": {
                            "kind": "handoff",
                            "handoff": {
                                "reason": "user_request",
                                "priority": "normal",
                                "summary": {"slots": {"child_age": 9}},
                            },
                        }
                    },
                ],
            )
        if text == "坏引用":  # an action payload the gateway cannot read: the turn fails inside the gateway
            return httpx.Response(200, json=[{"text": "答", "custom": {"citations": [{"bogus": 1}]}}])
        if text == "删库":
            return httpx.Response(200, json=[{"custom": {"kind": "delete_request"}}])
        return httpx.Response(
            200,
            json=[
                {
                    "text": f"答：{text}",
                    "buttons": [
                        {"title": "看具体规定", "payload": "/ask_details"},
                        {"title": "转人工", "payload": "/request_human"},
                    ],
                }
            ],
        )


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def client(make_client: Make, rasa: FakeRasa) -> TestClient:
    return make_client(rasa)


def chat(client: TestClient, text: str, sender: str = "test-web-sender-u1", **extra: Any) -> dict[str, Any]:
    resp = client.post("/api/chat", json={"sender_id": sender, "text": text, **extra})
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def texts(body: dict[str, Any]) -> list[str]:
    return [r["text"] for r in body["replies"]]


def test_privacy_notice_once_per_conversation(client: TestClient) -> None:
    first = chat(client, "你好")
    assert texts(first)[0] == "答：你好" and texts(first)[-1].startswith("【使用须知】")
    assert "14周岁" in texts(first)[-1] and "110" in texts(first)[-1]
    assert not any(t.startswith("【使用须知】") for t in texts(chat(client, "再问一个")))
    assert texts(chat(client, "你好", sender="test-web-sender-u2"))[-1].startswith("【使用须知】")


def test_a_number_picks_the_numbered_button(client: TestClient, rasa: FakeRasa) -> None:
    chat(client, "什么是留守儿童")
    chat(client, "2")
    assert rasa.received[-1] == "/request_human"


def test_crisis_message_gets_the_emergency_reply_first_and_an_urgent_ticket(client: TestClient, rasa: FakeRasa) -> None:
    chat(client, "你好")
    body = chat(client, "我 不 想 活 了")
    assert "110" in texts(body)[0] and "12355" in texts(body)[0]  # before anything the dialogue says
    assert body["handoff"]["priority"] == "urgent"
    # The dialogue still hears it (told it was screened), so a question in the same message is answered.
    assert rasa.received == ["你好", "我 不 想 活 了"]


def test_crisis_during_an_active_ticket_still_gets_the_emergency_reply(client: TestClient) -> None:
    handoff = chat(client, "/request_human")["handoff"]
    store = client.app.state.store  # type: ignore[attr-defined]
    staff = store.create_staff("li", "小李", "x", "staff")
    store.take_ticket(handoff["ticket_id"], staff.id)
    body = chat(client, "继父晚上摸我")
    assert "110" in texts(body)[0] and body["handoff"]["priority"] == "urgent"
    assert store.get_ticket(handoff["ticket_id"]).priority == "urgent"


def test_nobody_online_is_said_honestly(client: TestClient) -> None:
    body = chat(client, "/request_human")
    assert any("没有工作人员在线" in t for t in texts(body))


def test_handoff_opens_a_ticket_and_active_ticket_routes_to_staff(client: TestClient, rasa: FakeRasa) -> None:
    client.portal.call(client.app.state.presence.seen, 1)  # type: ignore[attr-defined,union-attr]  # a console is open
    body = chat(client, "/request_human")
    assert body["handoff"]["priority"] == "normal" and body["handoff"]["state"] == "waiting"
    assert any("第1位" in t for t in texts(body))  # on duty (settings in the fixture): queue position
    store = client.app.state.store  # type: ignore[attr-defined]
    ticket = store.get_ticket(body["handoff"]["ticket_id"])
    assert ticket.summary["slots"] == {"child_age": 9} and ticket.summary["recent"]
    while_waiting = chat(client, "还在吗")  # the bot still answers while the ticket waits
    assert texts(while_waiting)[0] == "答：还在吗"
    staff = store.create_staff("li", "小李", "x", "staff")
    store.take_ticket(ticket.id, staff.id)
    routed = chat(client, "我孙子的事想跟人说")
    assert rasa.received[-1] == "还在吗" and routed["handoff"]["state"] == "active"
    assert store.last_messages(ticket.conversation_id, 3)[-2].text == "我孙子的事想跟人说"


def test_user_can_go_back_to_the_bot(client: TestClient) -> None:
    handoff = chat(client, "/request_human")["handoff"]
    body = chat(client, "/tx_back_to_bot")
    assert body["handoff"] is None and "回到" in texts(body)[0]
    assert client.app.state.store.get_ticket(handoff["ticket_id"]).outcome_code == "user_returned"  # type: ignore[attr-defined]


def test_off_duty_is_said_honestly_with_hotlines_and_callback(make_client: Make, rasa: FakeRasa) -> None:
    client = make_client(rasa, duty_days="1", duty_hours="00:00-00:01")
    body = chat(client, "/request_human")
    status = texts(body)[1]
    assert "值班时间" in status and "110" in status and "12345" in status
    assert body["replies"][1]["buttons"][0]["payload"] == "/tx_callback"
    assert "手机号码" in texts(chat(client, "/tx_callback"))[0]
    assert "不对" in texts(chat(client, "我的电话是123"))[0]
    saved = chat(client, "138 1234 5678")
    assert "记下" in texts(saved)[0]
    ticket = client.app.state.store.get_ticket(body["handoff"]["ticket_id"])  # type: ignore[attr-defined]
    assert ticket.callback_phone == "13812345678"


def test_delete_my_data_asks_then_deletes_from_both_stores(client: TestClient, rasa: FakeRasa) -> None:
    chat(client, "我叫王小明 电话13812345678")
    eraser = client.app.state.conversations.eraser  # type: ignore[attr-defined]
    erased: list[str] = []
    eraser.erase = erased.append  # the real tracker store is covered by the e2e test
    ask = chat(client, "删除我的记录")
    assert ask["replies"][0]["buttons"][0]["payload"] == "/tx_confirm_delete"
    done = chat(client, "/tx_confirm_delete")
    assert "删除" in texts(done)[0] and erased == ["web:test-web-sender-u1"]
    assert "这里的6条消息" in texts(done)[0]  # everything kept so far: the user's messages and the replies
    assert client.app.state.store.find_conversation("web", "test-web-sender-u1") is None  # type: ignore[attr-defined]
    # The conversation's token is worthless now: its history is refused, not just empty.
    assert client.get("/api/history", params={"sender_id": "test-web-sender-u1"}).status_code == 401


def test_a_deletion_that_cannot_reach_rasas_store_says_so_and_keeps_everything(client: TestClient) -> None:
    from channels.store.tracker_eraser import TrackerStoreUnreachable

    chat(client, "我叫王小明 电话13812345678")
    eraser = client.app.state.conversations.eraser  # type: ignore[attr-defined]

    def unreachable(sender: str) -> int:
        raise TrackerStoreUnreachable("down")

    eraser.erase = unreachable
    chat(client, "删除我的记录")
    done = chat(client, "/tx_confirm_delete")
    assert "没能删除" in texts(done)[0]
    store = client.app.state.store  # type: ignore[attr-defined]
    conversation = store.find_conversation("web", "test-web-sender-u1")
    assert conversation is not None and conversation.pending is None
    assert any("王小明" in m.text for m in store.last_messages(conversation.id, 20))


def test_delete_request_from_the_dialogue_and_cancel(client: TestClient) -> None:
    ask = chat(client, "删库")
    assert "确定要删除" in texts(ask)[0]
    assert "没有删除" in texts(chat(client, "取消"))[0]
    assert client.app.state.store.find_conversation("web", "test-web-sender-u1") is not None  # type: ignore[attr-defined]


def test_a_retried_message_is_answered_once(client: TestClient, rasa: FakeRasa) -> None:
    first = chat(client, "孤儿怎么申请", client_id="m-1")
    again = chat(client, "孤儿怎么申请", client_id="m-1")
    assert rasa.received.count("孤儿怎么申请") == 1
    assert texts(again)[0] == texts(first)[0]


def test_too_long_and_too_fast_get_kind_messages(make_client: Make, rasa: FakeRasa) -> None:
    client = make_client(rasa, max_text_chars=50, rate_burst=2, rate_per_second=0.01)
    assert client.post("/api/chat", json={"sender_id": "test-web-sender-u1", "text": "长" * 60}).status_code == 200
    assert "太长" in texts(chat(client, "长" * 60, sender="test-web-sender-u9"))[0]
    chat(client, "一")
    chat(client, "二")
    assert "稍等" in texts(chat(client, "三"))[0]


def test_history_for_reloads_and_polling(client: TestClient) -> None:
    chat(client, "什么是留守儿童")
    history = client.get("/api/history", params={"sender_id": "test-web-sender-u1"}).json()
    assert [m["from"] for m in history["messages"]][:2] == ["user", "bot"]
    last = history["messages"][-1]["id"]
    assert (
        client.get("/api/history", params={"sender_id": "test-web-sender-u1", "since": last}).json()["messages"] == []
    )
    assert client.get("/api/history").status_code == 401  # no token: nothing, whoever asks
    # Past the 64-bit row ids of the database: refused up front, not a driver overflow (500).
    assert client.get("/api/history", params={"sender_id": "test-web-sender-u1", "since": 2**63}).status_code == 422


def test_websocket_turn_and_staff_push(client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        ws.send_text(json.dumps({"type": "hello", "sender_id": "test-web-sender-ws1", "session_token": None}))
        assert ws.receive_json()["type"] == "session"
        ws.send_text(json.dumps({"type": "message", "text": "/request_human", "client_id": "a"}))
        turn = ws.receive_json()
        assert turn["type"] == "turn" and turn["client_id"] == "a" and turn["handoff"]["priority"] == "normal"
        store = client.app.state.store  # type: ignore[attr-defined]
        staff = store.create_staff("li", "小李", "x", "staff")
        handoff = client.app.state.handoff  # type: ignore[attr-defined]
        client.portal.call(handoff.staff_reply, turn["handoff"]["ticket_id"], staff, "您好，我是热线的小李")  # type: ignore[union-attr]
        pushes = [ws.receive_json() for _ in range(2)]
        assert [p["author"] for p in pushes] == ["system", "staff"] and pushes[1]["text"] == "您好，我是热线的小李"
        ws.send_text("not json")
        assert ws.receive_json() == {"type": "error", "code": "invalid_message", "client_id": None}


def test_websocket_rejects_a_bad_sender(client: TestClient) -> None:
    from starlette.websockets import WebSocketDisconnect

    with client.websocket_connect("/ws") as ws:
        ws.send_text(json.dumps({"type": "hello", "sender_id": "<script>", "session_token": None}))
        assert ws.receive_json() == {"type": "error", "code": "invalid_hello"}
        with pytest.raises(WebSocketDisconnect):
            ws.receive_json()


def test_rasa_down_is_polite_and_the_message_is_kept(client: TestClient, rasa: FakeRasa) -> None:
    rasa.down = True
    body = chat(client, "孩子户口问题")
    assert "110" in texts(body)[0]
    history = client.get("/api/history", params={"sender_id": "test-web-sender-u1"}).json()["messages"]
    assert history[0]["text"] == "孩子户口问题"
