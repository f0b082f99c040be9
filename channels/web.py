"""The web channel: ``POST /api/chat`` (contract 3) and the chat page at ``/``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from channels.deps import ConversationsDep
from channels.messages import ChatResponse, InboundMessage

router = APIRouter()
STATIC = Path(__file__).resolve().parent / "static"

SenderId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sender_id: SenderId
    text: Text
    metadata: dict[str, str] = Field(default_factory=dict, max_length=20)


@router.post("/api/chat", response_model=ChatResponse, response_model_exclude_none=False)
async def chat(body: ChatRequest, conversations: ConversationsDep) -> ChatResponse:
    turn = await conversations.handle(InboundMessage("web", body.sender_id, body.text, dict(body.metadata)))
    return ChatResponse(replies=turn.replies, handoff=turn.handoff)


@router.get("/", include_in_schema=False)
async def index(_: Request) -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")
