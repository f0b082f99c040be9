"""Answer a policy question from the knowledge base, with its source; say so honestly when nothing fits."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.payload import answer_payload, handoff_payload
from bot.case_summary import case_summary
from bot.services import get_services

REFERENCE_ROLES = ("child_director", "staff")


class ActionAnswerPolicy(Action):
    """Search the corpus for the user's message: an answer card in the register of the user's role,
    or "not found"; the second failure in a row asks for a person."""

    def name(self) -> str:
        return "action_answer_policy"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        services = get_services()
        card = await asyncio.to_thread(services.answer, tracker.latest_message.get("text") or "")
        if card is None:
            streak = int(tracker.get_slot("failure_streak") or 0) + 1
            if streak >= 2:
                dispatcher.utter_message(
                    response="utter_repeated_failure",
                    json_message=handoff_payload("repeated_failure", "normal", case_summary(tracker)),
                )
                return [SlotSet("failure_streak", 0)]
            dispatcher.utter_message(response="utter_policy_not_found")
            return [SlotSet("failure_streak", streak)]
        source = card.citation.label
        answer = {
            "doc_id": card.doc_id,
            "heading": card.heading or card.title,
            "passage": card.passage,
            "source": source,
        }
        if card.superseded_by:
            current = services.kb.document(card.superseded_by).meta.title
            dispatcher.utter_message(
                response="utter_policy_history",
                current_title=current,
                passage=card.passage,
                source=source,
                json_message=answer_payload(card),
            )
        elif tracker.get_slot("role") in REFERENCE_ROLES:
            dispatcher.utter_message(
                response="utter_policy_answer_reference",
                heading=answer["heading"],
                passage=card.passage,
                source=source,
                summary=card.summary,
                json_message=answer_payload(card),
            )
        else:
            dispatcher.utter_message(
                response="utter_policy_answer", summary=card.summary, source=source, json_message=answer_payload(card)
            )
        return [SlotSet("last_doc_id", card.doc_id), SlotSet("last_answer", answer), SlotSet("failure_streak", 0)]


class ActionHandleFallback(ActionAnswerPolicy):
    """Low NLU confidence: try the knowledge base anyway; it answers only when it is confident."""

    def name(self) -> str:
        return "action_handle_fallback"


class ActionPolicyDetails(Action):
    """The supporting passage and exact source of the last answer ("看具体规定")."""

    def name(self) -> str:
        return "action_policy_details"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        answer = tracker.get_slot("last_answer")
        if not isinstance(answer, dict):
            dispatcher.utter_message(response="utter_no_details")
            return []
        dispatcher.utter_message(
            response="utter_policy_details",
            heading=answer["heading"],
            passage=answer["passage"],
            source=answer["source"],
        )
        return []
