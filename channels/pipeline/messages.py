"""The shared message model of every channel, and the translation of Rasa's REST output into it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

Priority = Literal["urgent", "high", "normal"]


class Button(BaseModel):
    title: str
    payload: str


class CitationOut(BaseModel):
    doc_id: str
    doc_no: str | None
    title: str
    issuer: str | None = None
    issued: str | None = None


class Reply(BaseModel):
    text: str
    buttons: list[Button] = Field(default_factory=list)
    citations: list[CitationOut] = Field(default_factory=list)
    # Who speaks: the assistant, a hotline worker, or the system (notices, acknowledgements).
    author: Literal["bot", "staff", "system"] = "bot"


class HandoffOut(BaseModel):
    ticket_id: str
    priority: Priority
    state: Literal["waiting", "active"] = "waiting"
    queue_position: int | None = None


class ChatResponse(BaseModel):
    """Contract 3 of ARCHITECTURE.md."""

    replies: list[Reply] = Field(min_length=1)
    handoff: HandoffOut | None = None


@dataclass(frozen=True)
class InboundMessage:
    channel: str
    sender_id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def conversation_id(self) -> str:
        """One conversation per (channel, user)."""
        return f"{self.channel}:{self.sender_id}"


@dataclass(frozen=True)
class GatewaySignal:
    """Other requests from the bot to the gateway (e.g. the user asked to delete their data)."""

    kind: str


@dataclass(frozen=True)
class HandoffSignal:
    """The bot asked for a person (user request, crisis, repeated failure, a screening result)."""

    reason: str
    priority: Priority
    summary: dict[str, Any]


@dataclass(frozen=True)
class BotTurn:
    replies: list[Reply]
    handoff: HandoffOut | None = None
    signal: HandoffSignal | None = None


def gateway_signals(messages: list[dict[str, Any]]) -> list[GatewaySignal]:
    return [
        GatewaySignal(str(m["custom"]["kind"]))
        for m in messages
        if isinstance(m.get("custom"), dict) and m["custom"].get("kind") in ("delete_request",)
    ]


def from_rasa(messages: list[dict[str, Any]]) -> tuple[list[Reply], HandoffSignal | None]:
    """Rasa's REST messages → replies. A ``custom`` payload follows the text of the same utterance:
    its citations attach to that text; a handoff in it becomes the turn's handoff signal."""
    replies: list[Reply] = []
    signal: HandoffSignal | None = None
    for msg in messages:
        text = msg.get("text")
        if isinstance(text, str) and text.strip():
            buttons = [
                Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
                for b in msg.get("buttons") or []
                if isinstance(b, dict) and b.get("title")
            ]
            replies.append(Reply(text=text, buttons=buttons))
        custom = msg.get("custom")
        if not isinstance(custom, dict):
            continue
        citations = custom.get("citations")
        if citations and replies:
            replies[-1].citations.extend(CitationOut.model_validate(c) for c in citations)
        handoff = custom.get("handoff")
        if isinstance(handoff, dict):
            priority = handoff.get("priority") if handoff.get("priority") in ("urgent", "high", "normal") else "normal"
            signal = HandoffSignal(
                str(handoff.get("reason", "unknown")),
                priority,  # type: ignore[arg-type]
                dict(handoff.get("summary") or {}),
            )
    return replies, signal


def split_text(text: str, limit: int, cost: Callable[[str], int] = lambda char: 1) -> list[str]:
    """Pieces whose summed per-character ``cost`` is at most ``limit``, cut after a line break where possible.

    Platforms count their message limits differently (Telegram in UTF-16 code units, WeChat in UTF-8 bytes),
    hence the cost function. No piece is blank; nothing but the line breaks at the cuts is dropped.
    """
    pieces: list[str] = []
    while sum(map(cost, text)) > limit:
        cut = _prefix_fitting(text, limit, cost)
        newline = text.rfind("\n", 0, cut)
        if newline > 0:
            cut = newline + 1
        pieces.append(text[:cut])
        text = text[cut:]
    pieces.append(text)
    return [piece.strip("\n") for piece in pieces if piece.strip()]


def _prefix_fitting(text: str, limit: int, cost: Callable[[str], int]) -> int:
    used = 0
    for index, char in enumerate(text):
        used += cost(char)
        if used > limit:
            return max(index, 1)  # a single character over the limit still makes progress
    return len(text)
