"""Ask for a person: tell the user, and signal the gateway to open a ticket with a case summary."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.payload import handoff_payload
from bot.case_summary import case_summary


class ActionRequestHandoff(Action):
    def name(self) -> str:
        return "action_request_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(
            response="utter_handoff_requested",
            json_message=handoff_payload("user_request", "normal", case_summary(tracker)),
        )
        return []
