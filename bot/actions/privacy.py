"""The user asked to delete their data: the gateway confirms and deletes (its store and Rasa's)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.dialogue.payload import delete_request_payload


class ActionRequestDeletion(Action):
    def name(self) -> str:
        return "action_request_deletion"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(json_message=delete_request_payload())
        return []
