from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import xmltodict
from fastapi import FastAPI
from pydantic import SecretStr, ValidationError
from wechatpy.crypto import WeChatCrypto

from channels.adapters.wechat import adapter as wechat
from channels.adapters.wechat.adapter import WeChatAdapter
from channels.adapters.wechat.api import WeChatApiError
from channels.adapters.wechat.message import WeChatMessage, parse
from channels.adapters.wechat.settings import WeChatSettings, WeChatTexts
from channels.adapters.wechat.text import MAX_TEXT_BYTES, pack
from channels.pipeline.messages import BotTurn, Button, CitationOut, InboundMessage, Reply
from channels.shared.cache import LocalCache
from channels.store.keys import MemoryKeys
from tests.channels.adapters.fake_wechat import FakeWeChatApi

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "wechat"
TOKEN = "tongxinTestToken2024"
APP_ID = "wx5823bf96d3bd56c7"
APP_SECRET = "3f1c6a9e0b7d4c2a8e5f1b9d7c3a6e0f"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
OPENID = "oia2TjjewbmiOUlr6X-1crbLOvLw"
ACCOUNT = "gh_7f083739789a"
PROMPT = "请回复数字选择："


class FakeTurns:
    """A TurnHandler that records messages and answers with fixed replies, after ``delay`` seconds."""

    def __init__(self, *replies: Reply, delay: float = 0.0) -> None:
        self.replies = list(replies) or [Reply(text="好的")]
        self.delay = delay
        self.messages: list[InboundMessage] = []

    async def handle(self, message: InboundMessage) -> BotTurn:
        self.messages.append(message)
        await asyncio.sleep(self.delay)
        return BotTurn(list(self.replies))


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def signed(timestamp: str | None = None, nonce: str = "1320562132", token: str = TOKEN) -> dict[str, str]:
    timestamp = timestamp or str(int(time.time()))
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce, "openid": OPENID}


def text_xml(content: str, msg_id: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        f"<CreateTime>1718000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def reply_of(resp: httpx.Response) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/xml")
    parsed: dict[str, Any] = xmltodict.parse(resp.text)["xml"]
    return parsed


@pytest.fixture(autouse=True)
def _no_wechat_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TOKEN", "APP_ID", "APP_SECRET", "AES_KEY", "API_BASE_URL", "REPLY_DEADLINE_S"):
        monkeypatch.delenv(f"TONGXIN_WECHAT_{name}", raising=False)


@pytest.fixture(scope="module")
def wechat_api_server() -> Iterator[FakeWeChatApi]:
    with FakeWeChatApi(APP_ID, APP_SECRET) as api:
        yield api


@pytest.fixture
def wechat_api(wechat_api_server: FakeWeChatApi) -> FakeWeChatApi:
    wechat_api_server.reset()
    return wechat_api_server


Make = Callable[..., Awaitable[tuple[WeChatAdapter, httpx.AsyncClient]]]


@pytest.fixture
async def make(wechat_api: FakeWeChatApi) -> AsyncIterator[Make]:
    opened: list[tuple[WeChatAdapter, httpx.AsyncClient, httpx.AsyncClient]] = []

    async def build(handler: FakeTurns | None = None, **overrides: Any) -> tuple[WeChatAdapter, httpx.AsyncClient]:
        settings = WeChatSettings(
            **{"token": TOKEN, "app_id": APP_ID, "app_secret": APP_SECRET, "api_base_url": wechat_api.url, **overrides}
        )
        http = httpx.AsyncClient(trust_env=False)  # the fake API over real loopback HTTP
        adapter = WeChatAdapter(handler or FakeTurns(), PROMPT, settings, http=http)
        await adapter.start()
        app = FastAPI()
        app.include_router(adapter.router())
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")
        opened.append((adapter, client, http))
        return adapter, client

    yield build
    for adapter, client, http in opened:
        await adapter.stop()
        await client.aclose()
        await http.aclose()


# -- settings and texts ------------------------------------------------------------------------------


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TONGXIN_WECHAT_TOKEN", TOKEN)
    monkeypatch.setenv("TONGXIN_WECHAT_APP_ID", APP_ID)
    monkeypatch.setenv("TONGXIN_WECHAT_APP_SECRET", APP_SECRET)
    monkeypatch.setenv("TONGXIN_WECHAT_AES_KEY", "")
    settings = WeChatSettings()
    assert settings.enabled and settings.aes_key is None
    assert APP_SECRET not in repr(settings)


