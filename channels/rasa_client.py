"""The one way the gateway reaches Rasa: its REST webhook and status endpoint, over an injected client."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx

MESSAGE_ID = "tx_message_id"


class RasaUnavailableError(RuntimeError):
    """Rasa did not answer (down, slow, or an error status); the message may not have been processed."""


class RasaClient:
    """Send a user's message to Rasa's REST channel and return the bot messages.

    Usage example::

        async with httpx.AsyncClient(base_url="http://127.0.0.1:5005") as http:
            rasa = RasaClient(http, timeout=20.0)
            messages = await rasa.send("web:u1", "你好")
    """

    def __init__(
        self, http: httpx.AsyncClient, *, timeout: float = 20.0, health_timeout: float = 2.0, recovery_s: float = 30.0
    ) -> None:
        self._http = http
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
        try:
            return await self._post(body)
        except httpx.TimeoutException as exc:
            recovered = await self._recover(sender, message_id)
            if recovered is not None:
                return recovered
            try:
                return await self._post(body)
            except httpx.HTTPError as retry_exc:
                raise RasaUnavailableError(f"Rasa did not answer twice: {retry_exc!r}") from exc
        except httpx.HTTPError as exc:
            raise RasaUnavailableError(f"Rasa did not answer: {exc!r}") from exc

    async def _post(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        resp = await self._http.post("/webhooks/rest/webhook", json=body, timeout=self._timeout)
        resp.raise_for_status()
        try:
            data = resp.json()
        except ValueError as exc:
            raise RasaUnavailableError("Rasa answered with something that is not JSON") from exc
        if not isinstance(data, list):
            raise RasaUnavailableError(f"unexpected Rasa response: {type(data).__name__}")
        return [m for m in data if isinstance(m, dict)]

    async def _recover(self, sender: str, message_id: str) -> list[dict[str, Any]] | None:
        """The bot messages that followed our message in the tracker, once Rasa has finished with it;
        None when Rasa never received the message (so sending it again is safe)."""
        deadline = time.monotonic() + self._recovery_s
        seen = False
        while time.monotonic() < deadline:
            try:
                resp = await self._http.get(
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

    async def status(self) -> dict[str, Any]:
        """Rasa's ``/status`` (needs ``--enable-api``): raises when Rasa or its model is not ready."""
        try:
            resp = await self._http.get("/status", timeout=self._health_timeout)
            resp.raise_for_status()
            data = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaUnavailableError(f"Rasa status unavailable: {exc!r}") from exc
        if not isinstance(data, dict) or not data.get("model_file"):
            raise RasaUnavailableError("Rasa has no model loaded")
        return data

    async def delete_tracker_events(self, sender: str) -> None:
        """Replace the conversation's tracker with an empty one (used when a user deletes their data)."""
        try:
            resp = await self._http.put(f"/conversations/{sender}/tracker/events", json=[], timeout=self._timeout)
            resp.raise_for_status()
        except httpx.HTTPError as exc:
            raise RasaUnavailableError(f"could not reset the tracker: {exc!r}") from exc


def _bot_message(event: dict[str, Any]) -> dict[str, Any]:
    data = event.get("data") or {}
    message: dict[str, Any] = {"text": event.get("text")}
    if data.get("buttons"):
        message["buttons"] = data["buttons"]
    if data.get("custom"):
        message["custom"] = data["custom"]
    return message
