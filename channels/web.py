"""The web channel: ``POST /api/chat`` (contract 3), history for reloads, a WebSocket, and the page at ``/``.

The widget talks over the WebSocket (``/ws``) and falls back to ``/api/chat`` plus polling
``/api/history?since=`` when sockets are blocked. The random ``sender_id`` the widget keeps on the
device is what identifies a conversation; nothing else about the user is needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from channels.delivery import conversation_topic
from channels.deps import ConversationsDep, StoreDep
from channels.messages import ChatResponse, InboundMessage
from channels.store.records import MAX_ROW_ID

logger = logging.getLogger(__name__)
router = APIRouter()
STATIC = Path(__file__).resolve().parent / "static"

SenderId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:@-]+$")
]
# Longer than the gateway's own limit on purpose: an over-long message is still stored and screened (its
# head), and told it is too long, instead of being refused before anyone reads it.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)]


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")


def _strip_control(value: Any) -> Any:
    """Control and invisible characters carry no meaning in a chat message; they are dropped."""
    return _CONTROL.sub("", value) if isinstance(value, str) else value


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    @field_validator("text", mode="before")
    @classmethod
    def _clean(cls, value: Any) -> Any:
        return _strip_control(value)

    sender_id: SenderId
    text: Text
    client_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    metadata: dict[str, Annotated[str, StringConstraints(max_length=200)]] = Field(default_factory=dict, max_length=20)


def _inbound(body: ChatRequest) -> InboundMessage:
    metadata: dict[str, Any] = dict(body.metadata)
    if body.client_id:
        metadata["client_id"] = body.client_id
    return InboundMessage("web", body.sender_id, body.text, metadata)


@router.post("/api/chat", response_model=ChatResponse)
async def chat(body: ChatRequest, conversations: ConversationsDep) -> ChatResponse:
    turn = await conversations.handle(_inbound(body))
    return ChatResponse(replies=turn.replies, handoff=turn.handoff)


class HistoryResponse(BaseModel):
    messages: list[dict[str, Any]]
    handoff: dict[str, Any] | None


@router.get("/api/history", response_model=HistoryResponse)
async def history(
    store: StoreDep,
    sender_id: Annotated[str, Query(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:@-]+$")],
    since: Annotated[int, Query(ge=0, le=MAX_ROW_ID)] = 0,
) -> HistoryResponse:
    conversation = await asyncio.to_thread(store.find_conversation, "web", sender_id)
    if conversation is None:
        return HistoryResponse(messages=[], handoff=None)
    messages = await asyncio.to_thread(store.messages, conversation.id, since, 200)
    ticket = await asyncio.to_thread(store.open_ticket_for, conversation.id)
    handoff = None
    if ticket is not None:
        position = await asyncio.to_thread(store.queue_position, ticket.id)
        handoff = {
            "ticket_id": ticket.id,
            "priority": ticket.priority,
            "state": ticket.state,
            "queue_position": position,
        }
    return HistoryResponse(messages=[m.to_json() for m in messages], handoff=handoff)


@router.websocket("/ws")
async def socket(websocket: WebSocket) -> None:
    """Client → ``{"type": "message", "text", "client_id"}``; server → ``{"type": "turn", ...}`` answers and
    ``{"type": "push", ...}`` messages from hotline staff."""
    sender_id = websocket.query_params.get("sender_id", "")
    try:
        SenderIdModel.model_validate({"sender_id": sender_id})
    except ValidationError:
        await websocket.close(code=1008)
        return
    await websocket.accept()
    state = websocket.app.state
    conversation = await asyncio.to_thread(state.store.conversation, "web", sender_id)
    async with state.hub.subscribe(conversation_topic(conversation.id)) as queue:
        pusher = asyncio.create_task(_push(websocket, queue))
        try:
            while True:
                raw = await websocket.receive_text()
                await _on_client_message(websocket, sender_id, raw)
        except WebSocketDisconnect:
            pass
        finally:
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pusher


class SenderIdModel(BaseModel):
    sender_id: SenderId


async def _push(websocket: WebSocket, queue: asyncio.Queue[dict[str, Any]]) -> None:
    while True:
        event = await queue.get()
        await websocket.send_json(event)


async def _on_client_message(websocket: WebSocket, sender_id: str, raw: str) -> None:
    data: Any = None
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("a message is a JSON object")
        body = ChatRequest.model_validate({**data, "sender_id": sender_id})
    except (ValueError, ValidationError) as exc:
        code = "text_too_long" if "too_long" in str(exc) else "invalid_message"
        await websocket.send_json(
            {"type": "error", "code": code, "client_id": data.get("client_id") if isinstance(data, dict) else None}
        )
        return
    service = websocket.app.state.conversations
    try:
        turn = await service.handle(_inbound(body))
    except Exception:  # the user still gets an answer; the error is logged with its context
        logger.exception("websocket turn failed")
        turn = service.unavailable_turn()
    payload = ChatResponse(replies=turn.replies, handoff=turn.handoff).model_dump()
    await websocket.send_json({"type": "turn", "client_id": body.client_id, **payload})


@router.get("/", include_in_schema=False)
async def index(_: Request) -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")