def test_settings_are_off_without_credentials() -> None:
    settings = WeChatSettings()
    assert not settings.enabled
    with pytest.raises(ValueError, match="TONGXIN_WECHAT_TOKEN"):
        WeChatAdapter(FakeTurns(), PROMPT, settings)


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ({"token": TOKEN}, "TONGXIN_WECHAT_APP_ID, TONGXIN_WECHAT_APP_SECRET"),
        ({"token": TOKEN, "app_id": APP_ID, "app_secret": "  "}, "TONGXIN_WECHAT_APP_SECRET"),
        ({"aes_key": AES_KEY}, "half-configured"),
        ({"token": "changeme", "app_id": APP_ID, "app_secret": APP_SECRET}, "placeholder"),
        ({"token": TOKEN, "app_id": APP_ID, "app_secret": APP_SECRET, "aes_key": "short"}, "EncodingAESKey"),
        ({"token": TOKEN, "app_id": APP_ID, "app_secret": APP_SECRET, "reply_deadline_s": 5}, "less than 5"),
    ],
)
def test_half_or_bad_configuration_fails_fast(values: dict[str, Any], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        WeChatSettings(**values)


def test_texts_file_is_complete_and_strict(tmp_path: Path) -> None:
    texts = WeChatTexts.load()
    assert texts.welcome and texts.unsupported_message and texts.turn_failed
    assert texts.welcome_options[0].payload == "/check_eligibility"
    bad = tmp_path / "wechat.zh.yml"
    bad.write_text("welcome: hi\nunsupported_message: x\nturn_failed: y\nwelcom_options: []\n", encoding="utf-8")
    with pytest.raises(ValidationError):
        WeChatTexts.load(bad)


# -- parsing (a pure function) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "text.xml",
            WeChatMessage("text", OPENID, ACCOUNT, 1718000000, 24612345678901234, "什么是事实无人抚养儿童", ""),
        ),
        (
            "voice_recognition.xml",
            WeChatMessage("voice", OPENID, ACCOUNT, 1718000060, 24612345678901235, "孤儿基本生活费每个月有多少", ""),
        ),
        ("voice_no_recognition.xml", WeChatMessage("voice", OPENID, ACCOUNT, 1718000120, 24612345678901236, "", "")),
        ("image.xml", WeChatMessage("image", OPENID, ACCOUNT, 1718000180, 24612345678901237, "", "")),
        ("subscribe.xml", WeChatMessage("event", OPENID, ACCOUNT, 1718000240, 0, "", "subscribe")),
    ],
)
def test_parse_recorded_payloads(name: str, expected: WeChatMessage) -> None:
    assert parse(fixture(name)) == expected


def test_dedup_keys_use_msgid_or_sender_and_time() -> None:
    assert parse(fixture("text.xml")).dedup_key == "msg:24612345678901234"
    assert parse(fixture("subscribe.xml")).dedup_key == f"event:{OPENID}:1718000240:subscribe"


# -- verification ------------------------------------------------------------------------------------


async def test_url_verification_echoes_echostr(make: Make) -> None:
    _, client = await make()
    resp = await client.get("/wechat", params={**signed(), "echostr": "5837397520665436492"})
    assert resp.status_code == 200
    assert resp.text == "5837397520665436492" and resp.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {**signed(), "signature": "0" * 40, "echostr": "1"},
        {**signed(token="another-token"), "echostr": "1"},
        {"timestamp": "1718000000", "nonce": "1", "echostr": "1"},
        signed(),
        {},
    ],
)
async def test_url_verification_refuses_bad_or_missing_signatures(make: Make, params: dict[str, str]) -> None:
    _, client = await make()
    resp = await client.get("/wechat", params=params)
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "invalid_signature"


@pytest.mark.parametrize("params", [{**signed(), "signature": "f" * 40}, signed(token="another-token"), {}])
async def test_post_with_a_bad_signature_is_refused_before_the_handler(make: Make, params: dict[str, str]) -> None:
    turns = FakeTurns()
    _, client = await make(turns)
    resp = await client.post("/wechat", params=params, content=fixture("text.xml"))
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "invalid_signature"
    assert turns.messages == []


# -- messages ----------------------------------------------------------------------------------------


