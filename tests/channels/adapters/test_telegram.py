from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import telegram.error
from fastapi import FastAPI
from pydantic import SecretStr, ValidationError

from channels.adapters.telegram import (
    DEFAULT_TEXTS,
    MAX_CALLBACK_BYTES,
    SECRET_HEADER,
    TelegramAdapter,
    TelegramNotRunningError,
    TelegramSettings,
    TelegramTexts,
    split_text,
)
from channels.pipeline.messages import BotTurn, Button, CitationOut, InboundMessage, Reply
from channels.shared.cache import LocalCache
from channels.store.keys import StoreKeys
from channels.store.store import Store
from tests.channels.adapters.fake_telegram import (
    MEDIA,
    TOKEN,
    FakeTelegram,
    callback_update,
    message_update,
    text_update,
)

SECRET = "s3cret-token_for-tests"
PROMPT = "请回复数字选择："
CHAT = 4242
ANSWER = Reply(
    text="可以申请事实无人抚养儿童基本生活补贴。",
    buttons=[Button(title="看具体规定", payload="/ask_details"), Button(title="转人工", payload="/request_human")],
    citations=[
        CitationOut(
            doc_id="mca-2019-62", doc_no="民发〔2019〕62号", title="关于进一步加强事实无人抚养儿童保障工作的意见"
        )
    ],
)
TEXTS = TelegramTexts.load()


