"""The one way the gateway reaches Rasa: its REST webhook and status endpoint, over injected clients.

With several Rasa servers (they share the tracker and lock stores), each conversation goes to one of them,
chosen by its id, so its turns stay where its tracker is warm; a server that refuses connections is skipped for
a while and its conversations go on on the next one.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import zlib
from collections.abc import Sequence
from typing import Any

import httpx

MESSAGE_ID = "tx_message_id"
DOWN_FOR_S = 10.0  # a server that refused a connection is tried again after this
logger = logging.getLogger(__name__)


class RasaUnavailableError(RuntimeError):
    """Rasa did not answer (down, slow, or an error status); the message may not have been processed."""


class _ServerFailed(Exception):
    """The server answered that it could not take the message (so it did not process it)."""


class RasaClient:
    """Send a user's message to Rasa's REST channel and return the bot messages.

    Usage example::

        async with httpx.AsyncClient(base_url="http://127.0.0.1:5005") as http:
            rasa = RasaClient(http, timeout=20.0)
            messages = await rasa.send("web:u1", "你好")
    """

    def __init__(
        self,
        http: httpx.AsyncClient | Sequence[httpx.AsyncClient],
        *,
        timeout: float = 20.0,
        health_timeout: float = 2.0,
        recovery_s: float = 30.0,
    ) -> None:
        self._servers = [http] if isinstance(http, httpx.AsyncClient) else list(http)
        if not self._servers:
            raise ValueError("RasaClient needs at least one Rasa server")
        self._down_until = [0.0] * len(self._servers)
        self._timeout = timeout
        self._health_timeout = health_timeout
        self._recovery_s = recovery_s

    async def send(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Send one message; after a timeout, never send it twice.

        Every message carries an id in its metadata. When Rasa is slow, the tracker shows whether the
        message was processed: its answer is then read from the tracker; only a message Rasa never saw is
        sent again (once).
        """
        message_id = uuid.uuid4().hex
        body = {"sender": sender, "message": text, "metadata": {**(metadata or {}), MESSAGE_ID: message_id}}
        last: Exception | None = None
        order = self._order(sender)
        for index in [*order, order[0]]:  # each server, then the first once more (a blip in the connection)
            http = self._servers[index]
            try:
                return await self._post(http, body)
            except (httpx.ConnectError, httpx.ConnectTimeout, _ServerFailed) as exc:
                # Never reached Rasa, or Rasa failed before its turn: safe to send to the next server.
                self._down_until[index] = time.monotonic() + DOWN_FOR_S
                logger.warning("Rasa server %s unusable (%r); trying the next one", http.base_url, exc)
                last = exc
            except httpx.TimeoutException as exc:
                recovered = await self._recover(http, sender, message_id)
                if recovered is not None:
                    return recovered
                try:
                    return await self._post(http, body)
                except httpx.HTTPError as retry_exc:
                    raise RasaUnavailableError(f"Rasa did not answer twice: {retry_exc!r}") from exc
            except httpx.HTTPError as exc:
                raise RasaUnavailableError(f"Rasa did not answer: {exc!r}") from exc
        raise RasaUnavailableError(f"no Rasa server answered: {last!r}")

    def _order(self, sender: str) -> list[int]:
        """The servers to try for this conversation: its own first, then the others; those recently down last."""
        n = len(self._servers)
        start = zlib.crc32(sender.encode()) % n
        ring = [(start + i) % n for i in range(n)]
        now = time.monotonic()
        return [i for i in ring if self._down_until[i] <= now] + [i for i in ring if self._down_until[i] > now]

    async def _post(self, http: httpx.AsyncClient, body: dict[str, Any]) -> list[dict[str, Any]]:
        resp = await http.post("/webhooks/rest/webhook", json=body, timeout=self._timeout)
        if resp.status_code in (502, 503, 504):  # a proxy or a server still loading: the turn did not run
            raise _ServerFailed(f"HTTP {resp.status_code}")
        resp.raise_for_status()
        try:
            data = resp.json()
        except ValueError as exc:
            raise RasaUnavailableError("Rasa answered with something that is not JSON") from exc
        if not isinstance(data, list):
            raise RasaUnavailableError(f"unexpected Rasa response: {type(data).__name__}")
        return [m for m in data if isinstance(m, dict)]

    async def _recover(self, http: httpx.AsyncClient, sender: str, message_id: str) -> list[dict[str, Any]] | None:
        """The bot messages that followed our message in the tracker, once Rasa has finished with it;
        None when Rasa never received the message (so sending it again is safe)."""
        deadline = time.monotonic() + self._recovery_s
        seen = False
        while time.monotonic() < deadline:
            try:
                resp = await http.get(
                    f"/conversations/{sender}/tracker", params={"include_events": "ALL"}, timeout=self._health_timeout
                )
                events = resp.json().get("events", []) if resp.status_code == 200 else []
            except (httpx.HTTPError, ValueError):
                events = []
            start = next(
                (
                    i
                    for i, e in enumerate(events)
                    if e.get("event") == "user" and (e.get("metadata") or {}).get(MESSAGE_ID) == message_id
                ),
                None,
            )
            if start is not None:
                seen = True
                after = events[start + 1 :]
                done = any(e.get("event") == "action" and e.get("name") == "action_listen" for e in after)
                if done:
                    return [_bot_message(e) for e in after if e.get("event") == "bot"]
            elif not seen and time.monotonic() > deadline - self._recovery_s + 2.0:
                return None  # two seconds and still not in the tracker: Rasa never got it
            await asyncio.sleep(0.5)
        if seen:
            raise RasaUnavailableError("Rasa received the message but did not finish it in time")
        return None

    async def statuses(self) -> list[str]:
        """"ok" or why not, for each server (for ``/healthz``)."""

        async def one(http: httpx.AsyncClient) -> str:
            try:
                await self._status(http)
            except RasaUnavailableError as exc:
                return f"down: {exc}"
            return "ok"

        return list(await asyncio.gather(*(one(http) for http in self._servers)))

    async def status(self) -> dict[str, Any]:
        """Rasa's ``/status`` of the first server that answers: raises when none has its model ready."""
        errors: list[str] = []
        for http in self._servers:
            try:
                return await self._status(http)
            except RasaUnavailableError as exc:
                errors.append(str(exc))
        raise RasaUnavailableError("; ".join(errors))

    async def _status(self, http: httpx.AsyncClient) -> dict[str, Any]:
        try:
            resp = await http.get("/status", timeout=self._health_timeout)
            resp.raise_for_status()
            data = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaUnavailableError(f"Rasa status unavailable: {exc!r}") from exc
        if not isinstance(data, dict) or not data.get("model_file"):
            raise RasaUnavailableError("Rasa has no model loaded")
        return data


def _bot_message(event: dict[str, Any]) -> dict[str, Any]:
    data = event.get("data") or {}
    message: dict[str, Any] = {"text": event.get("text")}
    if data.get("buttons"):
        message["buttons"] = data["buttons"]
    if data.get("custom"):
        message["custom"] = data["custom"]
    return message
