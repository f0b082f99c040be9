"""The one small interface every channel adapter implements: verify → parse → hand off → render.

An adapter owns its platform's routes (webhooks), turns a verified platform request into an
:class:`~channels.pipeline.messages.InboundMessage`, hands it to the shared :class:`TurnHandler` (the same
conversation pipeline for every channel), and renders the :class:`~channels.pipeline.messages.Reply` list in its
platform's format. ``push`` delivers messages that do not answer a request (a hotline worker's
reply, a slow answer) to a user of that channel.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar, Protocol

from fastapi import APIRouter

from channels.pipeline.messages import BotTurn, Button, InboundMessage, Reply
from channels.shared.cache import LiveCache, LocalCache
from channels.store.keys import ChannelKeys, MemoryKeys


class TurnHandler(Protocol):
    """``ConversationService``: it never raises (a failed turn is the polite fallback), so adapters don't catch."""

    async def handle(self, message: InboundMessage) -> BotTurn: ...


class ChannelAdapter(ABC):
    """Base class of channel adapters.

    Usage example::

        class SmsAdapter(ChannelAdapter):
            name = "sms"

            def router(self) -> APIRouter: ...        # POST /sms/webhook: verify, parse, self.handler.handle(...)
            async def push(self, user_id, replies): ...  # send through the SMS gateway
    """

    name: ClassVar[str]
    supports_buttons: ClassVar[bool] = False

    def __init__(self, handler: TurnHandler, numbered_prompt: str) -> None:
        self.handler = handler
        self.numbered_prompt = numbered_prompt
        # What another gateway process must see too; the app attaches the shared ones before start().
        self.keys: ChannelKeys = MemoryKeys()
        self.cache: LiveCache = LocalCache()

    def attach(self, keys: ChannelKeys, cache: LiveCache) -> None:
        self.keys, self.cache = keys, cache

    async def menu(self, user_id: str) -> list[Button]:
        """The numbered options this user last saw on this channel (a typed "1" picks the first)."""
        raw = await self.keys.get("menu", f"{self.name}:{user_id}")
        return [Button.model_validate(b) for b in json.loads(raw)] if raw else []

    async def remember_menu(self, user_id: str, replies: Sequence[Reply]) -> None:
        buttons = next((r.buttons for r in reversed(replies) if r.buttons), [])
        if buttons:
            value = json.dumps([b.model_dump() for b in buttons], ensure_ascii=False)
            await self.keys.put("menu", f"{self.name}:{user_id}", value)
        else:
            await self.keys.delete("menu", f"{self.name}:{user_id}")

    @abstractmethod
    def router(self) -> APIRouter:
        """Routes of this channel (webhooks), mounted by the app factory."""

    @abstractmethod
    async def push(self, user_id: str, replies: list[Reply]) -> None:
        """Deliver replies that answer no request (staff replies, slow answers) to ``user_id``."""

    async def start(self) -> None:  # noqa: B027 - an optional hook: most adapters need no start-up
        """Connect to the platform (called in the app's lifespan); default: nothing to do."""

    async def stop(self) -> None:  # noqa: B027 - an optional hook
        """Disconnect; default: nothing to do."""

    def as_text(self, reply: Reply) -> str:
        """The reply for a platform without buttons: buttons become a numbered list ("1" picks option 1)."""
        return render_numbered(reply, self.numbered_prompt)


def render_numbered(reply: Reply, prompt: str) -> str:
    text = reply.text
    if reply.citations:
        text += "\n" + "\n".join(f"📄 {citation_label(c.title, c.doc_no)}" for c in reply.citations)
    if reply.buttons:
        options = "\n".join(f"{i}. {b.title}" for i, b in enumerate(reply.buttons, 1))
        text += f"\n{prompt}\n{options}"
    return text


def citation_label(title: str, doc_no: str | None) -> str:
    return f"《{title}》" + (f"（{doc_no}）" if doc_no and doc_no not in title else "")


_CHOICE = re.compile(r"^\s*([0-9０-９]{1,2})\s*[.。、）)]?\s*$")


def choose(text: str, buttons: list[Button]) -> str:
    """A reply "1" (or "１", "1.") to a numbered list means the first button's payload; otherwise the text."""
    match = _CHOICE.match(text)
    if not match or not buttons:
        return text
    index = int(match.group(1).translate(str.maketrans("０１２３４５６７８９", "0123456789"))) - 1
    return buttons[index].payload if 0 <= index < len(buttons) else text
