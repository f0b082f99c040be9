"""The eligibility screening: ask only what still matters, read every answer, give the verdicts."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.plan import carry_out
from bot.case_summary import case_summary
from bot.dialogue.payload import handoff_payload
from bot.dialogue.responder import Responder, verdict_utterance
from bot.eligibility.facts import FACT_NAMES, UNKNOWN, Facts
from bot.services import get_services

REQUESTED = "requested_slot"
MAX_AGE = 24  # "18+ still in school" is possible; older is a typo
PARENT_WORDS = {"father": "爸爸", "mother": "妈妈"}
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
    "restart_screening",
    "set_role",
    "ask_counselling",
    "delete_my_data",
    "nlu_fallback",
)


def _screening_slots(tracker: Tracker) -> dict[str, Any]:
    return {name: tracker.get_slot(name) for name in FACT_NAMES}


class ActionStartScreening(Action):
    """The screening, keeping what the user already said (a check they accepted after an answer)."""

    def name(self) -> str:
        return "action_start_screening"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(response="utter_screening_continue")
        return [SlotSet("screening_stopped", False), SlotSet("next_step", None)]


class ActionRestartScreening(Action):
    """A fresh screening ("重新判断"): the previous answers are forgotten."""

    def name(self) -> str:
        return "action_restart_screening"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(response="utter_screening_intro")
        cleared = [SlotSet(name, None) for name in (*FACT_NAMES, "clarify", "focus")]
        return [*cleared, SlotSet("screening_stopped", False), SlotSet("next_step", None)]


class ValidateEligibilityForm(Action):
    """Reads every fact the message gives (not only the one asked), validates them, and asks next the
    first fact whose answer can still change a verdict of the programmes in question; none left ends it."""

    def name(self) -> str:
        return "validate_eligibility_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        services = get_services()
        requested = tracker.get_slot(REQUESTED)
        text = tracker.latest_message.get("text") or ""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        clarify: dict[str, str] = dict(tracker.get_slot("clarify") or {})
        reading = services.extractor.read(text, requested=requested, pending=clarify.get(str(requested)))
        found = reading.facts
        events: list[EventType] = []
        if "child_age" in found and found["child_age"] != UNKNOWN and not 0 <= found["child_age"] <= MAX_AGE:
            found.pop("child_age")
            dispatcher.utter_message(response="utter_invalid_age")
            events.append(SlotSet("child_age", None))
        answered = found or reading.clarify
        if not answered and not events and requested is not None:
            if intent in NOT_ANSWERS:
                # Not an answer: the form rejects (a requested_slot alone fills nothing) and the rules answer.
                # Rasa runs this again when the form resumes; keeping requested_slot asks the same question
                # again, where Rasa alone would ask the first empty slot in the domain's order.
                return [SlotSet(REQUESTED, requested)]
            plan = Responder(services).question_in_answer(text, tracker.current_slot_values(), only_question=True)
            if plan.utterances:
                # A question instead of an answer: answered, and the same screening question asked again.
                return [*carry_out(plan, dispatcher), SlotSet(REQUESTED, requested)]
            dispatcher.utter_message(response="utter_not_understood_answer")
            events.append(SlotSet(requested, None))
        if answered:
            plan = Responder(services).question_in_answer(text, tracker.current_slot_values())
            carry_out(plan, dispatcher)
        county = services.extractor.county(text)
        if county:
            events.append(SlotSet("county", county))
        events += [SlotSet(name, value) for name, value in found.items()]
        clarify = {p: k for p, k in {**clarify, **reading.clarify}.items() if p not in found}
        events.append(SlotSet("clarify", clarify or None))
        slots = {**_screening_slots(tracker), **found}
        facts = Facts.from_slots(slots)
        unknown = [name for name, value in slots.items() if value == UNKNOWN]
        focus = tracker.get_slot("focus") or None
        remaining = services.engine.questions_that_matter(facts, asked=unknown, programs=focus)
        # A parent whose status was only hinted at ("跑了", "看守所") is asked about first.
        remaining = sorted(remaining, key=lambda name: name not in clarify)
        events.append(SlotSet(REQUESTED, remaining[0] if remaining else None))
        return events


class _AskParent:
    """The question about a parent: the clarifying one when the user's words did not settle the status.
    (A mixin, so that only the two concrete actions are registered.)"""

    parent = "father"

    def name(self) -> str:
        return f"action_ask_eligibility_form_{self.parent}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        kind = (tracker.get_slot("clarify") or {}).get(self.parent)
        if kind:
            response = "utter_clarify_" + kind.split(":", 1)[0]
            dispatcher.utter_message(response=response, parent=PARENT_WORDS[self.parent])
        else:
            dispatcher.utter_message(response=f"utter_ask_eligibility_form_{self.parent}")
        return []


class ActionAskFather(_AskParent, Action):
    parent = "father"


class ActionAskMother(_AskParent, Action):
    parent = "mother"


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
            u = verdict_utterance(result)
            dispatcher.utter_message(response=u.response, json_message=u.custom, **u.values)
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
        first = results[0].citations[0]["doc_id"] if results and results[0].citations else None
        return [SlotSet("last_doc_id", first), SlotSet("focus", None)]


class ActionStopScreening(Action):
    def name(self) -> str:
        return "action_stop_screening"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(response="utter_screening_stopped")
        return [SlotSet(REQUESTED, None), SlotSet("screening_stopped", True)]
