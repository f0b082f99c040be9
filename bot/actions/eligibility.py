"""The eligibility screening: start, read each answer, ask only what still matters, give the verdicts."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.payload import handoff_payload, screening_payload
from bot.case_summary import case_summary
from bot.eligibility.facts import FACT_NAMES, UNKNOWN, Facts
from bot.services import get_services

REQUESTED = "requested_slot"
MAX_AGE = 24  # "18+ still in school" is possible; older is a typo
# Messages that are not an answer: the form steps aside and the rules handle them, then it resumes.
NOT_ANSWERS = (
    "ask_policy",
    "ask_details",
    "ask_hotline",
    "request_human",
    "stop",
    "report_danger",
    "greet",
    "goodbye",
    "thank",
    "out_of_scope",
    "chitchat",
    "bot_challenge",
    "restart",
    "set_role",
    "ask_counselling",
    "delete_my_data",
    "nlu_fallback",
)


def _screening_slots(tracker: Tracker) -> dict[str, Any]:
    return {name: tracker.get_slot(name) for name in FACT_NAMES}


class ActionStartScreening(Action):
    """A fresh screening: forget the previous answers (the form then reads the first message too)."""

    def name(self) -> str:
        return "action_start_screening"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(response="utter_screening_intro")
        return [SlotSet(name, None) for name in FACT_NAMES] + [SlotSet("screening_stopped", False)]


class ValidateEligibilityForm(Action):
    """Reads every fact the message gives (not only the one asked), validates them, and asks next the
    first fact whose answer can still change a verdict; none left ends the form."""

    def name(self) -> str:
        return "validate_eligibility_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        services = get_services()
        requested = tracker.get_slot(REQUESTED)
        text = tracker.latest_message.get("text") or ""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        found = services.extractor.extract(text, requested=requested)
        events: list[EventType] = []
        if "child_age" in found and found["child_age"] != UNKNOWN and not 0 <= found["child_age"] <= MAX_AGE:
            found.pop("child_age")
            dispatcher.utter_message(response="utter_invalid_age")
            events.append(SlotSet("child_age", None))
        if not found and not events and requested is not None:
            if intent in NOT_ANSWERS:
                # Not an answer: the form rejects (a requested_slot alone fills nothing) and the rules answer.
                # Rasa runs this again when the form resumes; keeping requested_slot asks the same question
                # again, where Rasa alone would ask the first empty slot in the domain's order.
                return [SlotSet(REQUESTED, requested)]
            dispatcher.utter_message(response="utter_not_understood_answer")
            events.append(SlotSet(requested, None))
        county = services.extractor.county(text)
        if county:
            events.append(SlotSet("county", county))
        events += [SlotSet(name, value) for name, value in found.items()]
        slots = {**_screening_slots(tracker), **found}
        facts = Facts.from_slots(slots)
        unknown = [name for name, value in slots.items() if value == UNKNOWN]
        remaining = services.engine.questions_that_matter(facts, asked=unknown)
        events.append(SlotSet(REQUESTED, remaining[0] if remaining else None))
        return events


class ActionEligibilityResult(Action):
    """One message per programme (eligible first) with reasons, citations and next steps."""

    def name(self) -> str:
        return "action_eligibility_result"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        services = get_services()
        slots = _screening_slots(tracker)
        results = services.engine.evaluate(Facts.from_slots(slots))
        dispatcher.utter_message(response="utter_screening_header")
        for result in results:
            citations = "、".join(
                f"《{c['title']}》（{c['doc_no']}）"
                if c["doc_no"] and c["title"] != c["doc_no"]
                else (c["doc_no"] or f"《{c['title']}》")
                for c in result.citations
            )
            dispatcher.utter_message(
                response=f"utter_program_{result.verdict}",
                name=result.name,
                reasons="；".join(result.reasons),
                citations=citations,
                next_steps="\n".join(f"· {step}" for step in result.next_steps),
                json_message=screening_payload(result),
            )
        verdicts = {r.id: r.verdict for r in results}
        if slots.get("guardianship_harm") is True:
            dispatcher.utter_message(
                response="utter_screening_needs_person",
                json_message=handoff_payload(
                    "screening_needs_person",
                    "high",
                    case_summary(tracker, verdicts=verdicts, risk_flags=["guardianship_harm"]),
                ),
            )
        else:
            dispatcher.utter_message(response="utter_screening_footer")
        return []


class ActionStopScreening(Action):
    def name(self) -> str:
        return "action_stop_screening"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(response="utter_screening_stopped")
        return [SlotSet(REQUESTED, None), SlotSet("screening_stopped", True)]
