"""Ask for a person: tell the user, and signal the gateway to open a ticket with a case summary."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.case_summary import case_summary
from bot.dialogue.payload import handoff_payload
from bot.services import get_services


class ActionRequestHandoff(Action):
    def name(self) -> str:
        return "action_request_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        services = get_services()
        text = str(tracker.latest_message.get("text") or "")
        if services.cues.declines_human(text):  # "算了 先不用转人工": the NLU heard 转人工, the user said no
            dispatcher.utter_message(response="utter_handoff_declined")
            return [SlotSet("next_step", None)]
        # A child director who reported a child alone or unsafe is followed up before ordinary requests.
        reported = tracker.get_slot("next_step") == "offer_report"
        child = tracker.get_slot("role") == "child" or services.cues.child_writing(text)
        dispatcher.utter_message(
            response="utter_handoff_requested_child" if child else "utter_handoff_requested",
            json_message=handoff_payload(
                "child_report" if reported else "user_request", "high" if reported else "normal", case_summary(tracker)
            ),
        )
        return [SlotSet("next_step", None)]
