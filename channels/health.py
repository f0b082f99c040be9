"""``GET /healthz``: 200 when Rasa (with a model), the action server and the retrieval index are ready."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from channels.rasa_client import RasaClient, RasaUnavailableError

router = APIRouter()


async def _rasa(rasa: RasaClient) -> tuple[str, str]:
    try:
        await rasa.status()
        return "rasa", "ok"
    except RasaUnavailableError as exc:
        return "rasa", f"down: {exc}"


async def _actions(http: httpx.AsyncClient, timeout: float) -> dict[str, str]:
    try:
        resp = await http.get("/ready", timeout=timeout)
    except httpx.HTTPError as exc:
        return {"action_server": f"down: {exc!r}", "index": "unknown (action server down)"}
    if resp.status_code == 404:  # an action server without our /ready route
        return {"action_server": "down: /ready missing", "index": "unknown"}
    try:
        index = resp.json().get("index", {})
    except ValueError:
        index = {}
    return {"action_server": "ok", "index": "ok" if index.get("ready") else "loading"}


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    state = request.app.state
    timeout = state.settings.health_timeout_s
    (_, rasa), actions = await asyncio.gather(_rasa(state.rasa), _actions(state.actions_http, timeout))
    parts: dict[str, Any] = {"rasa": rasa, **actions}
    failing = [name for name, status in parts.items() if status != "ok"]
    body: dict[str, Any] = {"status": "ok" if not failing else "unavailable", "parts": parts}
    if failing:
        body["failing"] = failing
    return JSONResponse(body, status_code=200 if not failing else 503)
