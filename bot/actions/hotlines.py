"""A question about hotlines: the passage that answers it, with its basis ("妇联有热线吗", "未保法第九十七条要求
开通什么热线"); the verified list with what each number is for when none does (unverified numbers are never shown)."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.plan import carry_out
from bot.dialogue.responder import Responder
from bot.services import get_services


class ActionShowHotlines(Action):
    def name(self) -> str:
        return "action_show_hotlines"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        services = get_services()
        verified = [r for r in services.referrals(kinds=("emergency", "hotline", "counselling")) if r.public_contact()]
        lines = services.referral_lines(verified)
        text = str(tracker.latest_message.get("text") or "")
        plan = await asyncio.to_thread(Responder(services).hotlines, text, tracker.current_slot_values(), lines)
        return carry_out(plan, dispatcher)
