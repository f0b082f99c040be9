"""The WeChat Official Account channel: ``GET/POST /wechat`` (verify → parse → hand off → render).

WeChat waits 5 seconds for a passive reply and retries a message it got no answer for, to whichever gateway
process its request reaches. Each message is taken once across all processes (a claim in the channel keys)
and its answer goes out once: passively to whichever request is still waiting when it is ready, or through
the customer-service API after the deadline. Safe mode (``aes_key``) decrypts messages and encrypts replies.
A text message holds at most 2048 UTF-8 bytes: a longer answer goes out in pieces, the first passively and
the rest through the customer-service API.
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
import time
from collections import OrderedDict
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, ClassVar
from xml.parsers.expat import ExpatError

import httpx
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from channels.adapters.base import ChannelAdapter, TurnHandler, choose
from channels.adapters.wechat.api import WeChatApi
from channels.adapters.wechat.message import Rejected, WeChatMessage, parse, read_limited, safe_xml
from channels.adapters.wechat.settings import WeChatSettings, WeChatTexts
from channels.adapters.wechat.text import pack, pieces
from channels.errors import error_body
from channels.pipeline.messages import InboundMessage, Reply
from channels.shared.cache import LiveCache
from channels.store.keys import ChannelKeys

logger = logging.getLogger(__name__)

SUCCESS = "success"  # WeChat's "received, nothing to say now, do not retry"
# The passive reply reaches the user only after our HTTP response; pieces pushed sooner would overtake it.
OVERFLOW_DELAY_S = 1.0
POLL_S = 0.2  # how often a retry on another process looks for the answer its first delivery is preparing
TAKEN, SENT = "wechat-taken", "wechat-sent"  # channel-key namespaces: message taken; its answer sent


@dataclass
class _Local:
    """A message this process took: its answer is being prepared here."""

    task: asyncio.Task[list[str]]
    sent: bool = False


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
        aes_key = settings.aes_key.get_secret_value() if settings.aes_key else None
        self._crypto = WeChatCrypto(self._token, aes_key, settings.app_id) if aes_key else None
        self.api = WeChatApi(
            settings.app_id, settings.app_secret.get_secret_value(), settings.api_base_url, self.cache, http
        )
        self._local: OrderedDict[str, _Local] = OrderedDict()
        self._tasks: set[asyncio.Task[Any]] = set()

    def attach(self, keys: ChannelKeys, cache: LiveCache) -> None:
        super().attach(keys, cache)
        self.api.cache = cache

    async def start(self) -> None:
        await self.api.start()

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.api.stop()

    def router(self) -> APIRouter:
        router = APIRouter()
        router.add_api_route("/wechat", self._verify_url, methods=["GET"], include_in_schema=False)
        router.add_api_route("/wechat", self._receive, methods=["POST"], include_in_schema=False)
        return router

    async def push(self, user_id: str, replies: list[Reply]) -> None:
        await self.api.send_all(user_id, pieces(await self._render(user_id, replies)))

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
        except Rejected as exc:
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
            raise Rejected(403, "invalid_signature", "the WeChat signature is missing or wrong")
        xml = safe_xml(await read_limited(request))
        if self._crypto is not None:
            if not msg_signature:
                raise Rejected(403, "invalid_signature", "safe mode needs msg_signature")
            try:
                xml = self._crypto.decrypt_message(xml, msg_signature, timestamp, nonce)
            except (InvalidSignatureException, InvalidAppIdException):
                raise Rejected(403, "invalid_signature", "the message signature or app id is wrong") from None
            except (ExpatError, KeyError, TypeError, ValueError, IndexError, struct.error):
                raise Rejected(400, "invalid_xml", "the encrypted message cannot be decrypted") from None
            xml = safe_xml(xml.encode("utf-8"))
        return parse(xml)

    async def _answer(self, msg: WeChatMessage, nonce: str) -> Response:
        """A passive reply when the answer is ready within the deadline, else ``success`` (it is pushed later)."""
        deadline = time.monotonic() + self.settings.reply_deadline_s
        key = f"{msg.account}:{msg.dedup_key}"
        local = self._local.get(key)
        if local is None and await self.keys.add(TAKEN, key, ""):
            local = _Local(self._spawn(self._respond(msg, key)))
            self._remember(key, local)
            self._spawn(self._push_unclaimed(msg.openid, key, local, deadline))
        if local is not None:
            await asyncio.wait({local.task}, timeout=max(0.0, deadline - time.monotonic()))
            texts = await self._claim_local(key, local)
        else:  # a retry of a message another process took: its answer, if ready in time and not yet sent
            texts = await self._claim_elsewhere(key, deadline)
        if texts is None:
            return PlainTextResponse(SUCCESS)
        passive, overflow = pack(texts)
        if overflow:
            self._spawn(self._push_later(msg.openid, overflow, OVERFLOW_DELAY_S))
        return self._passive(msg, passive, nonce)

    async def _claim_local(self, key: str, local: _Local) -> list[str] | None:
        if local.sent or not local.task.done() or local.task.cancelled() or local.task.exception() is not None:
            return None
        if not await self.keys.add(SENT, key, "1"):
            return None
        local.sent = True
        return local.task.result()

    async def _claim_elsewhere(self, key: str, deadline: float) -> list[str] | None:
        while True:
            ready = await self.keys.get(TAKEN, key)
            if ready:
                return json.loads(ready) if await self.keys.add(SENT, key, "1") else None
            if time.monotonic() + POLL_S > deadline:
                return None
            await asyncio.sleep(POLL_S)

    def _remember(self, key: str, local: _Local) -> None:
        self._local[key] = local
        while len(self._local) > 10_000:
            self._local.popitem(last=False)

    async def _respond(self, msg: WeChatMessage, key: str) -> list[str]:
        """The texts answering one message (empty: nothing to say), also kept for a retry on another process."""
        texts = await self._texts_for(msg)
        await self.keys.put(TAKEN, key, json.dumps(texts, ensure_ascii=False))
        return texts

    async def _texts_for(self, msg: WeChatMessage) -> list[str]:
        if msg.kind == "event":
            if msg.event != "subscribe":  # a QR-code follow is "subscribe" too
                return []
            welcome = Reply(text=self.texts.welcome, buttons=self.texts.welcome_options)
            return await self._render(msg.openid, [welcome])
        if not msg.text:  # media, locations, links, voice WeChat could not transcribe
            return [self.texts.unsupported_message]
        text = choose(msg.text, await self.menu(msg.openid))
        turn = await self.handler.handle(InboundMessage(self.name, msg.openid, text))
        return await self._render(msg.openid, turn.replies) or [self.texts.turn_failed]

    async def _render(self, openid: str, replies: list[Reply]) -> list[str]:
        """Replies as numbered text; the last reply's buttons are what a typed "1" picks next."""
        await self.remember_menu(openid, replies)
        return [self.as_text(r) for r in replies]

    def _passive(self, msg: WeChatMessage, content: str, nonce: str) -> Response:
        if not content:
            return PlainTextResponse(SUCCESS)
        content = content.replace("]]>", "]]]]><![CDATA[>")  # the reply text sits in CDATA
        xml = TextReply(source=msg.account, target=msg.openid, content=content).render()
        if self._crypto is not None:
            xml = self._crypto.encrypt_message(xml, nonce)
        return Response(xml, media_type="application/xml")

    async def _push_unclaimed(self, openid: str, key: str, local: _Local, not_before: float) -> None:
        await asyncio.wait({local.task})
        await asyncio.sleep(max(0.0, not_before - time.monotonic()))  # a waiting request may still answer it
        texts = await self._claim_local(key, local)
        if texts:
            await self._push_later(openid, pieces(texts), 0.0)

    async def _push_later(self, openid: str, texts: list[str], delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            await self.api.send_all(openid, texts)
        except Exception:  # a background task: log it, nobody else would see it
            logger.exception("wechat: an answer could not be sent through the customer-service API")

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
