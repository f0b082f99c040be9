"""The verified hotlines, with what each is for (unverified numbers are never shown)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.services import get_services


class ActionShowHotlines(Action):
    def name(self) -> str:
        return "action_show_hotlines"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        services = get_services()
        verified = [r for r in services.referrals(kinds=("emergency", "hotline", "counselling")) if r.public_contact()]
        dispatcher.utter_message(response="utter_hotlines", lines=services.referral_lines(verified))
        return []