async def test_text_round_trip_is_a_passive_reply(make: Make) -> None:
    turns = FakeTurns(
        Reply(
            text="事实无人抚养儿童是指父母双方均符合重残、重病等情形的儿童。",
            citations=[
                CitationOut(
                    doc_id="d1", doc_no="民发〔2019〕62号", title="关于进一步加强事实无人抚养儿童保障工作的意见"
                )
            ],
        ),
        Reply(text="还想了解什么？", buttons=[Button(title="申请条件", payload="/ask_conditions")]),
    )
    _, client = await make(turns)
    reply = reply_of(await client.post("/wechat", params=signed(), content=fixture("text.xml")))
    assert turns.messages == [InboundMessage("wechat", OPENID, "什么是事实无人抚养儿童")]
    assert reply["ToUserName"] == OPENID and reply["FromUserName"] == ACCOUNT
    assert reply["MsgType"] == "text" and int(reply["CreateTime"]) > 0
    content = reply["Content"]
    assert content.startswith("事实无人抚养儿童是指")
    assert "📄 《关于进一步加强事实无人抚养儿童保障工作的意见》（民发〔2019〕62号）" in content
    assert content.endswith(f"还想了解什么？\n{PROMPT}\n1. 申请条件")


async def test_voice_uses_wechat_speech_recognition(make: Make) -> None:
    turns = FakeTurns(Reply(text="孤儿基本生活保障标准由各省确定。"))
    _, client = await make(turns)
    reply = reply_of(await client.post("/wechat", params=signed(), content=fixture("voice_recognition.xml")))
    assert turns.messages == [InboundMessage("wechat", OPENID, "孤儿基本生活费每个月有多少")]
    assert reply["Content"] == "孤儿基本生活保障标准由各省确定。"


@pytest.mark.parametrize("name", ["voice_no_recognition.xml", "image.xml"])
async def test_unsupported_messages_get_a_polite_reply(make: Make, name: str) -> None:
    turns = FakeTurns()
    adapter, client = await make(turns)
    reply = reply_of(await client.post("/wechat", params=signed(), content=fixture(name)))
    assert reply["Content"] == adapter.texts.unsupported_message
    assert reply["ToUserName"] == OPENID
    assert turns.messages == []


async def test_location_and_link_messages_get_the_polite_reply_too(make: Make) -> None:
    adapter, client = await make()
    for i, body in enumerate(
        [
            "<Location_X>23.1</Location_X><Location_Y>113.3</Location_Y><Label>x</Label>",
            "<Title>t</Title><Description>d</Description><Url>http://example.org</Url>",
        ]
    ):
        kind = ["location", "link"][i]
        xml = (
            f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{OPENID}</FromUserName><CreateTime>1</CreateTime>"
            f"<MsgType>{kind}</MsgType>{body}<MsgId>{900 + i}</MsgId></xml>"
        )
        reply = reply_of(await client.post("/wechat", params=signed(), content=xml))
        assert reply["Content"] == adapter.texts.unsupported_message


async def test_subscribe_gets_the_welcome_with_numbered_options(make: Make) -> None:
    turns = FakeTurns()
    adapter, client = await make(turns)
    reply = reply_of(await client.post("/wechat", params=signed(), content=fixture("subscribe.xml")))
    options = adapter.texts.welcome_options
    assert reply["Content"] == "\n".join(
        [adapter.texts.welcome, PROMPT, *(f"{i}. {o.title}" for i, o in enumerate(options, 1))]
    )
    assert turns.messages == []

    resp = await client.post("/wechat", params=signed(), content=text_xml("２", 700))
    assert turns.messages == [InboundMessage("wechat", OPENID, options[1].payload)]
    assert resp.status_code == 200


async def test_other_events_are_acknowledged_with_success(make: Make) -> None:
    turns = FakeTurns()
    _, client = await make(turns)
    for i, event in enumerate(["unsubscribe", "CLICK", "TEMPLATESENDJOBFINISH", "some_future_event"]):
        xml = fixture("subscribe.xml").replace("[subscribe]", f"[{event}]").replace("1718000240", str(i))
        resp = await client.post("/wechat", params=signed(), content=xml)
        assert resp.status_code == 200 and resp.text == "success"
    assert turns.messages == []


