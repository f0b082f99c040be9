"""A local fake of the Telegram Bot API for tests: uvicorn on 127.0.0.1 in a background thread.

It answers the methods python-telegram-bot calls at ``/bot<token>/<method>`` with realistic JSON, records
every call, and serves queued updates to ``getUpdates`` (long polling, capped at ``max_poll_s``).
Builders of realistic update payloads (text, command, button press, sticker, …) live here too.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

TOKEN = "123456789:TEST-fake_token_abcdefghijklmnopqrstuv"
BOT_USER = {
    "id": 123456789,
    "is_bot": True,
    "first_name": "Tongxin Test",
    "username": "tongxin_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
# PTB form-encodes every parameter, JSON-encoding all values but strings; these stay strings.
_STRING_PARAMS = {"text", "url", "secret_token", "callback_query_id", "parse_mode", "action", "caption"}


@dataclass(frozen=True)
class ApiCall:
    method: str
    params: dict[str, Any]


class FakeTelegram:
    """Usage example::

    with FakeTelegram() as fake:
        settings = TelegramSettings(token=TOKEN, base_url=fake.base_url, ...)
        ...
        assert fake.calls_to("sendMessage")[0]["chat_id"] == 42
    """

    def __init__(self, token: str = TOKEN, max_poll_s: float = 0.3) -> None:
        self.token = token
        self.max_poll_s = max_poll_s
        self.calls: list[ApiCall] = []
        self.webhook_url = ""
        self._updates: list[dict[str, Any]] = []
        self._failures: dict[str, tuple[int, str]] = {}
        self._lock = threading.Lock()
        self._message_ids = itertools.count(1)
        self._methods: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getMe": lambda _: BOT_USER,
            "sendMessage": self._send_message,
            "answerCallbackQuery": lambda _: True,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._webhook_info,
            "close": lambda _: True,
            "logOut": lambda _: True,
        }
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    # --- test API -------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget calls, queued updates, pending failures and the webhook (between tests)."""
        with self._lock:
            self.calls.clear()
            self._updates.clear()
            self._failures.clear()
            self.webhook_url = ""

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [call.params for call in self.calls if call.method == method]

    def queue_update(self, update: dict[str, Any]) -> None:
        with self._lock:
            self._updates.append(update)

    def fail(self, method: str, error_code: int, description: str) -> None:
        """The next call of ``method`` answers with a Bot API error."""
        with self._lock:
            self._failures[method] = (error_code, description)

    async def wait_for(self, method: str, count: int = 1, timeout_s: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while len(calls := self.calls_to(method)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} called {len(calls)} times, expected {count}: {self.calls}")
            await asyncio.sleep(0.01)
        return calls

    # --- server ---------------------------------------------------------------------------

    def __enter__(self) -> FakeTelegram:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accepted sockets: no 40 ms stalls
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        app = Starlette(routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])])
        config = uvicorn.Config(
            app,
            lifespan="off",
            log_level="warning",
            access_log=False,
            http="h11",
            ws="none",
            loop="asyncio",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 5
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake Telegram server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(timeout=5)

    async def _endpoint(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        params = _decode(request.headers.get("content-type", ""), await request.body())
        with self._lock:
            self.calls.append(ApiCall(method, params))
            failure = self._failures.pop(method, None)
        if request.path_params["token"] != self.token:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        if failure:
            return JSONResponse({"ok": False, "error_code": failure[0], "description": failure[1]}, failure[0])
        if method == "getUpdates":
            return JSONResponse({"ok": True, "result": await self._get_updates(params)})
        if method not in self._methods:
            return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        return JSONResponse({"ok": True, "result": self._methods[method](params)})

    # --- methods --------------------------------------------------------------------------

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": params["chat_id"], "type": "private"},
            "from": BOT_USER,
            "text": params["text"],
        }
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        return message

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = params["url"]
        return True

    def _delete_webhook(self, _: dict[str, Any]) -> bool:
        self.webhook_url = ""
        return True

    def _webhook_info(self, _: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            pending = len(self._updates)
        return {"url": self.webhook_url, "has_custom_certificate": False, "pending_update_count": pending}

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset, limit = int(params.get("offset", 0)), int(params.get("limit", 100))
        deadline = time.monotonic() + min(float(params.get("timeout", 0)), self.max_poll_s)
        while True:
            with self._lock:
                # As on Telegram, asking from ``offset`` confirms (and forgets) every earlier update.
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                updates = self._updates[:limit]
            if updates or time.monotonic() >= deadline:
                return updates
            await asyncio.sleep(0.01)


def _decode(content_type: str, body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    if content_type.startswith("application/json"):
        data = json.loads(body)
        return data if isinstance(data, dict) else {}
    params: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        params[key] = value if key in _STRING_PARAMS else json.loads(value)
    return params


# --- realistic update payloads ------------------------------------------------------------

_update_ids = itertools.count(1000)


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Test", "language_code": "zh-hans"}


def message_update(chat_id: int, chat_type: str = "private", **content: Any) -> dict[str, Any]:
    chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
    chat |= {"first_name": "Test"} if chat_type == "private" else {"title": "A group"}
    return {
        "update_id": next(_update_ids),
        "message": {
            "message_id": next(_update_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": _user(chat_id if chat_type == "private" else 777),
            **content,
        },
    }


def text_update(chat_id: int, text: str, chat_type: str = "private") -> dict[str, Any]:
    entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}] if text.startswith("/") else []
    return message_update(chat_id, chat_type, text=text, **({"entities": entities} if entities else {}))


def callback_update(chat_id: int, data: str) -> dict[str, Any]:
    message = message_update(chat_id, text="上一条消息")["message"] | {"from": BOT_USER}
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": str(next(_update_ids)),
            "from": _user(chat_id),
            "chat_instance": "42",
            "message": message,
            "data": data,
        },
    }


MEDIA: dict[str, dict[str, Any]] = {
    "sticker": {
        "sticker": {
            "file_id": "CAAC",
            "file_unique_id": "u1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
    },
    "voice": {"voice": {"file_id": "AwAC", "file_unique_id": "u2", "duration": 3, "mime_type": "audio/ogg"}},
    "photo": {"photo": [{"file_id": "AgAC", "file_unique_id": "u3", "width": 90, "height": 90}], "caption": "看看这个"},
    "document": {"document": {"file_id": "BQAC", "file_unique_id": "u4", "file_name": "a.pdf"}},
    "location": {"location": {"latitude": 30.5, "longitude": 114.3}},
}
