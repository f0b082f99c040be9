"""Danger to a child: the emergency reply at once and an urgent ticket, whatever the dialogue was doing.

The gateway screens every message first (lexicon, learned model, context; ``channels/safety/``) and says
what it found in the message's metadata (``screened``). When it did, it has already given the emergency
reply and opened the ticket, and this action answers what the message asks instead; the NLU's
``report_danger`` alone (Rasa reached without the gateway) still gets the emergency reply here.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.plan import carry_out
from bot.case_summary import case_summary
from bot.dialogue.payload import handoff_payload
from bot.dialogue.responder import Responder
from bot.services import get_services


def screened_by_gateway(tracker: Tracker) -> bool:
    user = next((e for e in reversed(tracker.events) if e.get("event") == "user"), None)
    return bool(user and (user.get("metadata") or {}).get("screened"))


class ActionCrisisResponse(Action):
    def name(self) -> str:
        return "action_crisis_response"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        services = get_services()
        text = str(tracker.latest_message.get("text") or "")
        if screened_by_gateway(tracker):
            plan = await asyncio.to_thread(Responder(services).answer, text, tracker.current_slot_values())
            return carry_out(plan, dispatcher)
        dispatcher.utter_message(
            response="utter_emergency",
            emergency=services.contact_lines(("emergency",)),
            counselling=services.contact_lines(("counselling",)),
            json_message=handoff_payload(
                "crisis", "urgent", case_summary(tracker, risk_flags=["danger_intent"], message=text)
            ),
        )
        return []
