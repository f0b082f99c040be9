"""Decide what one turn says, as a plan of domain responses (by name) and slots: actions only carry it out.

The order of concerns for a message: a child writing is spoken to as a child; a question about
confidentiality gets an honest answer; a report of a child alone or unsafe gets the steps and an offer of a
person; a situational question gets the verdict at once; any other question gets the passage that answers
it, with the topic of the last answer carried to an elliptical follow-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.dialogue.cues import ConversationCues
from bot.dialogue.payload import answer_payload, handoff_payload, screening_payload
from bot.dialogue.situation import Situation, assess, is_situational, known_facts, tells_a_situation
from bot.eligibility.engine import ProgramResult

REFERENCE_ROLES = ("child_director", "staff")
# What to do about a child alone or unsafe: the steps for child directors and the reporting duty.
REPORT_DOCS = frozenset({"guide_child_alone_or_harmed", "mandatory_reporting", "left_behind_children"})


@dataclass(frozen=True)
class Utterance:
    response: str
    values: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] | None = None


@dataclass
class Plan:
    utterances: list[Utterance] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)

    def say(self, response: str, custom: dict[str, Any] | None = None, **values: Any) -> Plan:
        self.utterances.append(Utterance(response, values, custom))
        return self


def citation_line(citations: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> str:
    """Each source by title and number, with the clause the verdict rests on."""
    parts = []
    for c in citations:
        name = (
            f"《{c['title']}》（{c['doc_no']}）"
            if c.get("doc_no") and c["title"] != c["doc_no"]
            else (c.get("doc_no") or f"《{c['title']}》")
        )
        parts.append(f"{name}：{c['clause']}" if c.get("clause") else name)
    return "；".join(parts)


# Parent statuses that a correction without the parent's name can replace with one another.
STATUS_KINDS = (
    frozenset({"severe_disability", "other_disability"}),
    frozenset({"imprisoned", "drug_rehab", "detained", "detained_short"}),
    frozenset({"lost_contact_6m", "lost_contact_short", "absent_reachable", "whereabouts_unknown"}),
)


def _same_kind(before: str, now: str) -> bool:
    return any(before in kind and now in kind for kind in STATUS_KINDS)


def verdict_utterance(result: ProgramResult) -> Utterance:
    return Utterance(
        f"utter_program_{result.verdict}",
        {
            "name": result.name,
            "reasons": "".join(r if r.endswith(("。", "？", "！")) else f"{r}。" for r in result.reasons),
            "citations": citation_line(result.citations),
            "next_steps": "\n".join(f"· {step}" for step in result.next_steps),
        },
        screening_payload(result),
    )


class Responder:
    """Usage example::

    plan = Responder(services).answer("他爹判了三年刑 他娘走了几年没音信 孩子十岁 这算不算事实无人抚养", slots)
    [u.response for u in plan.utterances]   # ["utter_program_eligible", "utter_offer_check"]
    """

    def __init__(self, services: Any) -> None:
        self.s = services

    # --- entry points (one per action) -----------------------------------------------------------
    def answer(self, text: str, slots: dict[str, Any]) -> Plan:
        """A question (or an unclear message): whatever it needs, answered now."""
        plan = Plan(slots={"next_step": None})
        role = self._speaker_noted(text, slots, plan)
        cues = self.s.cues
        if role == "child":
            return self._child(text, plan)
        if cues.asks_repeat(text) and isinstance(slots.get("last_answer"), dict):
            last = slots["last_answer"]
            return plan.say(
                "utter_policy_details", heading=last["heading"], passage=last["passage"], source=last["source"]
            )
        if cues.asks_confidentiality(text):
            return plan.say("utter_confidentiality")
        clarified = self._clarified(text, slots)
        if clarified is not None:
            return self._situation(assess(text, clarified, self.s.extractor, self.s.engine, cues), plan)
        corrected = self._corrected(text, slots)
        if corrected:
            plan.slots.update(corrected)
            return self._situation(assess("", {**slots, **corrected}, self.s.extractor, self.s.engine, cues), plan)
        if cues.reports_child(text) and not (cues.programmes_named(text) and cues.asks_eligibility(text)):
            return self._report(text, slots, plan)
        if is_situational(text, slots, self.s.extractor, cues):
            return self._situation(assess(text, slots, self.s.extractor, self.s.engine, cues), plan)
        return self._policy(text, slots, role, plan)

    def situation(self, text: str, slots: dict[str, Any], *, screening_asked: bool) -> Plan:
        """Facts told (inform) or a screening asked for: the verdict now; the form only when nothing is known."""
        plan = Plan(slots={"next_step": None})
        role = self._speaker_noted(text, slots, plan)
        if role == "child":
            return self._child(text, plan)
        cues = self.s.cues
        if cues.reports_child(text) and not (cues.programmes_named(text) and cues.asks_eligibility(text)):
            return self._report(text, slots, plan)
        clarified = self._clarified(text, slots)
        if clarified is not None:
            return self._situation(assess(text, clarified, self.s.extractor, self.s.engine, cues), plan)
        corrected = self._corrected(text, slots)
        if corrected:
            plan.slots.update(corrected)
            return self._situation(assess("", {**slots, **corrected}, self.s.extractor, self.s.engine, cues), plan)
        if tells_a_situation(text, self.s.extractor) and self._asks_something_else(text):
            # Facts with another question ("…伢七岁 要办么子手续", "我出门打工 让瘫在床上的老娘带娃 可以不"):
            # the question is answered, the facts kept.
            reading = self.s.extractor.read(text)
            plan.slots.update({k: v for k, v in reading.facts.items() if slots.get(k) != v})
            self._policy(text, slots, role, plan)
            return self._settled_verdicts(text, slots, plan)
        if not tells_a_situation(text, self.s.extractor):
            if screening_asked and not cues.asks_eligibility(text):
                plan.slots["next_step"] = "screening"
                return plan.say("utter_screening_intro")
            if is_situational(text, slots, self.s.extractor, cues):
                return self._situation(assess(text, slots, self.s.extractor, self.s.engine, cues), plan)
            if screening_asked:
                plan.slots["next_step"] = "screening"
                return plan.say("utter_screening_intro")
            return self._policy(text, slots, role, plan)
        return self._situation(assess(text, slots, self.s.extractor, self.s.engine, cues), plan)

    def _settled_verdicts(self, text: str, slots: dict[str, Any], plan: Plan) -> Plan:
        """After the answer to a question about a programme the message names ("孤儿基本生活费一个月有好多钱"),
        the verdict its facts already settle (both parents died: an orphan); an open one is not pushed."""
        named = self.s.cues.programmes_named(text)
        if not named:
            return plan
        situation = assess(text, slots, self.s.extractor, self.s.engine, self.s.cues)
        settled = [r for r in situation.results if r.id in named and r.verdict != "possibly"]
        for result in settled:
            plan.utterances.append(verdict_utterance(result))
        if settled:
            plan.slots["focus"] = [r.id for r in settled]
        return plan

    def _asks_something_else(self, text: str) -> bool:
        """A question that is not whether the child gets a programme: "可以不" about a care arrangement asks
        about the arrangement; "算不算事实无人抚养" and "能领钱不" ask for a verdict."""
        cues: ConversationCues = self.s.cues
        if cues.asks_eligibility(text):
            return not cues.asks_about_benefits(text)
        return cues.asks_question(text)

    def counselling(self, text: str, slots: dict[str, Any], services_text: str) -> Plan:
        """Help for a child's feelings or behaviour: what the policies say about it when they do (a school's
        duty, the rules on games), then where to find a person who helps; a child is answered as a child."""
        plan = Plan()
        role = self._speaker_noted(text, slots, plan)
        if role == "child":
            return self._child(text, plan)
        card = self.s.answer(text, last_doc_id=slots.get("last_doc_id"))
        if card is None:
            return plan.say("utter_counselling_referral", services=services_text)
        self._say_card(card, role, plan)
        return plan.say("utter_counselling_more", services=services_text)

    def hotlines(self, text: str, slots: dict[str, Any], lines: str) -> Plan:
        """Which number for what: the passage that answers the question, with its basis; the verified list
        (``lines``) when no passage does ("有哪些求助电话")."""
        plan = Plan()
        role = self._speaker_noted(text, slots, plan)
        # Asked about a number, not about the last answer's programme: the whole knowledge base answers.
        card = self.s.answer(text)
        if card is None or role == "child":
            return plan.say("utter_hotlines", lines=lines)
        return self._say_card(card, role, plan)

    def _clarified(self, text: str, slots: dict[str, Any]) -> dict[str, Any] | None:
        """An answer to the clarifying question asked after a verdict ("判了两年", "能联系上"): the slots with
        that parent's status, or None when the message is not such an answer."""
        pending = dict(slots.get("clarify") or {})
        for parent, kind in pending.items():
            reading = self.s.extractor.read(text, requested=parent, pending=kind)
            if parent in reading.facts:
                return {
                    **slots,
                    parent: reading.facts[parent],
                    "clarify": {p: k for p, k in pending.items() if p != parent},
                }
        return None

    def _corrected(self, text: str, slots: dict[str, Any]) -> dict[str, Any]:
        """A correction of a situation already judged ("说错了 是十五岁", "看错了证 是智力残疾三级"): the
        corrected facts. A parent's kind of status said without naming the parent corrects
        the parent who had that kind of status (a disability grade, a term)."""
        if not self.s.cues.corrects(text) or not (slots.get("focus") or known_facts(slots)):
            return {}
        facts = dict(self.s.extractor.read(text).facts)
        if not {"father", "mother"} & set(facts):
            for parent in ("father", "mother"):
                before = slots.get(parent)
                now = self.s.extractor.read(text, requested=parent).facts.get(parent)
                if before and now and now != before and _same_kind(before, now):
                    facts[parent] = now
                    facts.pop("child_disability", None)
                    break
        return facts

    def question_in_answer(self, text: str, slots: dict[str, Any], *, only_question: bool = False) -> Plan:
        """An answer to a screening question that also asks something ("失联是么样认定的 他妈走了好几年了"),
        or (``only_question``) a question instead of an answer ("康复救助是不是只管6岁以下的"): the question
        is answered before the screening goes on; nothing when there is no other question."""
        cues = self.s.cues
        asks = cues.asks_question(text) or (only_question and cues.asks_eligibility(text))
        if not asks or (cues.asks_eligibility(text) and not only_question) or len(text) < 8:
            return Plan()
        card = self.s.answer(text, last_doc_id=slots.get("last_doc_id"))
        if card is None:
            return Plan()
        source = "、".join(c.label for c in card.sources[:3])
        return Plan().say("utter_policy_answer_in_form", answer_payload(card), answer=card.text, source=source)

    def _speaker_noted(self, text: str, slots: dict[str, Any], plan: Plan) -> str | None:
        """Who is writing, kept in the plan's slots when it changed."""
        role = self.speaker(text, slots)
        if role != slots.get("role"):
            plan.slots["role"] = role
        return role

    def speaker(self, text: str, slots: dict[str, Any]) -> str | None:
        """Who is writing: an explicit statement wins, then what the message shows, then what was known."""
        stated = self.s.extractor.role(text)
        if stated:
            return str(stated)
        if self.s.cues.child_writing(text):
            return "child"
        role = slots.get("role")
        return str(role) if role else None

    # --- parts ------------------------------------------------------------------------------------
    def _situation(self, situation: Situation, plan: Plan) -> Plan:
        plan.slots.update(situation.facts)
        plan.slots["clarify"] = situation.clarify or None
        plan.slots["focus"] = list(situation.focus)
        for result in situation.results:
            u = verdict_utterance(result)
            plan.utterances.append(u)
        first = situation.results[0] if situation.results else None
        if first is not None and first.citations:
            plan.slots["last_doc_id"] = first.citations[0]["doc_id"]
        if situation.to_check:
            labels = self.s.engine.rules.common.facts
            plan.slots["next_step"] = "offer_screening"
            plan.say(
                "utter_offer_check",
                count=len(situation.to_check),
                labels="、".join(labels[name].label for name in situation.to_check),
            )
        return plan

    def _policy(self, text: str, slots: dict[str, Any], role: str | None, plan: Plan) -> Plan:
        card = self.s.answer(text, last_doc_id=slots.get("last_doc_id"))
        if card is None:
            streak = int(slots.get("failure_streak") or 0) + 1
            if streak >= 2:
                plan.slots["failure_streak"] = 0
                return plan.say("utter_repeated_failure", handoff_payload("repeated_failure", "normal", {}))
            plan.slots["failure_streak"] = streak
            return plan.say("utter_policy_not_found")
        return self._say_card(card, role, plan)

    def _say_card(self, card: Any, role: str | None, plan: Plan) -> Plan:
        source = "、".join(c.label for c in card.sources[:3])
        plan.slots.update(
            last_doc_id=card.doc_id,
            failure_streak=0,
            last_answer={
                "doc_id": card.doc_id,
                "heading": card.heading or card.title,
                "passage": card.passage,
                "source": source,
            },
        )
        custom = answer_payload(card)
        if card.superseded_by:
            current = self.s.kb.document(card.superseded_by).meta.title
            return plan.say("utter_policy_history", custom, current_title=current, passage=card.passage, source=source)
        if role in REFERENCE_ROLES:
            lead = f"{card.summary}\n" if card.kind == "summary" else ""
            return plan.say(
                "utter_policy_answer_reference",
                custom,
                lead=lead,
                heading=card.heading or card.title,
                passage=card.passage,
                source=source,
            )
        return plan.say("utter_policy_answer", custom, answer=card.text, source=source)

    def _report(self, text: str, slots: dict[str, Any], plan: Plan) -> Plan:
        """A child alone or unsafe, reported by an adult: what to do, on what basis, and a person to follow up."""
        card = self.s.answer(text, within=REPORT_DOCS)
        plan.slots["next_step"] = "offer_report"
        if card is not None:
            source = "、".join(c.label for c in card.sources[:3])
            plan.slots["last_doc_id"] = card.doc_id
            plan.say("utter_report_steps", answer_payload(card), passage=card.passage, source=source)
        return plan.say("utter_offer_report")

    def _child(self, text: str, plan: Plan) -> Plan:
        """A child: kind words, 12355, a person; never a benefits questionnaire."""
        cues = self.s.cues
        if cues.asks_confidentiality(text):
            return plan.say("utter_child_confidentiality")
        if cues.programmes_named(text):
            card = self.s.answer(text, last_doc_id=None)
            if card is not None:
                return plan.say("utter_policy_answer_child", answer_payload(card), answer=card.summary)
        return plan.say("utter_child_support")
