"""The WeChat Official Account channel: ``GET/POST /wechat`` (verify → parse → hand off → render).

WeChat waits 5 seconds for a passive reply and retries a message it got no answer for. A turn that is
done within ``reply_deadline_s`` is answered passively (one text reply XML); a slower one is answered
``success`` at once and its replies follow through the customer-service API. Each message is handled
once, however often WeChat delivers it. Safe mode (``aes_key``) decrypts messages and encrypts replies.
A text message holds at most 2048 UTF-8 bytes: a longer answer goes out in pieces, the first passively
and the rest through the customer-service API.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import re
import struct
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from xml.parsers.expat import ExpatError

import httpx
import xmltodict
import yaml
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from channels.base import ChannelAdapter, TurnHandler, choose
from channels.errors import error_body
from channels.messages import Button, InboundMessage, Reply, split_text

logger = logging.getLogger(__name__)

DEFAULT_TEXTS = Path(__file__).resolve().parent / "data" / "wechat.zh.yml"
MAX_BODY_BYTES = 64 * 1024
SUCCESS = "success"  # WeChat's "received, nothing to say now, do not retry"
# WeChat drops a longer text reply and shows "该公众号暂时无法提供服务" instead.
MAX_TEXT_BYTES = 2048
# The passive reply reaches the user only after our HTTP response; pieces pushed sooner would overtake it.
OVERFLOW_DELAY_S = 1.0
_DECLARATION = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_TOKEN_ERRORS = frozenset({40001, 40014, 42001})  # invalid / expired access_token: refresh once and retry
_PLACEHOLDERS = frozenset({"changeme", "change-me", "secret", "token", "xxx"})


class WeChatSettings(BaseSettings):
    """``TONGXIN_WECHAT_*``; the channel is on when token, app_id and app_secret are all set."""

    model_config = SettingsConfigDict(env_prefix="TONGXIN_WECHAT_", extra="ignore")

    token: SecretStr | None = None
    app_id: str | None = None
    app_secret: SecretStr | None = None
    aes_key: SecretStr | None = None  # the EncodingAESKey of safe mode (43 characters)
    api_base_url: str = "https://api.weixin.qq.com"
    reply_deadline_s: float = Field(default=4.0, gt=0, lt=5)  # WeChat gives up after 5 s

    @field_validator("token", "app_id", "app_secret", "aes_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _complete_or_absent(self) -> WeChatSettings:
        given = {"token": self.token, "app_id": self.app_id, "app_secret": self.app_secret}
        missing = [f"TONGXIN_WECHAT_{name.upper()}" for name, value in given.items() if value is None]
        if missing and (len(missing) < len(given) or self.aes_key is not None):
            raise ValueError(f"the WeChat channel is half-configured: set {', '.join(missing)} too, or unset all")
        for name in ("token", "app_secret"):
            secret = getattr(self, name)
            if secret is not None and secret.get_secret_value().strip().lower() in _PLACEHOLDERS:
                raise ValueError(f"TONGXIN_WECHAT_{name.upper()} is a placeholder, not a real secret")
        if self.aes_key is not None and not _is_aes_key(self.aes_key.get_secret_value()):
            raise ValueError("TONGXIN_WECHAT_AES_KEY must be the 43-character EncodingAESKey")
        return self

    @property
    def enabled(self) -> bool:
        return self.token is not None and self.app_id is not None and self.app_secret is not None


def _is_aes_key(key: str) -> bool:
    try:
        return len(key) == 43 and len(base64.b64decode(key + "=", validate=True)) == 32
    except binascii.Error:
        return False


class WeChatTexts(BaseModel):
    """The channel's own texts, from ``data/wechat.zh.yml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    welcome: str = Field(min_length=1)
    welcome_options: list[Button] = Field(min_length=1, max_length=9)
    unsupported_message: str = Field(min_length=1)
    turn_failed: str = Field(min_length=1)

    @classmethod
    def load(cls, path: Path = DEFAULT_TEXTS) -> WeChatTexts:
        return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


