"""Messages that answer no request (a hotline worker's reply, a closing note) reach the user on their channel."""

from __future__ import annotations

import logging

from channels.adapters.base import ChannelAdapter
from channels.pipeline.messages import Reply
from channels.shared.bus import EventBus
from channels.store.records import ConversationRecord

logger = logging.getLogger(__name__)


def conversation_topic(conversation_id: int) -> str:
    return f"conversation:{conversation_id}"


class Delivery:
    """Web users get pushes over the bus (the widget's socket; the store serves its polling fallback);
    other channels go through their adapter's ``push``."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self.adapters: dict[str, ChannelAdapter] = {}

    def register(self, adapter: ChannelAdapter) -> None:
        self.adapters[adapter.name] = adapter

    async def push(self, conversation: ConversationRecord, replies: list[Reply], message_ids: list[int]) -> str | None:
        """Send stored messages; ``None`` when they went out, otherwise why not (for the console to show)."""
        if conversation.channel == "web":
            # The widget's socket gets them now; a closed widget reads them from the store when it opens.
            for reply, message_id in zip(replies, message_ids, strict=True):
                self.bus.publish(
                    conversation_topic(conversation.id), {"type": "push", "id": message_id, **reply.model_dump()}
                )
            return None
        adapter = self.adapters.get(conversation.channel)
        if adapter is None:
            logger.error("no adapter for channel %s: message stored, not delivered", conversation.channel)
            return f"the {conversation.channel} channel is not running"
        try:
            await adapter.push(conversation.sender_id, replies)
        except Exception as exc:  # the message is in the store, marked undelivered for the console
            logger.exception("delivery to %s:%s failed", conversation.channel, conversation.sender_id)
            return str(exc)[:200] or type(exc).__name__
        return None
