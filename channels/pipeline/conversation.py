"""One turn of a conversation, the same for every channel.

In order: the conversation is found (one per channel and user); the crisis screen reads the message (the
head of an over-long one) with the conversation's recent risk, and the message is stored with the screen's
result, before anything can refuse it; a danger message (``urgent``) gets the emergency reply and an urgent
ticket at once, whatever the limits or the dialogue. Then length and rate limits; a numbered choice becomes
its button; the first-contact notice; the gateway's own pending questions (delete my data, call-back number,
rating); an active ticket routes the message to staff; otherwise Rasa answers and its signals (handoff,
delete request) are acted on. A message of ``concern`` gets its answer and a gentle safety check, and a
high-priority ticket for staff review. Every reply is stored; nothing is lost when a part fails: the user
gets a polite reply with the verified hotlines.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from channels.adapters.base import choose
from channels.handoff.service import BACK_TO_BOT, CALLBACK, CONSOLE, RATINGS, HandoffService, reply_payload
from channels.pipeline.messages import BotTurn, Button, InboundMessage, Reply, from_rasa, gateway_signals
from channels.pipeline.rasa_client import RasaClient, RasaUnavailableError
from channels.pipeline.texts import Texts
from channels.safety.privacy import mask_pii
from channels.safety.screen import Assessment, SafetyScreen
from channels.shared.bus import EventBus
from channels.shared.ratelimit import RateLimiter
from channels.store.records import ConversationRecord
from channels.store.store import Store
from channels.store.tracker_eraser import TrackerEraser, TrackerStoreUnreachable

logger = logging.getLogger(__name__)
PHRASES = Path(__file__).resolve().parents[1] / "data" / "gateway_phrases.zh.yml"
CONFIRM_DELETE, CANCEL = "/tx_confirm_delete", "/tx_cancel"
URGENT_ANSWER_WAIT_S = 3.0  # the emergency reply never waits longer than this for the answer that follows it
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


@dataclass(frozen=True)
class Phrases:
    delete_request: tuple[str, ...]
    confirm: tuple[str, ...]
    cancel: tuple[str, ...]
    back_to_bot: tuple[str, ...]
    ratings: dict[int, tuple[str, ...]]
    short_reply_chars: int = 12

    @classmethod
    def load(cls, path: Path = PHRASES) -> Phrases:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(
            tuple(data["delete_request"]),
            tuple(data["confirm"]),
            tuple(data["cancel"]),
            tuple(data["back_to_bot"]),
            {int(k): tuple(v) for k, v in data["ratings"].items()},
            int(data.get("short_reply_chars", 12)),
        )

    def reply(self, text: str, yes: str, no: str) -> bool | None:
        """A short yes (True) or no (False) in natural words ("嗯 删吧", "对的 删了", "算了不删"); None when the
        message is something else. A button's payload counts as its answer."""
        if text == yes:
            return True
        if text == no:
            return False
        folded = _FOLD.sub("", text.lower())
        if not folded or len(folded) > self.short_reply_chars:
            return None
        if any(w in folded for w in self.cancel):
            return False
        return True if any(w in folded for w in self.confirm) else None


_FOLD = re.compile(r"[\s\W_]+")


def _is(text: str, payload: str, phrases: tuple[str, ...]) -> bool:
    return text == payload or text.strip("。.!！ ") in phrases