class WeChatApiError(Exception):
    """The WeChat API refused or failed a call (``errcode`` -1: no usable answer at all)."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode, self.errmsg = errcode, errmsg


class _Rejected(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def safe_xml(body: bytes) -> str:
    """The body as text, refused before any parsing when it is not UTF-8 or declares a DTD or entities."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _Rejected(400, "invalid_xml", "the body is not UTF-8 XML") from None
    if _DECLARATION.search(text):
        raise _Rejected(400, "forbidden_xml", "DOCTYPE and ENTITY declarations are not accepted")
    return text


@dataclass(frozen=True)
class WeChatMessage:
    """The fields of a pushed message or event the channel uses."""

    kind: str  # MsgType, lower case: text, voice, image, event, ...
    openid: str  # FromUserName: the user
    account: str  # ToUserName: the Official Account
    created: int  # CreateTime
    msg_id: int  # MsgId; 0 for events
    text: str  # Content of a text message, Recognition of a voice message; "" otherwise
    event: str  # Event, lower case; "" for messages

    @property
    def dedup_key(self) -> str:
        """WeChat retries with the same MsgId; events have none and are told apart by sender and time."""
        return f"msg:{self.msg_id}" if self.msg_id else f"event:{self.openid}:{self.created}:{self.event}"


def parse(xml: str) -> WeChatMessage:
    """The message in a (DTD-free) body; anything malformed raises a 400 rejection, never a 500."""
    try:
        root = xmltodict.parse(xml)  # entity declarations are refused here too (disable_entities)
    except (ExpatError, ValueError):
        raise _Rejected(400, "invalid_xml", "the body is not well-formed XML") from None
    fields = root.get("xml") if isinstance(root, dict) else None
    if not isinstance(fields, dict):
        raise _Rejected(400, "invalid_xml", "the body is not a WeChat message")

    def field(name: str) -> str:
        value = fields.get(name)
        return value.strip() if isinstance(value, str) else ""

    kind, openid, created, msg_id = field("MsgType").lower(), field("FromUserName"), field("CreateTime"), field("MsgId")
    if not (kind and openid and created.isdigit() and (msg_id or "0").isdigit()):
        raise _Rejected(400, "invalid_xml", "the body is not a WeChat message")
    text = {"text": field("Content"), "voice": field("Recognition")}.get(kind, "")
    return WeChatMessage(
        kind,
        openid,
        field("ToUserName"),
        int(created),
        int(msg_id or "0"),
        text,
        field("Event").lower() if kind == "event" else "",
    )


@dataclass
class _Delivery:
    """One message's answer; whoever claims it first delivers it (a passive reply or a push)."""

    task: asyncio.Task[list[str]]
    claimed: bool = False

    def claim(self) -> list[str] | None:
        if not self.task.done() or self.task.cancelled() or self.claimed:
            return None
        self.claimed = True
        return self.task.result()

    async def claim_within(self, timeout: float) -> list[str] | None:
        if not self.task.done():
            await asyncio.wait({self.task}, timeout=timeout)
        return self.claim()