async def test_a_qr_code_follow_is_welcomed_too(make: Make) -> None:
    adapter, client = await make()
    xml = fixture("subscribe.xml").replace("<EventKey><![CDATA[]]>", "<EventKey><![CDATA[qrscene_123]]>")
    xml = xml.replace("</xml>", "<Ticket><![CDATA[TICKET]]></Ticket></xml>")
    reply = reply_of(await client.post("/wechat", params=signed(), content=xml))
    assert reply["Content"].startswith(adapter.texts.welcome)


async def test_a_typed_number_picks_the_last_numbered_option(make: Make) -> None:
    turns = FakeTurns(
        Reply(
            text="您想了解哪一项？",
            buttons=[
                Button(title="申请条件", payload="/ask_conditions"),
                Button(title="办理地点", payload="/ask_where"),
            ],
        )
    )
    _, client = await make(turns)
    await client.post("/wechat", params=signed(), content=text_xml("孤儿政策", 1))
    await client.post("/wechat", params=signed(), content=text_xml("1", 2))
    await client.post("/wechat", params=signed(), content=text_xml("7", 3))  # no option 7: stays text
    assert [m.text for m in turns.messages] == ["孤儿政策", "/ask_conditions", "7"]

    turns.replies = [Reply(text="好的")]  # a reply without options: "1" is just text again
    await client.post("/wechat", params=signed(), content=text_xml("2", 4))
    await client.post("/wechat", params=signed(), content=text_xml("1", 5))
    assert [m.text for m in turns.messages][-2:] == ["/ask_where", "1"]


async def test_reply_text_cannot_break_out_of_cdata(make: Make) -> None:
    _, client = await make(FakeTurns(Reply(text="a]]><MsgType>news</MsgType>b")))
    reply = reply_of(await client.post("/wechat", params=signed(), content=fixture("text.xml")))
    assert reply["Content"] == "a]]><MsgType>news</MsgType>b" and reply["MsgType"] == "text"


# -- the 5-second rule and retries -------------------------------------------------------------------


async def test_slow_turn_answers_success_then_sends_through_customer_service(
    make: Make, wechat_api: FakeWeChatApi
) -> None:
    turns = FakeTurns(
        Reply(text="第一段回答"),
        Reply(text="请选择", buttons=[Button(title="转人工", payload="/request_human")]),
        delay=0.5,
    )
    _, client = await make(turns, reply_deadline_s=0.2)
    started = time.monotonic()
    resp = await client.post("/wechat", params=signed(), content=fixture("text.xml"))
    assert resp.status_code == 200 and resp.text == "success"
    assert time.monotonic() - started < 0.45

    sent = await wechat_api.wait_for_sent(2)
    assert sent == [
        {"touser": OPENID, "msgtype": "text", "text": {"content": "第一段回答"}},
        {"touser": OPENID, "msgtype": "text", "text": {"content": f"请选择\n{PROMPT}\n1. 转人工"}},
    ]
    assert len(wechat_api.token_calls) == 1
    assert wechat_api.token_calls[0].query == {"grant_type": "client_credential", "appid": APP_ID, "secret": APP_SECRET}
    assert "第一段回答".encode() in wechat_api.calls[1].body  # UTF-8, not \\u escapes WeChat would show


def test_pack_fills_the_passive_reply_and_leaves_the_rest_whole() -> None:
    assert pack(["答复一", "答复二"]) == ("答复一\n\n答复二", [])
    long_answer = "\n".join(f"第{i}条：" + "政策内容" * 40 for i in range(12))  # about 5,900 bytes
    passive, rest = pack([long_answer, "还想了解什么？"])
    assert len(passive.encode("utf-8")) <= MAX_TEXT_BYTES and rest
    assert all(len(piece.encode("utf-8")) <= MAX_TEXT_BYTES for piece in rest)
    assert "\n".join([passive, *rest]).replace("\n\n", "\n") == long_answer + "\n还想了解什么？"


async def test_a_long_answer_is_split_between_the_passive_reply_and_customer_service(
    make: Make, wechat_api: FakeWeChatApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wechat, "OVERFLOW_DELAY_S", 0.0)
    long_answer = "\n".join(f"第{i}条：" + "事实无人抚养儿童" * 20 for i in range(10))
    _, client = await make(FakeTurns(Reply(text=long_answer)))
    content = reply_of(await client.post("/wechat", params=signed(), content=fixture("text.xml")))["Content"]
    assert len(content.encode("utf-8")) <= MAX_TEXT_BYTES
    sent = await wechat_api.wait_for_sent(2)
    pushed = [m["text"]["content"] for m in sent]
    assert all(len(p.encode("utf-8")) <= MAX_TEXT_BYTES for p in pushed)
    assert "\n".join([content, *pushed]) == long_answer