class FakeTurns:
    """The shared turn handler: records every message and answers with ``replies``."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies) or [ANSWER]
        self.messages: list[InboundMessage] = []

    async def handle(self, message: InboundMessage) -> BotTurn:
        self.messages.append(message)
        return BotTurn(self.replies)

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.messages]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TOKEN", "WEBHOOK_SECRET", "MODE", "BASE_URL", "WEBHOOK_URL"):
        monkeypatch.delenv(f"TONGXIN_TELEGRAM_{name}", raising=False)


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def fake(fake_server: FakeTelegram) -> FakeTelegram:
    fake_server.reset()
    return fake_server


@pytest.fixture
def turns() -> FakeTurns:
    return FakeTurns()


def settings_for(fake: FakeTelegram, **overrides: Any) -> TelegramSettings:
    values: dict[str, Any] = {"token": TOKEN, "webhook_secret": SECRET, "base_url": fake.base_url, **overrides}
    return TelegramSettings(**values)


@pytest.fixture
async def adapter(fake: FakeTelegram, turns: FakeTurns) -> AsyncIterator[TelegramAdapter]:
    adapter = TelegramAdapter(turns, PROMPT, settings_for(fake))
    await adapter.start()
    yield adapter
    await adapter.stop()


def client_for(adapter: TelegramAdapter) -> httpx.AsyncClient:
    app = FastAPI()
    app.include_router(adapter.router())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def client(adapter: TelegramAdapter) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(adapter) as client:
        yield client


async def post(client: httpx.AsyncClient, update: dict[str, Any], secret: str | None = SECRET) -> httpx.Response:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return await client.post("/telegram/webhook", json=update, headers=headers)


def keyboard(sent: dict[str, Any]) -> list[tuple[str, str]]:
    return [(row[0]["text"], row[0]["callback_data"]) for row in sent["reply_markup"]["inline_keyboard"]]


# --- webhook ------------------------------------------------------------------------------


async def test_webhook_answers_with_text_citations_and_an_inline_keyboard(
    client: httpx.AsyncClient, fake: FakeTelegram, turns: FakeTurns
) -> None:
    response = await post(client, text_update(CHAT, "孩子爸爸坐牢了能申请什么补助"))

    assert response.status_code == 200
    assert response.json() == {"ok": True}
    [message] = turns.messages
    assert (message.channel, message.sender_id, message.text) == ("telegram", str(CHAT), "孩子爸爸坐牢了能申请什么补助")
    assert message.metadata == {"telegram_user": {"id": CHAT, "language_code": "zh-hans"}}
    [sent] = fake.calls_to("sendMessage")
    assert sent["chat_id"] == CHAT
    assert sent["text"] == (
        "可以申请事实无人抚养儿童基本生活补贴。\n"
        "📄 《关于进一步加强事实无人抚养儿童保障工作的意见》（民发〔2019〕62号）"
    )
    assert keyboard(sent) == [("看具体规定", "/ask_details"), ("转人工", "/request_human")]


@pytest.mark.parametrize("secret", [None, "", "wrong-secret-value-123", SECRET[:-1], SECRET + "x"])
async def test_wrong_or_missing_secret_is_403_and_nothing_is_handled(
    client: httpx.AsyncClient, fake: FakeTelegram, turns: FakeTurns, secret: str | None
) -> None:
    response = await post(client, text_update(CHAT, "你好"), secret=secret)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert turns.messages == []
    assert fake.calls_to("sendMessage") == []


async def test_a_non_ascii_secret_header_is_403_not_500(client: httpx.AsyncClient, turns: FakeTurns) -> None:
    response = await client.post(
        "/telegram/webhook", json=text_update(CHAT, "你好"), headers=[(SECRET_HEADER.encode(), "秘密".encode())]
    )

    assert response.status_code == 403
    assert turns.messages == []


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"",
        b"\xff\xfe",
        b"[1, 2]",
        b'"text"',
        b"{}",
        b'{"update_id": "1"}',
        b'{"update_id": true}',
        b'{"update_id": 1, "message": 5}',
        b'{"update_id": 1, "message": {"text": "hi"}}',
        b'{"update_id": 1, "callback_query": {"id": "1"}}',
    ],
)
async def test_a_malformed_body_is_400(client: httpx.AsyncClient, turns: FakeTurns, body: bytes) -> None:
    response = await client.post("/telegram/webhook", content=body, headers={SECRET_HEADER: SECRET})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_update"
    assert turns.messages == []


async def test_an_update_without_anything_to_handle_is_acknowledged(
    client: httpx.AsyncClient, fake: FakeTelegram
) -> None:
    response = await client.post("/telegram/webhook", json={"update_id": 1}, headers={SECRET_HEADER: SECRET})

    assert response.status_code == 200
    assert fake.calls_to("sendMessage") == []


async def test_webhook_before_start_is_503(fake: FakeTelegram, turns: FakeTurns) -> None:
    adapter = TelegramAdapter(turns, PROMPT, settings_for(fake))
    async with client_for(adapter) as client:
        response = await post(client, text_update(CHAT, "你好"))

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "channel_not_running"


# --- conversation -------------------------------------------------------------------------


async def test_a_button_press_is_answered_and_its_payload_handled(
    client: httpx.AsyncClient, fake: FakeTelegram, turns: FakeTurns
) -> None:
    update = callback_update(CHAT, "/ask_details")

    response = await post(client, update)

    assert response.status_code == 200
    assert [c["callback_query_id"] for c in fake.calls_to("answerCallbackQuery")] == [update["callback_query"]["id"]]
    assert turns.texts == ["/ask_details"]
    assert turns.messages[0].sender_id == str(CHAT)
    assert fake.calls_to("sendMessage")[0]["chat_id"] == CHAT


async def test_a_long_payload_gets_a_short_key_that_maps_back(fake: FakeTelegram) -> None:
    payload = '/inform{"situation": "父母一方服刑在押、另一方失联，孩子由祖父母照顾"}'
    turns = FakeTurns(Reply(text="请选择", buttons=[Button(title="是这种情况", payload=payload)]))
    adapter = TelegramAdapter(turns, PROMPT, settings_for(fake))
    await adapter.start()
    try:
        async with client_for(adapter) as client:
            await post(client, text_update(CHAT, "你好"))
            [(_, data)] = keyboard(fake.calls_to("sendMessage")[0])
            await post(client, callback_update(CHAT, data))
            await post(client, callback_update(CHAT, "#unknownKeyFromAnEarlierRun"))
    finally:
        await adapter.stop()

    assert len(payload.encode()) > MAX_CALLBACK_BYTES >= len(data.encode())
    assert turns.texts == ["你好", payload]
    assert fake.calls_to("sendMessage")[-1]["text"] == TEXTS.button_expired


async def test_a_button_minted_by_one_gateway_process_works_on_another(fake: FakeTelegram, database_url: str) -> None:
    """Two adapters on two connections to one store, as two gateway processes: the long payload's key and the
    numbered menu kept by the first are found by the second."""
    payload = '/inform{"situation": "父母一方服刑在押、另一方失联，孩子由祖父母照顾"}'
    minting = FakeTurns(Reply(text="请选择", buttons=[Button(title="是这种情况", payload=payload)]))
    other = FakeTurns()
    stores = [Store(database_url), Store(database_url)]
    stores[0].migrate()
    adapters = [TelegramAdapter(turns, PROMPT, settings_for(fake)) for turns in (minting, other)]
    for adapter, store in zip(adapters, stores, strict=True):
        adapter.attach(StoreKeys(store), LocalCache())
        await adapter.start()
    try:
        async with client_for(adapters[0]) as first, client_for(adapters[1]) as second:
            await post(first, text_update(CHAT, "你好"))
            [(_, data)] = keyboard(fake.calls_to("sendMessage")[0])
            await post(second, text_update(CHAT, "1"))
            await post(second, callback_update(CHAT, data))
    finally:
        for adapter, store in zip(adapters, stores, strict=True):
            await adapter.stop()
            store.close()
    assert other.texts == [payload, payload]


async def test_a_typed_number_picks_the_last_buttons_sent_to_that_chat(
    client: httpx.AsyncClient, turns: FakeTurns
) -> None:
    await post(client, text_update(CHAT, "1"))  # no buttons sent yet: stays "1"
    await post(client, text_update(CHAT, "２"))
    await post(client, text_update(CHAT + 1, "2"))  # another chat has no buttons

    assert turns.texts == ["1", "/request_human", "2"]


@pytest.mark.parametrize(
    ("command", "text"), [("/start", TEXTS.welcome), ("/help", TEXTS.help), ("/start@tongxin_test_bot", TEXTS.welcome)]
)
async def test_start_and_help_show_texts_with_menu_buttons(
    client: httpx.AsyncClient, fake: FakeTelegram, turns: FakeTurns, command: str, text: str
) -> None:
    await post(client, text_update(CHAT, command))

    [sent] = fake.calls_to("sendMessage")
    assert sent["text"] == text
    assert keyboard(sent) == [*((b.title, b.payload) for b in TEXTS.menu), (TEXTS.human_button, "/request_human")]
    assert turns.messages == []


async def test_welcome_buttons_can_be_picked_by_number(client: httpx.AsyncClient, turns: FakeTurns) -> None:
    await post(client, text_update(CHAT, "/start"))
    await post(client, text_update(CHAT, "1"))

    assert turns.texts == [TEXTS.menu[0].payload]


async def test_human_command_asks_for_a_person(client: httpx.AsyncClient, turns: FakeTurns) -> None:
    await post(client, text_update(CHAT, "/human"))

    assert turns.texts == ["/request_human"]


@pytest.mark.parametrize("kind", sorted(MEDIA))
async def test_media_gets_a_polite_text_only_reply(
    client: httpx.AsyncClient, fake: FakeTelegram, turns: FakeTurns, kind: str
) -> None:
    response = await post(client, message_update(CHAT, **MEDIA[kind]))

    assert response.status_code == 200
    [sent] = fake.calls_to("sendMessage")
    assert sent["text"] == TEXTS.unsupported_media
    assert keyboard(sent) == [(TEXTS.human_button, "/request_human")]
    assert turns.messages == []


async def test_group_chats_are_ignored(client: httpx.AsyncClient, fake: FakeTelegram, turns: FakeTurns) -> None:
    await post(client, text_update(-100123, "大家好", chat_type="group"))
    await post(client, message_update(-100123, "supergroup", **MEDIA["sticker"]))

    assert turns.messages == []
    assert fake.calls_to("sendMessage") == []


async def test_a_long_answer_is_split_with_buttons_on_the_last_piece(fake: FakeTelegram) -> None:
    turns = FakeTurns(Reply(text="政策条文。\n" * 1000, buttons=[Button(title="转人工", payload="/request_human")]))
    adapter = TelegramAdapter(turns, PROMPT, settings_for(fake))
    await adapter.start()
    try:
        async with client_for(adapter) as client:
            await post(client, text_update(CHAT, "全部规定"))
    finally:
        await adapter.stop()

    sent = fake.calls_to("sendMessage")
    assert len(sent) == 2
    assert all(len(s["text"]) <= 4096 for s in sent)
    assert "reply_markup" not in sent[0] and keyboard(sent[1]) == [("转人工", "/request_human")]


def test_split_text_counts_utf16_units_and_never_sends_blank_pieces() -> None:
    assert split_text("📄" * 3, limit=4) == ["📄📄", "📄"]
    assert split_text("ab\ncd\nef", limit=6) == ["ab\ncd", "ef"]
    assert split_text("\n\n  \n") == []
    assert split_text("短") == ["短"]


# --- push, lifecycle, polling ---------------------------------------------------------------


async def test_push_sends_to_the_chat(adapter: TelegramAdapter, fake: FakeTelegram) -> None:
    await adapter.push(str(CHAT), [Reply(text="您好，我是工作人员小李。")])

    [sent] = fake.calls_to("sendMessage")
    assert (sent["chat_id"], sent["text"]) == (CHAT, "您好，我是工作人员小李。")
    assert "reply_markup" not in sent


async def test_push_to_a_user_who_blocked_the_bot_raises(adapter: TelegramAdapter, fake: FakeTelegram) -> None:
    fake.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")

    with pytest.raises(telegram.error.Forbidden):
        await adapter.push(str(CHAT), [Reply(text="您好")])


async def test_push_before_start_raises(fake: FakeTelegram, turns: FakeTurns) -> None:
    adapter = TelegramAdapter(turns, PROMPT, settings_for(fake))

    with pytest.raises(TelegramNotRunningError):
        await adapter.push(str(CHAT), [Reply(text="您好")])


async def test_start_sets_the_webhook_with_the_secret(fake: FakeTelegram, turns: FakeTurns) -> None:
    adapter = TelegramAdapter(turns, PROMPT, settings_for(fake, webhook_url="https://bot.example.org/telegram/webhook"))
    await adapter.start()
    await adapter.stop()

    [call] = fake.calls_to("setWebhook")
    assert call["url"] == "https://bot.example.org/telegram/webhook"
    assert call["secret_token"] == SECRET
    assert call["allowed_updates"] == ["message", "callback_query"]
    assert fake.calls_to("getMe")
    assert not adapter.running


async def test_a_rejected_token_fails_start_and_leaves_the_adapter_stopped(
    fake: FakeTelegram, turns: FakeTurns
) -> None:
    fake.fail("getMe", 401, "Unauthorized")
    adapter = TelegramAdapter(turns, PROMPT, settings_for(fake))

    with pytest.raises(telegram.error.InvalidToken) as raised:
        await adapter.start()
    assert not adapter.running
    assert TOKEN.split(":")[1] not in str(raised.value) and raised.value.__cause__ is None


async def test_a_disabled_adapter_starts_as_a_no_op(turns: FakeTurns) -> None:
    adapter = TelegramAdapter(turns, PROMPT, TelegramSettings())

    await adapter.start()

    assert not adapter.settings.enabled and not adapter.running
    async with client_for(adapter) as client:
        assert (await post(client, text_update(CHAT, "你好"))).status_code == 403
    await adapter.stop()


async def test_polling_mode_answers_an_update_from_get_updates(fake: FakeTelegram, turns: FakeTurns) -> None:
    update = text_update(CHAT, "你好")
    fake.queue_update(update)
    settings = TelegramSettings(token=SecretStr(TOKEN), mode="polling", base_url=fake.base_url)
    adapter = TelegramAdapter(turns, PROMPT, settings)
    await adapter.start()
    try:
        [sent] = await fake.wait_for("sendMessage")
    finally:
        await adapter.stop()

    assert sent["chat_id"] == CHAT
    assert turns.texts == ["你好"]
    assert fake.calls_to("deleteWebhook")
    polls = fake.calls_to("getUpdates")
    assert polls[0]["allowed_updates"] == ["message", "callback_query"]
    assert polls[-1]["offset"] == update["update_id"] + 1  # confirmed on stop: not fetched again


# --- settings and texts -------------------------------------------------------------------


@pytest.mark.parametrize("secret", [None, "too-short", "has spaces in it 123", "ünïcödé-secret-value"])
def test_webhook_mode_needs_a_strong_secret(secret: str | None) -> None:
    with pytest.raises(ValidationError, match="TONGXIN_TELEGRAM_WEBHOOK_SECRET"):
        TelegramSettings(token=SecretStr(TOKEN), webhook_secret=SecretStr(secret) if secret else None)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TONGXIN_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("TONGXIN_TELEGRAM_MODE", "polling")

    settings = TelegramSettings()

    assert settings.enabled and settings.mode == "polling" and settings.webhook_secret is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"token": "paste-your-token-here"}, "TONGXIN_TELEGRAM_TOKEN"),
        ({"webhook_url": "http://bot.example.org/telegram/webhook"}, "TONGXIN_TELEGRAM_WEBHOOK_URL"),
    ],
)
def test_settings_reject_placeholders_and_plain_http(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        TelegramSettings(**{"token": TOKEN, "webhook_secret": SECRET, **overrides})


def test_texts_file_keys_are_validated(tmp_path: Path) -> None:
    broken = tmp_path / "telegram.zh.yml"
    broken.write_text(DEFAULT_TEXTS.read_text(encoding="utf-8").replace("welcome:", "welcom:"), encoding="utf-8")

    with pytest.raises(ValidationError, match="welcome"):
        TelegramTexts.load(broken)
