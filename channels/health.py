"""``GET /healthz``: 200 when Rasa (with a model), the action server, the retrieval index and the backends this
gateway uses (its store: ``sqlite`` or ``postgres``; ``redis`` when state is shared) are ready.

With several Rasa or action servers, a part is ``ok`` while one of them is: the gateway fails over to it, so
it still serves; each server's own status is listed beside the parts.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from channels.pipeline.rasa_client import RasaClient
from channels.shared.state import SharedState
from channels.store.store import Store

router = APIRouter()


async def _rasa(rasa: RasaClient) -> tuple[dict[str, str], list[str]]:
    statuses = await rasa.statuses()
    return {"rasa": "ok" if "ok" in statuses else statuses[0]}, statuses


async def _action(http: httpx.AsyncClient, timeout: float) -> dict[str, str]:
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


async def _actions(servers: list[httpx.AsyncClient], timeout: float) -> tuple[dict[str, str], list[str]]:
    results = await asyncio.gather(*(_action(http, timeout) for http in servers))
    best = next((r for r in results if r["action_server"] == "ok" and r["index"] == "ok"), results[0])
    return best, [r["action_server"] for r in results]


async def _store(store: Store) -> dict[str, str]:
    name = "postgres" if store.dialect == "postgresql" else store.dialect
    try:
        await asyncio.to_thread(store.ping)
    except Exception as exc:
        return {name: f"down: {type(exc).__name__}"}
    return {name: "ok"}


async def _shared(shared: SharedState) -> dict[str, str]:
    return {"redis": await shared.check()} if shared.backend == "redis" else {}


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    state = request.app.state
    timeout = state.settings.health_timeout_s
    (rasa, rasa_servers), (actions, action_servers), store, shared = await asyncio.gather(
        _rasa(state.rasa), _actions(state.actions_http, timeout), _store(state.store), _shared(state.shared)
    )
    parts: dict[str, Any] = {**rasa, **actions, **store, **shared}
    failing = [name for name, status in parts.items() if status != "ok"]
    body: dict[str, Any] = {"status": "ok" if not failing else "unavailable", "parts": parts}
    if len(rasa_servers) > 1 or len(action_servers) > 1:
        body["servers"] = {"rasa": rasa_servers, "action_server": action_servers}
    if failing:
        body["failing"] = failing
    return JSONResponse(body, status_code=200 if not failing else 503)