async def test_duplicate_msgid_is_handled_once(make: Make) -> None:
    turns = FakeTurns(Reply(text="答复"))
    _, client = await make(turns)
    first = await client.post("/wechat", params=signed(), content=fixture("text.xml"))
    assert reply_of(first)["Content"] == "答复"
    for _ in range(3):
        again = await client.post("/wechat", params=signed(), content=fixture("text.xml"))
        assert again.status_code == 200 and again.text == "success"
    assert len(turns.messages) == 1


async def test_a_retry_during_the_turn_waits_for_the_same_answer(make: Make) -> None:
    turns = FakeTurns(Reply(text="答复"), delay=0.3)
    _, client = await make(turns, reply_deadline_s=2.0)
    responses = await asyncio.gather(
        *(client.post("/wechat", params=signed(), content=fixture("text.xml")) for _ in range(2))
    )
    bodies = sorted(r.text for r in responses)
    assert bodies[1] == "success" and "答复" in bodies[0]
    assert len(turns.messages) == 1


async def test_retries_of_a_slow_turn_deliver_the_answer_once(make: Make, wechat_api: FakeWeChatApi) -> None:
    turns = FakeTurns(Reply(text="慢回答"), delay=0.5)
    _, client = await make(turns, reply_deadline_s=0.1)
    for _ in range(3):
        resp = await client.post("/wechat", params=signed(), content=fixture("text.xml"))
        assert resp.text == "success"
    await wechat_api.wait_for_sent(1)
    await asyncio.sleep(0.3)
    assert len(wechat_api.sent) == 1 and len(turns.messages) == 1


async def test_a_retry_after_the_deadline_still_gets_the_answer_exactly_once(
    make: Make, wechat_api: FakeWeChatApi
) -> None:
    turns = FakeTurns(Reply(text="稍慢的回答"), delay=0.3)
    _, client = await make(turns, reply_deadline_s=0.2)
    first = await client.post("/wechat", params=signed(), content=fixture("text.xml"))
    assert first.text == "success"
    retry = await client.post("/wechat", params=signed(), content=fixture("text.xml"))  # ready during its wait
    await asyncio.sleep(0.5)
    passive = [retry] if retry.text != "success" else []
    assert len(passive) + len(wechat_api.sent) == 1
    assert "稍慢的回答" in (reply_of(passive[0])["Content"] if passive else wechat_api.sent[0]["text"]["content"])
    assert len(turns.messages) == 1


async def test_duplicate_events_are_told_apart_by_sender_and_time(make: Make) -> None:
    adapter, client = await make()
    first = await client.post("/wechat", params=signed(), content=fixture("subscribe.xml"))
    again = await client.post("/wechat", params=signed(), content=fixture("subscribe.xml"))
    later_xml = fixture("subscribe.xml").replace("1718000240", "1718009999")
    later = await client.post("/wechat", params=signed(), content=later_xml)
    assert adapter.texts.welcome in reply_of(first)["Content"]
    assert again.text == "success"
    assert adapter.texts.welcome in reply_of(later)["Content"]


# -- hostile or broken bodies ------------------------------------------------------------------------


async def test_entity_bomb_is_refused_before_parsing(make: Make) -> None:
    turns = FakeTurns()
    _, client = await make(turns)
    resp = await client.post("/wechat", params=signed(), content=fixture("entity_bomb.xml"))
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "forbidden_xml"
    external = '<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + text_xml("&x;", 5)
    resp = await client.post("/wechat", params=signed(), content=external)
    assert resp.status_code == 400
    assert turns.messages == []


