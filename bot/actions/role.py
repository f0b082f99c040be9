"""Switch the register: child directors and staff get reference answers, families plain ones."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.services import get_services


class ActionSetRole(Action):
    def name(self) -> str:
        return "action_set_role"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        role = get_services().extractor.role(tracker.latest_message.get("text") or "") or tracker.get_slot("role")
        role = role if role in ("parent", "child_director", "staff", "child") else "parent"
        response = {"parent": "utter_role_parent", "child": "utter_child_support"}.get(role, "utter_role_reference")
        dispatcher.utter_message(response=response)
        return [SlotSet("role", role)]
