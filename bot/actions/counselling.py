"""Psychological help asked for: where to find it, at once (a child is answered as a child)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.services import get_services


class ActionCounsellingAnswer(Action):
    def name(self) -> str:
        return "action_counselling_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        services = get_services()
        text = str(tracker.latest_message.get("text") or "")
        county = services.extractor.county(text) or tracker.get_slot("county")
        role = services.extractor.role(text) or ("child" if services.cues.child_writing(text) else None)
        if (role or tracker.get_slot("role")) == "child":
            dispatcher.utter_message(response="utter_child_support")
            return [SlotSet("role", "child")]
        entries = services.referrals(kinds=("counselling", "child_director", "protection_centre"), county=county)
        verified_first = sorted(entries, key=lambda r: not r.verified)
        dispatcher.utter_message(
            response="utter_counselling_referral", services=services.referral_lines(verified_first)
        )
        return [SlotSet("county", county)] if county else []


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