async def test_oversize_body_is_413(make: Make) -> None:
    turns = FakeTurns()
    _, client = await make(turns)
    resp = await client.post("/wechat", params=signed(), content=text_xml("孩" * 30_000, 6))
    assert resp.status_code == 413 and resp.json()["error"]["code"] == "too_large"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit holds while streaming
        for _ in range(10):
            yield b"<!-- " + b"x" * 8000 + b" -->"

    resp = await client.post("/wechat", params=signed(), content=chunks())
    assert resp.status_code == 413
    assert turns.messages == []


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml at all",
        b"<xml><ToUserName>a</ToUserName>",
        b"<xml>just text</xml>",
        b"<other><MsgType>text</MsgType></other>",
        b"<xml><MsgType>text</MsgType><Content>hi</Content></xml>",
        b"<xml><MsgType><a>1</a></MsgType><FromUserName>u</FromUserName></xml>",
        b"<xml><ToUserName>a</ToUserName><FromUserName>u</FromUserName><CreateTime>x</CreateTime>"
        b"<MsgType>text</MsgType><Content>hi</Content><MsgId>abc</MsgId></xml>",
        "<xml><MsgType>text</MsgType></xml>".encode("utf-16"),
    ],
)
async def test_malformed_xml_is_a_400_never_a_500(make: Make, body: bytes) -> None:
    turns = FakeTurns()
    _, client = await make(turns)
    resp = await client.post("/wechat", params=signed(), content=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["code"] in {"invalid_xml", "forbidden_xml"}
    assert turns.messages == []


# -- safe mode ---------------------------------------------------------------------------------------


async def test_safe_mode_round_trip(make: Make) -> None:
    turns = FakeTurns(Reply(text="加密通道的回答"))
    _, client = await make(turns, aes_key=AES_KEY)
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    params = signed(nonce="461243")
    envelope = xmltodict.parse(crypto.encrypt_message(fixture("text.xml"), params["nonce"], params["timestamp"]))["xml"]
    body = (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
    )
    resp = await client.post(
        "/wechat", content=body, params={**params, "encrypt_type": "aes", "msg_signature": envelope["MsgSignature"]}
    )

    assert turns.messages == [InboundMessage("wechat", OPENID, "什么是事实无人抚养儿童")]
    encrypted = reply_of(resp)
    assert "Content" not in encrypted and encrypted["Nonce"] == "461243"
    plain = crypto.decrypt_message(resp.text, encrypted["MsgSignature"], encrypted["TimeStamp"], encrypted["Nonce"])
    reply = xmltodict.parse(plain)["xml"]
    assert reply["Content"] == "加密通道的回答"
    assert reply["ToUserName"] == OPENID and reply["FromUserName"] == ACCOUNT


async def test_safe_mode_refuses_plain_or_forged_messages(make: Make) -> None:
    turns = FakeTurns()
    _, client = await make(turns, aes_key=AES_KEY)
    params = signed()
    resp = await client.post("/wechat", params=params, content=fixture("text.xml"))
    assert resp.status_code == 403  # no msg_signature: no downgrade to plain mode

    forged = WeChatCrypto(TOKEN, "A" * 43, APP_ID)  # someone without our EncodingAESKey
    envelope = xmltodict.parse(forged.encrypt_message(fixture("text.xml"), params["nonce"], params["timestamp"]))["xml"]
    body = f"<xml><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
    resp = await client.post("/wechat", content=body, params={**params, "msg_signature": "0" * 40})
    assert resp.status_code == 403
    resp = await client.post("/wechat", content=body, params={**params, "msg_signature": envelope["MsgSignature"]})
    assert resp.status_code == 400  # signed with the token, but not decryptable with our key
    assert turns.messages == []


# -- push (hotline staff replies) and the access token -----------------------------------------------


async def test_push_sends_each_reply_and_remembers_its_options(make: Make, wechat_api: FakeWeChatApi) -> None:
    turns = FakeTurns()
    adapter, client = await make(turns)
    await adapter.push(
        OPENID,
        [
            Reply(text="您好，我是工作人员小李。"),
            Reply(text="需要上门吗？", buttons=[Button(title="需要", payload="/affirm")]),
        ],
    )
    assert [m["text"]["content"] for m in wechat_api.sent] == [
        "您好，我是工作人员小李。",
        f"需要上门吗？\n{PROMPT}\n1. 需要",
    ]
    assert len(wechat_api.token_calls) == 1
    await client.post("/wechat", params=signed(), content=text_xml("1", 42))
    assert turns.messages[-1].text == "/affirm"


async def test_an_invalidated_token_is_refreshed_once(make: Make, wechat_api: FakeWeChatApi) -> None:
    adapter, _ = await make()
    await adapter.push(OPENID, [Reply(text="一")])
    wechat_api.invalidate_token()
    await adapter.push(OPENID, [Reply(text="二")])
    assert [m["text"]["content"] for m in wechat_api.sent] == ["一", "二"]
    assert len(wechat_api.token_calls) == 2


async def test_the_token_is_refreshed_before_it_expires(make: Make, wechat_api: FakeWeChatApi) -> None:
    adapter, _ = await make()
    wechat_api.expires_in = 1  # refreshed after half of it
    await adapter.push(OPENID, [Reply(text="一")])
    await adapter.push(OPENID, [Reply(text="二")])
    assert len(wechat_api.token_calls) == 1
    await asyncio.sleep(0.6)
    await adapter.push(OPENID, [Reply(text="三")])
    assert len(wechat_api.token_calls) == 2 and len(wechat_api.sent) == 3


async def test_push_raises_when_wechat_refuses(make: Make, wechat_api: FakeWeChatApi) -> None:
    adapter, _ = await make()
    wechat_api.send_errcodes.append(45015)  # the user has not written within 48 hours
    with pytest.raises(WeChatApiError) as info:
        await adapter.push(OPENID, [Reply(text="您好")])
    assert info.value.errcode == 45015


async def test_wrong_app_secret_is_an_api_error_without_the_secret(make: Make) -> None:
    adapter, _ = await make(app_secret="0" * 32)
    with pytest.raises(WeChatApiError) as info:
        await adapter.push(OPENID, [Reply(text="您好")])
    assert info.value.errcode == 40125 and "0" * 32 not in str(info.value)


async def test_credentials_never_reach_the_logs(make: Make, caplog: pytest.LogCaptureFixture) -> None:
    adapter, _ = await make()
    with caplog.at_level(logging.INFO, logger="httpx"):
        await adapter.push(OPENID, [Reply(text="您好")])
    assert "cgi-bin/token" in caplog.text
    assert APP_SECRET not in caplog.text and "ACCESS_TOKEN_" not in caplog.text


async def test_default_http_client_is_opened_in_start_and_closed_in_stop(wechat_api: FakeWeChatApi) -> None:
    settings = WeChatSettings(
        token=SecretStr(TOKEN), app_id=APP_ID, app_secret=SecretStr(APP_SECRET), api_base_url=wechat_api.url
    )
    adapter = WeChatAdapter(FakeTurns(), PROMPT, settings)
    with pytest.raises(RuntimeError, match="start"):
        await adapter.push(OPENID, [Reply(text="您好")])
    await adapter.start()
    try:
        await adapter.push(OPENID, [Reply(text="您好")])
    finally:
        await adapter.stop()
    assert len(wechat_api.sent) == 1


# -- several gateway processes -------------------------------------------------------------------------


async def test_processes_share_one_access_token_fetched_once(make: Make, wechat_api: FakeWeChatApi) -> None:
    cache, keys = LocalCache(), MemoryKeys()  # what Redis and the store are to several processes
    adapters = [(await make())[0] for _ in range(3)]
    for adapter in adapters:
        adapter.attach(keys, cache)
    await asyncio.gather(*(a.push(OPENID, [Reply(text=f"第{i}条")]) for i, a in enumerate(adapters)))
    assert len(wechat_api.token_calls) == 1 and len(wechat_api.sent) == 3
    wechat_api.invalidate_token()  # one process finds it refused: one new token, which the others then use
    await adapters[0].push(OPENID, [Reply(text="四")])
    await adapters[1].push(OPENID, [Reply(text="五")])
    assert len(wechat_api.token_calls) == 2 and len(wechat_api.sent) == 5


async def test_a_retry_reaching_another_process_is_answered_once(make: Make, wechat_api: FakeWeChatApi) -> None:
    keys = MemoryKeys()  # the store both processes use
    turns = FakeTurns(Reply(text="答复"), delay=0.5)
    (first, client_a), (second, client_b) = await make(turns), await make(turns)
    for adapter in (first, second):
        adapter.attach(keys, LocalCache())
    xml = text_xml("什么是事实无人抚养儿童", 777)
    original = asyncio.create_task(client_a.post("/wechat", params=signed(), content=xml))
    await asyncio.sleep(0.1)
    retry = await client_b.post("/wechat", params=signed(), content=xml)
    responses = [await original, retry]
    await asyncio.sleep(0.2)
    passive = [r for r in responses if r.text != "success"]
    assert len(turns.messages) == 1  # handled by one process
    assert len(passive) + len(wechat_api.sent) == 1  # and answered once
