"""One turn of a conversation, the same for every channel: the user's message in, the bot's replies out."""

from __future__ import annotations

import logging

from channels.messages import BotTurn, Button, InboundMessage, Reply, from_rasa
from channels.rasa_client import RasaClient, RasaUnavailableError
from channels.replies import GatewayTexts

logger = logging.getLogger(__name__)


class ConversationService:
    def __init__(self, rasa: RasaClient, texts: GatewayTexts) -> None:
        self._rasa = rasa
        self._texts = texts

    def unavailable_turn(self) -> BotTurn:
        return BotTurn([Reply(text=self._texts.bot_unavailable)])

    async def handle(self, message: InboundMessage) -> BotTurn:
        """Ask Rasa; when it fails or says nothing, the user still gets a polite, useful reply."""
        metadata = {"channel": message.channel, **message.metadata}
        try:
            raw = await self._rasa.send(message.conversation_id, message.text, metadata)
        except RasaUnavailableError as exc:
            logger.warning("rasa unavailable for %s: %s", message.conversation_id, exc)
            return self.unavailable_turn()
        replies, signal = from_rasa(raw)
        if not replies:
            logger.warning("rasa returned no text for %s: %r", message.conversation_id, raw)
            replies = [Reply(text=self._texts.empty_reply,
                             buttons=[Button(title=self._texts.handoff_button, payload="/request_human")])]
        return BotTurn(replies, None, signal)
