"""Carry out a turn's plan (bot/dialogue/responder.py): utter each response by name, set the slots."""

from __future__ import annotations

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.dialogue.responder import Plan


def carry_out(plan: Plan, dispatcher: CollectingDispatcher) -> list[EventType]:
    for u in plan.utterances:
        if u.custom is None:
            dispatcher.utter_message(response=u.response, **u.values)
        else:
            dispatcher.utter_message(response=u.response, json_message=u.custom, **u.values)
    return [SlotSet(name, value) for name, value in plan.slots.items()]
