"""Danger to a child: the emergency reply at once and an urgent ticket, whatever the dialogue was doing."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.case_summary import case_summary
from bot.dialogue.payload import handoff_payload
from bot.services import get_services


class ActionCrisisResponse(Action):
    def name(self) -> str:
        return "action_crisis_response"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        services = get_services()
        dispatcher.utter_message(
            response="utter_emergency",
            emergency=services.contact_lines(("emergency",)),
            counselling=services.contact_lines(("counselling",)),
            json_message=handoff_payload(
                "crisis",
                "urgent",
                case_summary(tracker, risk_flags=["danger_intent"], message=tracker.latest_message.get("text")),
            ),
        )
        return []
