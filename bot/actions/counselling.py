"""Counselling referral: a short, kind exchange (age, county), then verified services and a person."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.eligibility import MAX_AGE, NOT_ANSWERS
from bot.eligibility.facts import UNKNOWN
from bot.services import get_services

REQUESTED = "requested_slot"


class ValidateCounsellingForm(Action):
    def name(self) -> str:
        return "validate_counselling_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        services = get_services()
        requested = tracker.get_slot(REQUESTED)
        text = tracker.latest_message.get("text") or ""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        found = services.extractor.extract(text, requested="child_age" if requested == "child_age" else None)
        slots: dict[str, Any] = {}
        age = found.get("child_age")
        if age == UNKNOWN or (isinstance(age, int) and 0 <= age <= MAX_AGE):
            slots["child_age"] = age
        elif isinstance(age, int):
            dispatcher.utter_message(response="utter_invalid_age")
        county = services.extractor.county(text)
        if county:
            slots["county"] = county
        elif requested == "county" and (
            found.get("county") == UNKNOWN
            or intent in ("dont_know", "deny")
            or services.extractor.extract(text, requested="county").get("county")
        ):
            slots["county"] = UNKNOWN
        if not slots and requested is not None and intent in NOT_ANSWERS and intent != "ask_counselling":
            return []
        current = {"child_age": tracker.get_slot("child_age"), "county": tracker.get_slot("county"), **slots}
        events: list[EventType] = [SlotSet(k, v) for k, v in slots.items()]
        if not slots and requested is not None:
            events.append(SlotSet(requested, None))
        next_slot = next((s for s in ("child_age", "county") if current.get(s) is None), None)
        return [*events, SlotSet(REQUESTED, next_slot)]


class ActionCounsellingReferral(Action):
    def name(self) -> str:
        return "action_counselling_referral"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        services = get_services()
        county = tracker.get_slot("county")
        entries = services.referrals(
            kinds=("counselling", "child_director", "protection_centre"),
            county=county if county and county != UNKNOWN else None,
        )
        verified_first = sorted(entries, key=lambda r: not r.verified)
        dispatcher.utter_message(
            response="utter_counselling_referral", services=services.referral_lines(verified_first)
        )
        return [SlotSet(REQUESTED, None)]
