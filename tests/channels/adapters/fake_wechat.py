"""A local fake of the WeChat API (access token + customer-service messages) on 127.0.0.1, recording calls.

Usage example::

    with FakeWeChatApi(app_id="wx1", app_secret="s" * 32) as api:
        settings = WeChatSettings(..., api_base_url=api.url)
        ...
        assert api.sent[0]["text"]["content"] == "..."
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


@dataclass(frozen=True)
class ApiCall:
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    errcode: int = 0  # what the fake answered (0: accepted)

    def json(self) -> Any:
        return json.loads(self.body)


class FakeWeChatApi:
    def __init__(self, app_id: str, app_secret: str) -> None:
        self.app_id, self.app_secret = app_id, app_secret
        self.calls: list[ApiCall] = []
        self.expires_in = 7200
        self.send_errcodes: list[int] = []  # the next customer-service answers, in order (then 0)
        self._issued = 0
        self._valid_token: str | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- what the tests look at ----------------------------------------------------------------------

    @property
    def token_calls(self) -> list[ApiCall]:
        return [c for c in self.calls if c.path == "/cgi-bin/token"]

    @property
    def sent(self) -> list[dict[str, Any]]:
        """Customer-service messages WeChat accepted."""
        return [c.json() for c in self.calls if c.path == "/cgi-bin/message/custom/send" and c.errcode == 0]

    def invalidate_token(self) -> None:
        """Make the current access token expire early (WeChat then answers 40001)."""
        self._valid_token = None

    def reset(self) -> None:
        self.calls.clear()
        self.send_errcodes.clear()
        self.expires_in = 7200
        self._valid_token = None

    async def wait_for_sent(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.sent) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} customer-service messages, got {self.sent!r}")
            await asyncio.sleep(0.02)
        return self.sent

    # -- the fake API --------------------------------------------------------------------------------

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/cgi-bin/token")
        async def token(request: Request) -> JSONResponse:
            query = dict(request.query_params)
            if query.get("grant_type") != "client_credential" or query.get("appid") != self.app_id:
                self.calls.append(ApiCall("GET", "/cgi-bin/token", query, b"", 40013))
                return JSONResponse({"errcode": 40013, "errmsg": "invalid appid"})
            if query.get("secret") != self.app_secret:
                self.calls.append(ApiCall("GET", "/cgi-bin/token", query, b"", 40125))
                return JSONResponse({"errcode": 40125, "errmsg": "invalid appsecret"})
            self.calls.append(ApiCall("GET", "/cgi-bin/token", query, b""))
            self._issued += 1
            self._valid_token = f"ACCESS_TOKEN_{self._issued}"
            return JSONResponse({"access_token": self._valid_token, "expires_in": self.expires_in})

        @app.post("/cgi-bin/message/custom/send")
        async def send(request: Request) -> JSONResponse:
            query = dict(request.query_params)
            if not self._valid_token or query.get("access_token") != self._valid_token:
                errcode, errmsg = 40001, "invalid credential, access_token is invalid"
            else:
                errcode = self.send_errcodes.pop(0) if self.send_errcodes else 0
                errmsg = "refused by the fake" if errcode else "ok"
            self.calls.append(ApiCall("POST", "/cgi-bin/message/custom/send", query, await request.body(), errcode))
            return JSONResponse({"errcode": errcode, "errmsg": errmsg})

        return app

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> FakeWeChatApi:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # asyncio sets TCP_NODELAY then
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(self._app(), log_level="warning", lifespan="off", ws="none", http="h11", loop="asyncio")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake WeChat API did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> FakeWeChatApi:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
