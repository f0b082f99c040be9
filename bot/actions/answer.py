"""Answer what was asked: a question, a situation told, a request to be screened (bot/dialogue/responder.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.plan import carry_out
from bot.dialogue.responder import Responder
from bot.services import get_services


def _text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "")


class ActionAnswerPolicy(Action):
    """A question: its answer now, from the passage that holds it; "not found" honestly."""

    def name(self) -> str:
        return "action_answer_policy"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        responder = Responder(get_services())
        plan = await asyncio.to_thread(responder.answer, _text(tracker), tracker.current_slot_values())
        return carry_out(plan, dispatcher)


class ActionHandleFallback(ActionAnswerPolicy):
    """Low NLU confidence: the knowledge base answers only when it is confident."""

    def name(self) -> str:
        return "action_handle_fallback"


class ActionSituationAnswer(Action):
    """Facts told or a screening asked for: the verdict at once; the form starts only when nothing is known."""

    def name(self) -> str:
        return "action_situation_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        asked = (tracker.latest_message.get("intent") or {}).get("name") == "check_eligibility"
        responder = Responder(get_services())
        plan = await asyncio.to_thread(
            responder.situation, _text(tracker), tracker.current_slot_values(), screening_asked=asked
        )
        return carry_out(plan, dispatcher)


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
