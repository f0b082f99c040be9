"""Handoff round trips on Telegram and WeChat, against their local fake APIs: a user asks for a person, a hotline
worker's reply reaches them on their platform, their answer reaches the worker, closing returns them to the bot."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from channels.adapters.telegram import SECRET_HEADER, TelegramSettings
from channels.adapters.wechat.settings import WeChatSettings
from channels.app import create_app
from tests.channels.adapters.fake_telegram import TOKEN as TG_TOKEN
from tests.channels.adapters.fake_telegram import FakeTelegram, text_update
from tests.channels.adapters.fake_wechat import FakeWeChatApi
from tests.channels.conftest import actions_ready, gateway_settings
from tests.channels.pipeline.test_conversation import FakeRasa

TG_SECRET = "handoff-test-secret-1234"
WX_TOKEN, WX_APP_ID, WX_SECRET = "tongxinTestToken2024", "wx5823bf96d3bd56c7", "3f1c6a9e0b7d4c2a8e5f1b9d7c3a6e0f"
OPENID = "oia2TjjewbmiOUlr6X-1crbLOvLw"


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def wechat() -> Iterator[FakeWeChatApi]:
    with FakeWeChatApi(WX_APP_ID, WX_SECRET) as fake:
        yield fake


@pytest.fixture
def client(tmp_path: Path, telegram: FakeTelegram, wechat: FakeWeChatApi) -> Iterator[TestClient]:
    app = create_app(
        gateway_settings(tmp_path),
        rasa_transport=httpx.MockTransport(FakeRasa()),
        actions_transport=httpx.MockTransport(actions_ready),
        tracker_url=f"sqlite:///{tmp_path / 't.db'}",
        telegram=TelegramSettings(token=TG_TOKEN, webhook_secret=TG_SECRET, base_url=telegram.base_url),
        wechat=WeChatSettings(token=WX_TOKEN, app_id=WX_APP_ID, app_secret=WX_SECRET, api_base_url=wechat.url),
    )
    with TestClient(app) as test_client:
        yield test_client


def wait_until(predicate: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def staff_and_ticket(client: TestClient, channel: str, sender: str) -> tuple[object, str]:
    store = client.app.state.store  # type: ignore[attr-defined]
    staff = store.create_staff("li", "小李", "x", "staff")
    conversation = store.find_conversation(channel, sender)
    ticket = store.open_ticket_for(conversation.id)
    assert ticket is not None
    return staff, ticket.id


def test_telegram_handoff_round_trip(client: TestClient, telegram: FakeTelegram) -> None:
    def post(text: str) -> httpx.Response:
        return client.post("/telegram/webhook", json=text_update(42, text), headers={SECRET_HEADER: TG_SECRET})

    assert post("/request_human").status_code == 200
    wait_until(lambda: any("转给工作人员" in c["text"] for c in telegram.calls_to("sendMessage")))
    staff, ticket_id = staff_and_ticket(client, "telegram", "42")
    handoff = client.app.state.handoff  # type: ignore[attr-defined]
    client.portal.call(handoff.staff_reply, ticket_id, staff, "您好，我是热线的小李")  # type: ignore[union-attr]
    wait_until(lambda: any(c["text"].startswith("您好，我是热线的小李") for c in telegram.calls_to("sendMessage")))
    assert all(str(c["chat_id"]) == "42" for c in telegram.calls_to("sendMessage"))
    assert post("孩子跟奶奶住").status_code == 200
    store = client.app.state.store  # type: ignore[attr-defined]
    wait_until(
        lambda: any(
            m.text == "孩子跟奶奶住" and m.author == "user"
            for m in store.last_messages(store.get_ticket(ticket_id).conversation_id, 10)
        )
    )
    client.portal.call(handoff.close, ticket_id, staff, "resolved", None)  # type: ignore[union-attr]
    wait_until(lambda: any("结束本次对话" in c["text"] for c in telegram.calls_to("sendMessage")))
    before = len(telegram.calls_to("sendMessage"))
    assert post("什么是留守儿童").status_code == 200
    wait_until(
        lambda: any(c["text"].startswith("答：什么是留守儿童") for c in telegram.calls_to("sendMessage")[before:])
    )


def wechat_post(client: TestClient, content: str, msg_id: int) -> httpx.Response:
    timestamp, nonce = str(int(time.time())), "1320562132"
    signature = hashlib.sha1("".join(sorted([WX_TOKEN, timestamp, nonce])).encode()).hexdigest()
    body = (
        f"<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><FromUserName><![CDATA[{OPENID}]]>"
        f"</FromUserName><CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )
    return client.post(
        "/wechat",
        params={"signature": signature, "timestamp": timestamp, "nonce": nonce, "openid": OPENID},
        content=body,
    )


def test_wechat_handoff_round_trip(client: TestClient, wechat: FakeWeChatApi) -> None:
    first = wechat_post(client, "/request_human", 1001)
    assert first.status_code == 200 and "转给工作人员" in first.text
    staff, ticket_id = staff_and_ticket(client, "wechat", OPENID)
    handoff = client.app.state.handoff  # type: ignore[attr-defined]
    client.portal.call(handoff.staff_reply, ticket_id, staff, "您好，我是热线的小李")  # type: ignore[union-attr]
    wait_until(lambda: any("您好，我是热线的小李" in m["text"]["content"] for m in wechat.sent))
    assert wechat.sent[-1]["touser"] == OPENID
    answer = wechat_post(client, "孩子跟奶奶住", 1002)
    assert answer.status_code == 200 and "已发送给工作人员" in answer.text
    client.portal.call(handoff.close, ticket_id, staff, "resolved", None)  # type: ignore[union-attr]
    wait_until(lambda: any("结束本次对话" in m["text"]["content"] for m in wechat.sent))
    again = wechat_post(client, "什么是留守儿童", 1003)
    assert "答：什么是留守儿童" in again.text


def test_a_turn_that_fails_inside_the_gateway_gets_the_polite_reply_on_every_channel(
    client: TestClient, telegram: FakeTelegram
) -> None:
    """One failure boundary (the conversation service): Telegram, WeChat and the web all get the reply naming
    the hotlines, and the user's message is kept for staff."""
    unavailable = "助手暂时出了点故障"
    assert client.post("/telegram/webhook", json=text_update(7, "坏引用"), headers={SECRET_HEADER: TG_SECRET})
    wait_until(lambda: any(unavailable in c["text"] for c in telegram.calls_to("sendMessage")))
    assert "110" in telegram.calls_to("sendMessage")[-1]["text"]

    assert unavailable in wechat_post(client, "坏引用", 99).text

    web = client.post("/api/chat", json={"sender_id": "failing-turn-web-0001", "text": "坏引用"})
    assert web.status_code == 200 and unavailable in web.json()["replies"][0]["text"]
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "hello", "sender_id": "failing-turn-ws-00001"})
        ws.send_json({"text": "坏引用", "client_id": "c1"})
        turn = ws.receive_json()
        while turn.get("type") != "turn":
            turn = ws.receive_json()
        assert unavailable in turn["replies"][0]["text"]

    store = client.app.state.store  # type: ignore[attr-defined]
    for channel, sender in [("telegram", "7"), ("wechat", OPENID), ("web", "failing-turn-web-0001")]:
        conversation = store.find_conversation(channel, sender)
        assert any(m.text == "坏引用" and m.author == "user" for m in store.last_messages(conversation.id, 10))


