"""Psychological help asked for: where to find it, at once (a child is answered as a child)."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.plan import carry_out
from bot.dialogue.responder import Responder
from bot.services import get_services


class ActionCounsellingAnswer(Action):
    def name(self) -> str:
        return "action_counselling_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        services = get_services()
        text = str(tracker.latest_message.get("text") or "")
        county = services.extractor.county(text) or tracker.get_slot("county")
        entries = services.referrals(kinds=("counselling", "child_director", "protection_centre"), county=county)
        lines = services.referral_lines(sorted(entries, key=lambda r: not r.verified))
        plan = await asyncio.to_thread(Responder(services).counselling, text, tracker.current_slot_values(), lines)
        return carry_out(plan, dispatcher) + ([SlotSet("county", county)] if county else [])


class ActionSmallTalk(Action):
    """Chitchat: a child gets kind words and a person to talk to, others what the assistant is for."""

    def name(self) -> str:
        return "action_small_talk"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        services = get_services()
        text = str(tracker.latest_message.get("text") or "")
        if services.cues.child_writing(text) or tracker.get_slot("role") == "child":
            response = (
                "utter_child_confidentiality" if services.cues.asks_confidentiality(text) else "utter_child_support"
            )
            dispatcher.utter_message(response=response)
            return [SlotSet("role", "child")]
        dispatcher.utter_message(response="utter_chitchat")
        return []
