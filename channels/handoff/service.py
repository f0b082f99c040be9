"""Hotline handoff: open tickets from the bot's signals, route staff replies, close, call-backs, ratings."""

from __future__ import annotations

import asyncio
from typing import Any

from channels.handoff.delivery import Delivery
from channels.pipeline.messages import Button, HandoffOut, Priority, Reply
from channels.pipeline.texts import Texts
from channels.settings import GatewaySettings
from channels.shared.bus import EventBus
from channels.shared.presence import Presence
from channels.store.records import ConversationRecord, MessageRecord, StaffRecord, TicketRecord
from channels.store.store import Store

CONSOLE = "console"
BACK_TO_BOT = "/tx_back_to_bot"
CALLBACK = "/tx_callback"
RATINGS = {"/tx_rate_good": 3, "/tx_rate_ok": 2, "/tx_rate_bad": 1}


def reply_payload(reply: Reply) -> dict[str, Any]:
    return {k: v for k, v in reply.model_dump().items() if k in ("buttons", "citations", "author") and v}


class HandoffService:
    def __init__(
        self,
        store: Store,
        texts: Texts,
        settings: GatewaySettings,
        bus: EventBus,
        presence: Presence,
        delivery: Delivery,
    ) -> None:
        self.store, self.texts, self.settings, self.bus, self.delivery = store, texts, settings, bus, delivery
        self.presence = presence

    def _status_buttons(self, *, callback: bool) -> list[Button]:
        buttons = [Button(title=self.texts.get("back_to_bot_button"), payload=BACK_TO_BOT)]
        if callback:
            buttons.insert(0, Button(title=self.texts.get("callback_button"), payload=CALLBACK))
        return buttons

    async def open(
        self, conversation: ConversationRecord, reason: str, priority: Priority, summary: dict[str, Any]
    ) -> tuple[HandoffOut, list[Reply]]:
        """Open (or escalate) the conversation's ticket and tell the user honestly what happens next."""
        recent = await asyncio.to_thread(self.store.last_messages, conversation.id, 8)
        full = {
            **summary,
            "channel": conversation.channel,
            "recent": [{"from": m.author, "text": m.text} for m in recent],
        }
        ticket = await asyncio.to_thread(self.store.open_ticket, conversation.id, priority, reason, full)
        self.bus.publish(
            CONSOLE,
            {
                "type": "ticket",
                "ticket_id": ticket.id,
                "priority": ticket.priority,
                "state": ticket.state,
                "urgent": ticket.priority == "urgent",
            },
        )
        position = await asyncio.to_thread(self.store.queue_position, ticket.id)
        if ticket.state == "active":
            status: list[Reply] = []
        elif not self.settings.on_duty():
            status = [
                Reply(
                    text=self.texts.get("handoff_off_duty", hours=self.settings.duty_hours),
                    buttons=self._status_buttons(callback=True),
                    author="system",
                )
            ]
        elif await self.presence.online() == 0:
            status = [
                Reply(
                    text=self.texts.get("handoff_nobody"), buttons=self._status_buttons(callback=True), author="system"
                )
            ]
        else:
            status = [
                Reply(
                    text=self.texts.get("handoff_queued", position=position or 1),
                    buttons=self._status_buttons(callback=False),
                    author="system",
                )
            ]
        return self.handoff_out(ticket, position), status

    @staticmethod
    def handoff_out(ticket: TicketRecord, position: int | None = None) -> HandoffOut:
        state = "active" if ticket.state == "active" else "waiting"
        return HandoffOut.model_validate(
            {"ticket_id": ticket.id, "priority": ticket.priority, "state": state, "queue_position": position}
        )

    async def _send(self, conversation: ConversationRecord, replies: list[Reply], staff_id: int | None = None) -> None:
        ids = []
        for reply in replies:
            message = await asyncio.to_thread(
                self.store.add_message, conversation.id, reply.author, reply.text, reply_payload(reply), staff_id
            )
            ids.append(message.id)
        if any(r.buttons for r in replies):
            last = [r for r in replies if r.buttons][-1]
            await asyncio.to_thread(
                self.store.update_conversation, conversation.id, last_buttons=[b.model_dump() for b in last.buttons]
            )
        await self._deliver(conversation, replies, ids)
        self.bus.publish(CONSOLE, {"type": "message", "conversation_id": conversation.id})

    async def _deliver(
        self, conversation: ConversationRecord, replies: list[Reply], ids: list[int], *, record: bool = False
    ) -> str | None:
        """Push stored messages and record on them whether they reached the user's platform (the web widget
        reads its messages from the store, so there only a failure, or a resend, is worth recording)."""
        error = await self.delivery.push(conversation, replies, ids)
        if record or error or conversation.channel != "web":
            await asyncio.to_thread(self.store.set_delivery, ids, error)
        return error

    async def retry_delivery(self, message_id: int, staff: StaffRecord) -> str | None:
        """Send an undelivered message again; ``None`` when it went out this time."""
        message = await asyncio.to_thread(self.store.get_message, message_id)
        if message is None:
            raise LookupError(message_id)
        conversation = await asyncio.to_thread(self.store.get_conversation, message.conversation_id)
        if conversation is None:
            raise LookupError(message_id)
        reply = Reply(text=message.text, author=message.author, buttons=message.payload.get("buttons") or [])
        error = await self._deliver(conversation, [reply], [message.id], record=True)
        await asyncio.to_thread(
            self.store.audit, staff.id, "retry_delivery", "message", str(message_id), {"delivered": error is None}
        )
        self.bus.publish(CONSOLE, {"type": "message", "conversation_id": conversation.id})
        return error

    async def take(self, ticket_id: str, staff: StaffRecord, *, reassign_to: int | None = None) -> TicketRecord:
        ticket = await asyncio.to_thread(
            self.store.take_ticket, ticket_id, reassign_to or staff.id, reassign=reassign_to is not None
        )
        await asyncio.to_thread(
            self.store.audit,
            staff.id,
            "reassign" if reassign_to else "take",
            "ticket",
            ticket_id,
            {"assignee": reassign_to or staff.id},
        )
        conversation = await asyncio.to_thread(self.store.get_conversation, ticket.conversation_id)
        if conversation and reassign_to is None:
            await self._send(
                conversation,
                [
                    Reply(
                        text=self.texts.get("staff_joined"),
                        buttons=self._status_buttons(callback=False),
                        author="system",
                    )
                ],
            )
        self.bus.publish(CONSOLE, {"type": "ticket", "ticket_id": ticket.id, "state": ticket.state})
        return ticket

    async def staff_reply(self, ticket_id: str, staff: StaffRecord, text: str) -> MessageRecord | None:
        ticket = await asyncio.to_thread(self.store.get_ticket, ticket_id)
        if ticket is None or not ticket.open:
            return None
        if ticket.state == "waiting" or ticket.assignee_id is None:
            ticket = await self.take(ticket_id, staff)
        conversation = await asyncio.to_thread(self.store.get_conversation, ticket.conversation_id)
        if conversation is None:
            return None
        message = await asyncio.to_thread(
            self.store.add_message, conversation.id, "staff", text, {"author": "staff"}, staff.id
        )
        await asyncio.to_thread(self.store.audit, staff.id, "reply", "ticket", ticket_id, {"message_id": message.id})
        await self._deliver(conversation, [Reply(text=text, author="staff")], [message.id])
        self.bus.publish(CONSOLE, {"type": "message", "conversation_id": conversation.id, "ticket_id": ticket_id})
        return message

    async def close(
        self, ticket_id: str, staff: StaffRecord | None, outcome_code: str, note: str | None, *, by_user: bool = False
    ) -> TicketRecord:
        ticket = await asyncio.to_thread(self.store.close_ticket, ticket_id, outcome_code, note)
        await asyncio.to_thread(
            self.store.audit,
            staff.id if staff else None,
            "close",
            "ticket",
            ticket_id,
            {"outcome": outcome_code, "by_user": by_user},
        )
        self.bus.publish(CONSOLE, {"type": "ticket", "ticket_id": ticket.id, "state": "closed"})
        conversation = await asyncio.to_thread(self.store.get_conversation, ticket.conversation_id)
        if conversation and not by_user:
            buttons = [
                Button(title=self.texts.get(key), payload=payload)
                for key, payload in (
                    ("rate_good", "/tx_rate_good"),
                    ("rate_ok", "/tx_rate_ok"),
                    ("rate_bad", "/tx_rate_bad"),
                )
            ]
            await asyncio.to_thread(self.store.update_conversation, conversation.id, pending=f"rate:{ticket.id}")
            await self._send(
                conversation, [Reply(text=self.texts.get("ticket_closed"), buttons=buttons, author="system")]
            )
        return ticket