def test_a_staff_reply_the_platform_refuses_is_marked_undelivered_and_can_be_sent_again(
    client: TestClient, telegram: FakeTelegram
) -> None:
    from tests.channels.console.test_routes import add_staff, login

    assert client.post("/telegram/webhook", json=text_update(42, "/request_human"), headers={SECRET_HEADER: TG_SECRET})
    wait_until(lambda: any("转给工作人员" in c["text"] for c in telegram.calls_to("sendMessage")))
    add_staff(client, "wang")
    headers = {"X-CSRF-Token": login(client, "wang")}
    store = client.app.state.store  # type: ignore[attr-defined]
    ticket = store.open_ticket_for(store.find_conversation("telegram", "42").id)

    assert client.post(f"/console/api/tickets/{ticket.id}/take", json={}, headers=headers).status_code == 200
    telegram.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
    reply = {"text": "您好，我是热线的小王"}
    sent = client.post(f"/console/api/tickets/{ticket.id}/reply", json=reply, headers=headers)
    assert sent.status_code == 200
    transcript = client.get(f"/console/api/tickets/{ticket.id}").json()["transcript"]
    [mine] = [m for m in transcript if m["text"] == "您好，我是热线的小王"]
    assert mine["delivery"]["ok"] is False and "blocked" in mine["delivery"]["error"]

    again = client.post(f"/console/api/messages/{mine['id']}/retry", json={}, headers=headers).json()
    assert again["delivered"] is True
    assert telegram.calls_to("sendMessage")[-1]["text"] == "您好，我是热线的小王"
    transcript = client.get(f"/console/api/tickets/{ticket.id}").json()["transcript"]
    assert [m["delivery"]["ok"] for m in transcript if m["id"] == mine["id"]] == [True]
    assert client.post(f"/console/api/messages/{mine['id'] - 100}/retry", json={}, headers=headers).status_code == 404
