"""The customer-service API: messages pushed to a user, with the access token they need."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import Any

import httpx

from channels.shared.cache import LiveCache

logger = logging.getLogger(__name__)
REFRESH_WAIT_S = 10.0  # how long a process waits for another's token refresh
_TOKEN_ERRORS = frozenset({40001, 40014, 42001})  # invalid / expired access_token: refresh once and retry


class WeChatApiError(Exception):
    """The WeChat API refused or failed a call (``errcode`` -1: no usable answer at all)."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode, self.errmsg = errcode, errmsg


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


class WeChatApi:
    """Push text messages to a user. The access token is shared by every gateway process (in the live cache)
    and fetched by one of them at a time: WeChat invalidates the previous token when a new one is fetched.

    Usage example::

        api = WeChatApi(app_id, app_secret, "https://api.weixin.qq.com", cache)
        await api.start()
        await api.send_all(openid, ["你好"])
    """

    def __init__(
        self, app_id: str, app_secret: str, base_url: str, cache: LiveCache, http: httpx.AsyncClient | None = None
    ) -> None:
        self._app_id, self._app_secret, self._api = app_id, app_secret, base_url.rstrip("/")
        self.cache = cache
        self._http, self._owns_http = http, False
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        httpx_logger = logging.getLogger("httpx")
        if not any(isinstance(f, _RedactCredentials) for f in httpx_logger.filters):
            httpx_logger.addFilter(_RedactCredentials())
        if self._http is None:
            self._http, self._owns_http = httpx.AsyncClient(timeout=httpx.Timeout(10.0)), True

    async def stop(self) -> None:
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http, self._owns_http = None, False

    async def send_all(self, openid: str, texts: list[str]) -> None:
        for text in texts:
            await self.send_text(openid, text)

    async def send_text(self, openid: str, content: str) -> None:
        body = json.dumps(
            {"touser": openid, "msgtype": "text", "text": {"content": content}}, ensure_ascii=False
        ).encode("utf-8")  # WeChat shows \\u escapes literally
        token = await self.token()
        answer = await self._send(token, body)
        if answer.get("errcode") in _TOKEN_ERRORS:
            answer = await self._send(await self.token(stale=token), body)
        if _errcode(answer, default=0) != 0:
            raise WeChatApiError(_errcode(answer), str(answer.get("errmsg", "")))

    async def _send(self, token: str, body: bytes) -> dict[str, Any]:
        return await self._call("POST", "/cgi-bin/message/custom/send", {"access_token": token}, body)

    async def token(self, stale: str | None = None) -> str:
        """The shared access token; fetched again when absent (it expires a few minutes early) or when WeChat
        refused ``stale``, by the one process holding the refresh lease while the others wait for it."""
        key, lease = f"wechat:token:{self._app_id}", f"wechat:token-refresh:{self._app_id}"
        async with self._lock:
            deadline = time.monotonic() + REFRESH_WAIT_S
            while True:
                cached = await self.cache.get(key)
                if cached and cached != stale:
                    return cached
                if await self.cache.add(lease, "1", REFRESH_WAIT_S):
                    try:
                        token, ttl = await self._fetch()
                        await self.cache.set(key, token, ttl)
                        return token
                    finally:
                        await self.cache.delete(lease)
                if time.monotonic() > deadline:
                    raise WeChatApiError(-1, "no access token: another process is fetching one and did not finish")
                await asyncio.sleep(0.2)

    async def _fetch(self) -> tuple[str, float]:
        answer = await self._call(
            "GET",
            "/cgi-bin/token",
            {"grant_type": "client_credential", "appid": self._app_id, "secret": self._app_secret},
        )
        token, expires_in = answer.get("access_token"), answer.get("expires_in", 7200)
        if not isinstance(token, str) or not token or not isinstance(expires_in, int) or expires_in <= 0:
            raise WeChatApiError(_errcode(answer), str(answer.get("errmsg", "no access_token")))
        return token, expires_in - min(300, expires_in / 2)

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



def _errcode(answer: dict[str, Any], default: int = -1) -> int:
    code = answer.get("errcode", default)
    return code if isinstance(code, int) else -1
