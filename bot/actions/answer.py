"""Answer a policy question from the knowledge base, with its source; say so honestly when nothing fits."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.payload import answer_payload
from bot.services import get_services


class ActionAnswerPolicy(Action):
    """Search the policy corpus for the user's last message and utter the answer card or "not found"."""

    def name(self) -> str:
        return "action_answer_policy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        question = tracker.latest_message.get("text") or ""
        card = await asyncio.to_thread(get_services().answer, question)
        if card is None:
            dispatcher.utter_message(response="utter_policy_not_found")
            return [SlotSet("last_doc_id", None)]
        dispatcher.utter_message(
            response="utter_policy_answer",
            summary=card.summary,
            passage=card.passage,
            source=card.citation.label,
            json_message=answer_payload(card),
        )
        return [SlotSet("last_doc_id", card.doc_id)]
