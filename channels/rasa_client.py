"""The one way the gateway reaches Rasa: its REST webhook and status endpoint, over an injected client."""

from __future__ import annotations

from typing import Any

import httpx


class RasaUnavailableError(RuntimeError):
    """Rasa did not answer (down, slow, or an error status); the message may not have been processed."""


class RasaClient:
    """Send a user's message to Rasa's REST channel and return the bot messages.

    Usage example::

        async with httpx.AsyncClient(base_url="http://127.0.0.1:5005") as http:
            rasa = RasaClient(http, timeout=20.0)
            messages = await rasa.send("web:u1", "你好")
    """

    def __init__(self, http: httpx.AsyncClient, *, timeout: float = 20.0, health_timeout: float = 2.0) -> None:
        self._http = http
        self._timeout = timeout
        self._health_timeout = health_timeout

    async def send(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        body = {"sender": sender, "message": text, "metadata": metadata or {}}
        try:
            resp = await self._http.post("/webhooks/rest/webhook", json=body, timeout=self._timeout)
            resp.raise_for_status()
            data = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaUnavailableError(f"Rasa did not answer: {exc!r}") from exc
        if not isinstance(data, list):
            raise RasaUnavailableError(f"unexpected Rasa response: {type(data).__name__}")
        return [m for m in data if isinstance(m, dict)]

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
            resp = await self._http.put(f"/conversations/{sender}/tracker/events", json=[],
                                        timeout=self._timeout)
            resp.raise_for_status()
        except httpx.HTTPError as exc:
            raise RasaUnavailableError(f"could not reset the tracker: {exc!r}") from exc