class _SeenMessages:
    """Bounded, time-limited memory of delivered messages (WeChat retries within about 15 seconds)."""

    def __init__(
        self, ttl_s: float = 300.0, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._items: OrderedDict[str, tuple[float, _Delivery]] = OrderedDict()
        self._ttl, self._max, self._clock = ttl_s, max_entries, clock

    def get(self, key: str) -> _Delivery | None:
        self._expire()
        entry = self._items.get(key)
        return entry[1] if entry else None

    def add(self, key: str, delivery: _Delivery) -> None:
        self._expire()
        self._items[key] = (self._clock(), delivery)
        while len(self._items) > self._max:
            self._items.popitem(last=False)

    def _expire(self) -> None:
        oldest = self._clock() - self._ttl
        while self._items and next(iter(self._items.values()))[0] < oldest:
            self._items.popitem(last=False)


class _RedactCredentials(logging.Filter):
    """httpx logs request URLs at INFO; the token URL carries the app secret, API URLs the access token."""

    _PATTERN = re.compile(r"((?:secret|access_token)=)[^&\s\"']+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self._PATTERN.sub(r"\1***", str(arg)) if isinstance(arg, httpx.URL | str) else arg
                for arg in record.args
            )
        return True


class WeChatAdapter(ChannelAdapter):
    """The Official Account's server URL (``/wechat``) and its customer-service API client."""

    name: ClassVar[str] = "wechat"
    supports_buttons: ClassVar[bool] = False

    def __init__(
        self,
        handler: TurnHandler,
        numbered_prompt: str,
        settings: WeChatSettings,
        http: httpx.AsyncClient | None = None,
        *,
        texts: WeChatTexts | None = None,
    ) -> None:
        super().__init__(handler, numbered_prompt)
        if not (settings.token and settings.app_id and settings.app_secret):
            raise ValueError("the WeChat channel is off: set TONGXIN_WECHAT_TOKEN, _APP_ID and _APP_SECRET")
        self.settings = settings
        self.texts = texts or WeChatTexts.load()
        self._token = settings.token.get_secret_value()
        self._app_id = settings.app_id
        self._app_secret = settings.app_secret.get_secret_value()
        self._api = settings.api_base_url.rstrip("/")
        aes_key = settings.aes_key.get_secret_value() if settings.aes_key else None
        self._crypto = WeChatCrypto(self._token, aes_key, self._app_id) if aes_key else None
        self._http, self._owns_http = http, False
        self._seen = _SeenMessages()
        self._buttons: OrderedDict[str, list[Button]] = OrderedDict()  # the last numbered list per openid
        self._tasks: set[asyncio.Task[Any]] = set()
        self._access_token: str | None = None
        self._access_token_until = 0.0
        self._token_lock = asyncio.Lock()

    async def start(self) -> None:
        httpx_logger = logging.getLogger("httpx")
        if not any(isinstance(f, _RedactCredentials) for f in httpx_logger.filters):
            httpx_logger.addFilter(_RedactCredentials())
        if self._http is None:
            self._http, self._owns_http = httpx.AsyncClient(timeout=httpx.Timeout(10.0)), True

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http, self._owns_http = None, False

    def router(self) -> APIRouter:
        router = APIRouter()
        router.add_api_route("/wechat", self._verify_url, methods=["GET"], include_in_schema=False)
        router.add_api_route("/wechat", self._receive, methods=["POST"], include_in_schema=False)
        return router

    async def push(self, user_id: str, replies: list[Reply]) -> None:
        await self._send_all(user_id, pieces(self._render(user_id, replies)))

    # -- inbound ------------------------------------------------------------------------------------

    async def _verify_url(
        self,
        signature: str | None = None,
        timestamp: str | None = None,
        nonce: str | None = None,
        echostr: str | None = None,
    ) -> Response:
        if not echostr or not self._signed(signature, timestamp, nonce):
            return JSONResponse(error_body("invalid_signature", "the WeChat signature is missing or wrong"), 403)
        return PlainTextResponse(echostr, headers={"X-Content-Type-Options": "nosniff"})

    async def _receive(
        self,
        request: Request,
        signature: str | None = None,
        timestamp: str | None = None,
        nonce: str | None = None,
        msg_signature: str | None = None,
    ) -> Response:
        try:
            msg = await self._verified_message(request, signature, timestamp, nonce, msg_signature)
        except _Rejected as exc:
            return JSONResponse(error_body(exc.code, exc.message), exc.status)
        return await self._answer(msg, nonce or "")

    def _signed(self, signature: str | None, timestamp: str | None, nonce: str | None) -> bool:
        if not (signature and timestamp and nonce):
            return False
        try:
            check_signature(self._token, signature, timestamp, nonce)
        except InvalidSignatureException:
            return False
        return True

    async def _verified_message(
        self,
        request: Request,
        signature: str | None,
        timestamp: str | None,
        nonce: str | None,
        msg_signature: str | None,
    ) -> WeChatMessage:
        if not self._signed(signature, timestamp, nonce):
            raise _Rejected(403, "invalid_signature", "the WeChat signature is missing or wrong")
        xml = safe_xml(await _read_limited(request))
        if self._crypto is not None:
            if not msg_signature:
                raise _Rejected(403, "invalid_signature", "safe mode needs msg_signature")
            try:
                xml = self._crypto.decrypt_message(xml, msg_signature, timestamp, nonce)
            except (InvalidSignatureException, InvalidAppIdException):
                raise _Rejected(403, "invalid_signature", "the message signature or app id is wrong") from None
            except (ExpatError, KeyError, TypeError, ValueError, IndexError, struct.error):
                raise _Rejected(400, "invalid_xml", "the encrypted message cannot be decrypted") from None
            xml = safe_xml(xml.encode("utf-8"))
        return parse(xml)

    async def _answer(self, msg: WeChatMessage, nonce: str) -> Response:
        """A passive reply when the answer is ready within the deadline, else ``success`` (it is pushed later).

        Retries of a message share its first delivery: the answer goes out once, passively to whichever
        request is still waiting when it is ready, or through the customer-service API after the deadline.
        """
        deadline = self.settings.reply_deadline_s
        delivery = self._seen.get(msg.dedup_key)
        if delivery is None:
            delivery = _Delivery(self._spawn(self._respond(msg)))
            self._seen.add(msg.dedup_key, delivery)
            self._spawn(self._push_unclaimed(msg.openid, delivery, time.monotonic() + deadline))
        texts = await delivery.claim_within(deadline)
        if texts is None:
            return PlainTextResponse(SUCCESS)
        passive, overflow = pack(texts)
        if overflow:
            self._spawn(self._push_later(msg.openid, overflow, OVERFLOW_DELAY_S))
        return self._passive(msg, passive, nonce)

    async def _respond(self, msg: WeChatMessage) -> list[str]:
        """The texts answering one message (empty: nothing to say)."""
        if msg.kind == "event":
            if msg.event != "subscribe":  # a QR-code follow is "subscribe" too
                return []
            return self._render(msg.openid, [Reply(text=self.texts.welcome, buttons=self.texts.welcome_options)])
        if not msg.text:  # media, locations, links, voice WeChat could not transcribe
            return [self.texts.unsupported_message]
        text = choose(msg.text, self._buttons.get(msg.openid, []))
        turn = await self.handler.handle(InboundMessage(self.name, msg.openid, text))
        return self._render(msg.openid, turn.replies) or [self.texts.turn_failed]

    def _render(self, openid: str, replies: list[Reply]) -> list[str]:
        """Replies as numbered text; the last reply's buttons are what a typed "1" picks next."""
        buttons = next((r.buttons for r in reversed(replies) if r.buttons), [])
        if buttons:
            self._buttons[openid] = list(buttons)
            self._buttons.move_to_end(openid)
            while len(self._buttons) > 10_000:
                self._buttons.popitem(last=False)
        else:
            self._buttons.pop(openid, None)
        return [self.as_text(r) for r in replies]

    def _passive(self, msg: WeChatMessage, content: str, nonce: str) -> Response:
        if not content:
            return PlainTextResponse(SUCCESS)
        content = content.replace("]]>", "]]]]><![CDATA[>")  # the reply text sits in CDATA
        xml = TextReply(source=msg.account, target=msg.openid, content=content).render()
        if self._crypto is not None:
            xml = self._crypto.encrypt_message(xml, nonce)
        return Response(xml, media_type="application/xml")

    async def _push_unclaimed(self, openid: str, delivery: _Delivery, not_before: float) -> None:
        await asyncio.wait({delivery.task})
        if delivery.claimed:
            return
        await asyncio.sleep(max(0.0, not_before - time.monotonic()))  # the first request may still answer it
        await self._push_later(openid, pieces(delivery.claim() or []), 0.0)

    async def _push_later(self, openid: str, texts: list[str], delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            await self._send_all(openid, texts)
        except Exception:  # a background task: log it, nobody else would see it
            logger.exception("wechat: an answer could not be sent through the customer-service API")

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- outbound: the customer-service API ----------------------------------------------------------

    async def _send_all(self, openid: str, texts: list[str]) -> None:
        for text in texts:
            await self._send_text(openid, text)

    async def _send_text(self, openid: str, content: str) -> None:
        body = json.dumps(
            {"touser": openid, "msgtype": "text", "text": {"content": content}}, ensure_ascii=False
        ).encode("utf-8")  # WeChat shows \\u escapes literally
        token = await self._token_value()
        answer = await self._send(token, body)
        if answer.get("errcode") in _TOKEN_ERRORS:
            answer = await self._send(await self._token_value(stale=token), body)
        if _errcode(answer, default=0) != 0:
            raise WeChatApiError(_errcode(answer), str(answer.get("errmsg", "")))

    async def _send(self, token: str, body: bytes) -> dict[str, Any]:
        return await self._call("POST", "/cgi-bin/message/custom/send", {"access_token": token}, body)

    async def _token_value(self, stale: str | None = None) -> str:
        """The cached access token, fetched again shortly before it expires or when WeChat refused it."""
        async with self._token_lock:
            now = time.monotonic()
            if self._access_token and self._access_token != stale and now < self._access_token_until:
                return self._access_token
            answer = await self._call(
                "GET",
                "/cgi-bin/token",
                {"grant_type": "client_credential", "appid": self._app_id, "secret": self._app_secret},
            )
            token, expires_in = answer.get("access_token"), answer.get("expires_in", 7200)
            if not isinstance(token, str) or not token or not isinstance(expires_in, int) or expires_in <= 0:
                raise WeChatApiError(_errcode(answer), str(answer.get("errmsg", "no access_token")))
            self._access_token = token
            self._access_token_until = now + expires_in - min(300, expires_in / 2)
            return token

    async def _call(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        body: bytes | None = None,
    ) -> dict[str, Any]:
        if self._http is None:
            raise RuntimeError("WeChatAdapter.start() was not called and no http client was given")
        headers = {"Content-Type": "application/json; charset=utf-8"} if body is not None else None
        try:
            resp = await self._http.request(method, self._api + path, params=params, content=body, headers=headers)
        except httpx.HTTPError as exc:  # the message would carry the URL, which carries credentials
            raise WeChatApiError(-1, f"{type(exc).__name__} calling {path}") from None
        if resp.status_code != 200:
            raise WeChatApiError(-1, f"HTTP {resp.status_code} from {path}")
        try:
            answer = resp.json()
        except ValueError:
            raise WeChatApiError(-1, f"no JSON from {path}") from None
        if not isinstance(answer, dict):
            raise WeChatApiError(-1, f"unexpected JSON from {path}")
        return answer


def _utf8_bytes(char: str) -> int:
    return len(char.encode("utf-8"))


def pieces(texts: list[str], limit: int = MAX_TEXT_BYTES) -> list[str]:
    """The texts, each longer than ``limit`` bytes cut at line breaks, as messages WeChat accepts."""
    return [piece for text in texts for piece in split_text(text, limit, cost=_utf8_bytes)]


def pack(texts: list[str], limit: int = MAX_TEXT_BYTES) -> tuple[str, list[str]]:
    """The passive reply (the replies joined by blank lines, as many whole pieces as fit) and the pieces left.

    The first piece always goes passively.
    """
    cut = pieces(texts, limit)
    passive = cut[0] if cut else ""
    taken = 1 if cut else 0
    for piece in cut[1:]:
        joined = f"{passive}\n\n{piece}"
        if len(joined.encode("utf-8")) > limit:
            break
        passive, taken = joined, taken + 1
    return passive, cut[taken:]


def _errcode(answer: dict[str, Any], default: int = -1) -> int:
    code = answer.get("errcode", default)
    return code if isinstance(code, int) else -1


async def _read_limited(request: Request) -> bytes:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise _Rejected(413, "too_large", f"the body is larger than {MAX_BODY_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise _Rejected(413, "too_large", f"the body is larger than {MAX_BODY_BYTES} bytes")
    return bytes(body)