class ConversationService:
    def __init__(
        self,
        rasa: RasaClient,
        texts: Texts,
        store: Store,
        handoff: HandoffService,
        bus: EventBus,
        crisis: SafetyScreen,
        limiter: RateLimiter,
        eraser: TrackerEraser,
        *,
        max_chars: int,
    ) -> None:
        self.rasa, self.texts, self.store, self.handoff, self.bus = rasa, texts, store, handoff, bus
        self.crisis, self.limiter, self.eraser, self.max_chars = crisis, limiter, eraser, max_chars
        self.phrases = Phrases.load()

    def unavailable_turn(self) -> BotTurn:
        return BotTurn([Reply(text=self.texts.bot_unavailable, author="system")])

    def _system(self, key: str, buttons: list[Button] | None = None, **values: Any) -> Reply:
        return Reply(text=self.texts.get(key, **values), buttons=buttons or [], author="system")

    async def handle(self, message: InboundMessage) -> BotTurn:
        """One turn, on any channel. This is the one failure boundary: whatever breaks inside (a malformed
        reply, a store error), the person gets the polite reply naming the hotlines, never silence."""
        try:
            return await self._handle(message)
        except Exception:
            logger.exception("the turn on %s failed", message.channel)
            return self.unavailable_turn()

    async def _handle(self, message: InboundMessage) -> BotTurn:
        conversation = await asyncio.to_thread(self.store.conversation, message.channel, message.sender_id)
        client_id = str(message.metadata.get("client_id") or "")[:64] or None
        if client_id:
            repeated = await self._repeated(conversation, client_id)
            if repeated is not None:
                return repeated
        text = choose(message.text.strip(), [Button.model_validate(b) for b in conversation.last_buttons])
        # Screened and stored before any limit: a cry for help in a burst or a long message is never lost.
        head = text[: self.max_chars]
        recent = await asyncio.to_thread(self.store.recent_risk, conversation.id)
        risk = await asyncio.to_thread(self.crisis.assess, head, recent)
        payload = {"risk": {"level": risk.level, "score": round(risk.score, 3), "signals": risk.evidence()}}
        await asyncio.to_thread(self.store.add_message, conversation.id, "user", text, payload, None, client_id)
        self.bus.publish(CONSOLE, {"type": "message", "conversation_id": conversation.id})
        if risk.level == "urgent":
            turn = await self._emergency(conversation, head, risk, message)
        elif len(text) > self.max_chars:
            turn = BotTurn([self._system("too_long", max_chars=self.max_chars)])
        elif not await self.limiter.allow(f"{message.channel}:{message.sender_id}"):
            turn = BotTurn([self._system("rate_limited")])
        else:
            turn = await self._turn(conversation, text, message, risk.level)
        if risk.level == "concern":
            turn = await self._safety_check(conversation, head, risk, turn)
        replies = list(turn.replies)
        if not conversation.notice_shown:
            # After the answer, so the first thing a user (or a client reading replies[0]) sees is the answer.
            replies.append(self._system("privacy_notice"))
        return await self._finish(conversation, BotTurn(replies, turn.handoff, turn.signal))

    async def _emergency(
        self, conversation: ConversationRecord, text: str, risk: Assessment, message: InboundMessage
    ) -> BotTurn:
        """Emergency lines first and an urgent ticket; then, if the bot still has the conversation and answers
        within a few seconds, what the message asks ("打哪个电话", "我该么办") — never delaying the lines."""
        logger.warning("crisis screen: urgent in %s (%s)", conversation.id, ", ".join(risk.categories) or "model")
        summary = self._risk_summary(text, risk)
        handoff, status = await self.handoff.open(conversation, "crisis", "urgent", summary)
        self.bus.publish(CONSOLE, {"type": "alert", "ticket_id": handoff.ticket_id, "urgent": True})
        replies = [self._system("emergency_reply"), *status]
        if handoff.state != "active":
            try:
                answer = await asyncio.wait_for(
                    self._ask_rasa(conversation, text, message, screened="urgent"), URGENT_ANSWER_WAIT_S
                )
                replies += [r for r in answer.replies if r.author != "system"]
            except TimeoutError:
                logger.info(
                    "no answer within %ss after the emergency reply in %s", URGENT_ANSWER_WAIT_S, conversation.id
                )
        return BotTurn(replies, handoff)

    async def _safety_check(
        self, conversation: ConversationRecord, text: str, risk: Assessment, turn: BotTurn
    ) -> BotTurn:
        """The answer stays; a gentle question whether the child is safe follows, and staff review it."""
        handoff = turn.handoff
        if handoff is None:
            ticket = await asyncio.to_thread(self.store.open_ticket_for, conversation.id)
            if ticket is None:
                opened = await asyncio.to_thread(
                    self.store.open_ticket, conversation.id, "high", "concern", self._risk_summary(text, risk)
                )
                self.bus.publish(CONSOLE, {"type": "ticket", "ticket_id": opened.id})
                ticket = opened
            handoff = self.handoff.handoff_out(ticket)
        check = self._system("safety_check", [Button(title=self.texts.handoff_button, payload="/request_human")])
        return BotTurn([*turn.replies, check], handoff, turn.signal)

    @staticmethod
    def _risk_summary(text: str, risk: Assessment) -> dict[str, Any]:
        return {
            "risk_flags": list(risk.categories),
            "risk_level": risk.level,
            "risk_score": round(risk.score, 2),
            "evidence": risk.evidence(),
            "message": text,
            "source": "crisis_screen",
        }

    async def _turn(
        self, conversation: ConversationRecord, text: str, message: InboundMessage, screened: str = "none"
    ) -> BotTurn:
        if conversation.pending:
            pending = await self._pending(conversation, text)
            if pending is not None:
                return pending
        if any(p in text for p in self.phrases.delete_request):
            return await self._ask_delete(conversation)
        ticket = await asyncio.to_thread(self.store.open_ticket_for, conversation.id)
        if ticket is not None:
            if _is(text, BACK_TO_BOT, self.phrases.back_to_bot):
                await self.handoff.close(ticket.id, None, "user_returned", None, by_user=True)
                return BotTurn([self._system("back_to_bot")])
            if text == CALLBACK:
                await asyncio.to_thread(
                    self.store.update_conversation, conversation.id, pending=f"callback:{ticket.id}"
                )
                return BotTurn([self._system("callback_ask")], self.handoff.handoff_out(ticket))
            if ticket.state == "active":  # a hotline worker has the conversation: the bot stays out
                return BotTurn([self._system("staff_ack")], self.handoff.handoff_out(ticket))
        return await self._ask_rasa(conversation, text, message, screened=screened)

    async def _ask_rasa(
        self, conversation: ConversationRecord, text: str, message: InboundMessage, *, screened: str = "none"
    ) -> BotTurn:
        metadata = {
            "channel": message.channel,
            "screened": screened,  # the crisis screen's level: the bot answers, the gateway has done the rest
            **{k: v for k, v in message.metadata.items() if k != "client_id"},
        }
        try:
            raw = await self.rasa.send(message.conversation_id, text, metadata)
        except RasaUnavailableError as exc:
            logger.warning("rasa unavailable for conversation %s: %s", conversation.id, exc)
            return self.unavailable_turn()
        replies, signal = from_rasa(raw)
        if any(s.kind == "delete_request" for s in gateway_signals(raw)):
            return await self._ask_delete(conversation)
        if not replies:
            logger.warning("rasa returned no text for conversation %s", conversation.id)
            replies = [
                Reply(
                    text=self.texts.empty_reply,
                    author="system",
                    buttons=[Button(title=self.texts.handoff_button, payload="/request_human")],
                )
            ]
        if signal is None:
            ticket = await asyncio.to_thread(self.store.open_ticket_for, conversation.id)
            return BotTurn(replies, self.handoff.handoff_out(ticket) if ticket else None)
        summary = {**signal.summary, "reason": signal.reason}
        handoff, status = await self.handoff.open(conversation, signal.reason, signal.priority, summary)
        return BotTurn(replies + status, handoff, signal)

    async def _pending(self, conversation: ConversationRecord, text: str) -> BotTurn | None:
        pending = conversation.pending or ""

        async def clear() -> None:
            await asyncio.to_thread(self.store.update_conversation, conversation.id, pending=None)

        if pending == "confirm_delete":
            answer = self.phrases.reply(text, CONFIRM_DELETE, CANCEL)
            if answer is True:
                return await self._delete(conversation)
            await clear()
            if answer is False:
                return BotTurn([self._system("delete_cancelled")])
            return None
        if pending.startswith("callback:"):
            ticket_id = pending.split(":", 1)[1]
            if _is(text, CANCEL, self.phrases.cancel):
                await clear()
                return BotTurn([self._system("cancelled")])
            match = _MOBILE.search(text.replace(" ", "").replace("-", ""))
            if match is None:
                return BotTurn([self._system("callback_invalid")])
            await asyncio.to_thread(self.store.set_ticket_fields, ticket_id, callback_phone=match.group(0))
            await clear()
            self.bus.publish(CONSOLE, {"type": "ticket", "ticket_id": ticket_id, "callback": True})
            return BotTurn([self._system("callback_saved")])
        if pending.startswith("rate:"):
            await clear()
            score = RATINGS.get(text) or next(
                (s for s, words in self.phrases.ratings.items() if text.strip("。.!！ ") in words), None
            )
            if score is None:
                return None
            await asyncio.to_thread(self.store.set_ticket_fields, pending.split(":", 1)[1], satisfaction=score)
            return BotTurn([self._system("rating_thanks")])
        await clear()
        return None

    async def _ask_delete(self, conversation: ConversationRecord) -> BotTurn:
        await asyncio.to_thread(self.store.update_conversation, conversation.id, pending="confirm_delete")
        buttons = [
            Button(title=self.texts.get("delete_confirm_button"), payload=CONFIRM_DELETE),
            Button(title=self.texts.get("delete_cancel_button"), payload=CANCEL),
        ]
        return BotTurn([self._system("delete_confirm", buttons=buttons)])

    async def _delete(self, conversation: ConversationRecord) -> BotTurn:
        """The user's data goes from both stores, Rasa's tracker store first: when it cannot be erased the
        user is told so and the gateway's copy stays, so that asking again (or staff) can finish the job."""
        sender = f"{conversation.channel}:{conversation.sender_id}"
        try:
            events = await asyncio.to_thread(self.eraser.erase, sender)
        except TrackerStoreUnreachable:
            logger.error("conversation %s: deletion failed, Rasa's tracker store not erased", conversation.id)
            await asyncio.to_thread(self.store.update_conversation, conversation.id, pending=None)
            return BotTurn([self._system("delete_failed")])
        messages = await asyncio.to_thread(self.store.delete_conversation, conversation.id)
        logger.info(
            "conversation %s deleted at the user's request: %s messages, %s tracker events",
            conversation.id,
            messages,
            events,
        )
        return BotTurn([self._system("deleted", messages=messages)])

    async def _repeated(self, conversation: ConversationRecord, client_id: str) -> BotTurn | None:
        """A retried message (same client id) is answered from the store, never processed twice."""
        earlier = await asyncio.to_thread(self.store.message_by_client_id, conversation.id, client_id)
        if earlier is None:
            return None
        following = await asyncio.to_thread(self.store.messages, conversation.id, earlier.id, 20)
        replies = []
        for m in following:
            if m.author == "user":
                break
            replies.append(
                Reply(
                    text=m.text,
                    buttons=m.payload.get("buttons", []),
                    citations=m.payload.get("citations", []),
                    author=m.payload.get("author", "bot"),
                )
            )
        return BotTurn(replies or [self._system("staff_ack")])

    async def _finish(self, conversation: ConversationRecord, turn: BotTurn) -> BotTurn:
        with_buttons = [r for r in turn.replies if r.buttons]
        await asyncio.to_thread(
            self.store.finish_turn,
            conversation.id,
            [(reply.author, reply.text, reply_payload(reply)) for reply in turn.replies],
            [b.model_dump() for b in with_buttons[-1].buttons] if with_buttons else [],
        )  # False: deleted in this turn, and nothing more is kept; stored or not, the notice has been shown
        logger.debug("turn in %s: %s", conversation.id, mask_pii(" | ".join(r.text for r in turn.replies))[:200])
        return turn
