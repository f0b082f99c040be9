"""The web channel: ``POST /api/chat`` (contract 3), history for reloads, a WebSocket, and the page at ``/``.

The widget talks over the WebSocket (``/ws``) and falls back to ``/api/chat`` plus polling
``/api/history?since=`` when sockets are blocked. The random ``sender_id`` the widget keeps on the device
names a conversation; the gateway-signed ``session_token`` (``channels/session.py``) proves the client is the
one that had it. The history and the socket need the token, sent in a header or the socket's first message,
never in a URL; ``/api/chat`` returns it with a new conversation's first reply and to a client that sent it.
A message to an existing conversation without its token is still answered (contract 3), but gets neither
the token nor the conversation's handoff state.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from channels.adapters.web_session import SessionTokens
from channels.deps import ConversationsDep, StoreDep
from channels.errors import Unauthorised
from channels.handoff.delivery import conversation_topic
from channels.pipeline.messages import ChatResponse, InboundMessage
from channels.store.records import MAX_ROW_ID
from channels.store.store import Store

logger = logging.getLogger(__name__)
router = APIRouter()
STATIC = Path(__file__).resolve().parents[1] / "static"

# Long and random enough not to be guessed: a phone number or a short id is refused (422).
SenderId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_.:@-]+$")
]
TOKEN_HEADER = "X-Session-Token"
HELLO_TIMEOUT_S = 10.0
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
    session_token: Annotated[str, StringConstraints(max_length=128)] | None = None
    metadata: dict[str, Annotated[str, StringConstraints(max_length=200)]] = Field(default_factory=dict, max_length=20)


def _inbound(body: ChatRequest) -> InboundMessage:
    metadata: dict[str, Any] = dict(body.metadata)
    if body.client_id:
        metadata["client_id"] = body.client_id
    return InboundMessage("web", body.sender_id, body.text, metadata)


class WebChatResponse(ChatResponse):
    """Contract 3 plus the conversation's token (absent when the request did not prove it owns it)."""

    session_token: str | None = None


def _tokens(request: Request | WebSocket) -> SessionTokens:
    tokens: SessionTokens = request.app.state.session_tokens
    return tokens


async def _authorised(store: Store, tokens: SessionTokens, sender_id: str, token: str | None) -> bool:
    """A new conversation is the caller's; an existing one only with its token."""
    existing = await asyncio.to_thread(store.find_conversation, "web", sender_id)
    return existing is None or tokens.valid(token, existing)


async def _token_for(store: Store, tokens: SessionTokens, sender_id: str) -> str | None:
    conversation = await asyncio.to_thread(store.find_conversation, "web", sender_id)  # None once deleted
    return tokens.issue(conversation) if conversation is not None else None


@router.post("/api/chat", response_model=WebChatResponse, response_model_exclude_none=False)
async def chat(
    body: ChatRequest,
    request: Request,
    conversations: ConversationsDep,
    store: StoreDep,
    header_token: Annotated[str | None, Header(alias=TOKEN_HEADER, max_length=128)] = None,
) -> WebChatResponse:
    tokens = _tokens(request)
    owner = await _authorised(store, tokens, body.sender_id, header_token or body.session_token)
    turn = await conversations.handle(_inbound(body))
    if not owner:
        return WebChatResponse(replies=turn.replies, handoff=None)
    token = await _token_for(store, tokens, body.sender_id)
    return WebChatResponse(replies=turn.replies, handoff=turn.handoff, session_token=token)


class HistoryResponse(BaseModel):
    messages: list[dict[str, Any]]
    handoff: dict[str, Any] | None


def _bearer(authorization: str | None, header_token: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return header_token


@router.get("/api/history", response_model=HistoryResponse)
async def history(
    request: Request,
    store: StoreDep,
    since: Annotated[int, Query(ge=0, le=MAX_ROW_ID)] = 0,
    authorization: Annotated[str | None, Header(max_length=160)] = None,
    header_token: Annotated[str | None, Header(alias=TOKEN_HEADER, max_length=128)] = None,
) -> HistoryResponse:
    """The conversation the token was issued for (no id in the URL); 401 without a valid token."""
    tokens = _tokens(request)
    token = _bearer(authorization, header_token)
    conversation_id = tokens.conversation_id(token)
    conversation = (
        await asyncio.to_thread(store.get_conversation, conversation_id) if conversation_id is not None else None
    )
    if conversation is None or conversation.channel != "web" or not tokens.valid(token, conversation):
        raise Unauthorised()
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
    """Client first → ``{"type": "hello", "sender_id", "session_token"}`` (the token may be null for a new
    conversation); server → ``{"type": "session", "session_token"}``, or an ``unauthorised`` error and close
    code 4401. Then client → ``{"type": "message", "text", "client_id"}``; server → ``{"type": "turn", ...}``
    answers and ``{"type": "push", ...}`` messages from hotline staff."""
    await websocket.accept()
    state = websocket.app.state
    tokens = _tokens(websocket)
    try:
        hello = json.loads(await asyncio.wait_for(websocket.receive_text(), HELLO_TIMEOUT_S))
        if not isinstance(hello, dict) or hello.get("type") != "hello":
            raise ValueError("the first message is the hello")
        sender_id = SenderIdModel.model_validate({"sender_id": hello.get("sender_id")}).sender_id
        token = hello.get("session_token")
        owner = await _authorised(state.store, tokens, sender_id, token if isinstance(token, str) else None)
    except (TimeoutError, ValueError, ValidationError, WebSocketDisconnect):
        await _refuse(websocket, "invalid_hello")
        return
    if not owner:
        await _refuse(websocket, "unauthorised")
        return
    conversation = await asyncio.to_thread(state.store.conversation, "web", sender_id)
    await websocket.send_json({"type": "session", "session_token": await _token_for(state.store, tokens, sender_id)})
    async with state.bus.subscribe(conversation_topic(conversation.id)) as queue:
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


async def _refuse(websocket: WebSocket, code: str) -> None:
    with contextlib.suppress(Exception):  # the client may already be gone
        await websocket.send_json({"type": "error", "code": code})
        await websocket.close(code=4401 if code == "unauthorised" else 1008)


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
    turn = await websocket.app.state.conversations.handle(_inbound(body))
    payload = ChatResponse(replies=turn.replies, handoff=turn.handoff).model_dump()
    token = await _token_for(websocket.app.state.store, _tokens(websocket), sender_id)
    await websocket.send_json({"type": "turn", "client_id": body.client_id, "session_token": token, **payload})


@router.get("/", include_in_schema=False)
async def index(_: Request) -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")
