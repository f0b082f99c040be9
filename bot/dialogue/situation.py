"""Answer a situational question at once: the facts already given, the verdict for the programme asked
about (or the most likely ones), why and on what basis; then only the facts that could still change it.

"他爹判了三年刑 他娘走了几年没音信 孩子十岁 农村户口 这算不算事实无人抚养" gets the 事实无人抚养 verdict
in the first reply; the screening is offered afterwards, for what is still open, and never asks again what
the user said.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from bot.dialogue.cues import ConversationCues
from bot.eligibility.engine import EligibilityEngine, ProgramResult
from bot.eligibility.extract import FactExtractor, Reading
from bot.eligibility.facts import FACT_NAMES, UNKNOWN, Facts

PARENT_PROGRAMMES = ("de_facto_unsupported", "orphan", "left_behind")
CHILD_PROGRAMMES = ("disability_rehab", "in_difficulty")
MAX_SHOWN = 3


@dataclass(frozen=True)
class Situation:
    """What to say: the focus programmes' results (asked-about first), the facts still worth asking, and
    the slots to set (facts read from this message, clarifications pending)."""

    focus: tuple[str, ...]
    results: tuple[ProgramResult, ...]
    to_check: tuple[str, ...]
    facts: dict[str, Any]
    clarify: dict[str, str]


def known_facts(slots: dict[str, Any]) -> dict[str, Any]:
    return {name: slots[name] for name in FACT_NAMES if slots.get(name) is not None}


def read_situation(text: str, slots: dict[str, Any], extractor: FactExtractor) -> Reading:
    """The message's facts over what the conversation already knows (a correction replaces the old value)."""
    reading = extractor.read(text)
    clarify = {**(slots.get("clarify") or {}), **reading.clarify}
    merged = {**known_facts(slots), **reading.facts}
    return Reading(merged, {p: k for p, k in clarify.items() if merged.get(p) in (None, UNKNOWN)})


def tells_a_situation(text: str, extractor: FactExtractor) -> bool:
    """The message tells a child's situation: a parent's, or the child's age with the child's circumstances."""
    reading = extractor.read(text)
    if {"father", "mother"} & (set(reading.facts) | set(reading.clarify)):
        return True
    return "child_age" in reading.facts and bool({"child_disability", "family_low_income"} & set(reading.facts))


def is_situational(text: str, slots: dict[str, Any], extractor: FactExtractor, cues: ConversationCues) -> bool:
    """A question about whether a particular child qualifies: the parents' situation told (now or before),
    or the child's age with the child's own circumstances. "事实无人抚养儿童满18周岁了还能享受吗" asks about the
    rule, not about a child, and is answered from the documents."""
    if not cues.asks_eligibility(text) or not cues.asks_about_benefits(text):
        return False
    reading = extractor.read(text)
    if {"father", "mother"} & (set(reading.facts) | set(reading.clarify)):
        return True
    named = bool(cues.programmes_named(text))
    if named and "child_age" in reading.facts and {"child_disability", "family_low_income"} & set(reading.facts):
        return True
    return named and bool({"father", "mother"} & set(known_facts(slots)))


def assess(
    text: str,
    slots: dict[str, Any],
    extractor: FactExtractor,
    engine: EligibilityEngine,
    cues: ConversationCues,
) -> Situation:
    reading = read_situation(text, slots, extractor)
    facts = Facts.from_slots(reading.facts)
    results = _assuming_a_minor(engine, facts, engine.evaluate(facts))
    # A correction or an answer keeps to the programmes already asked about.
    focus = _focus(cues.programmes_named(text) or list(slots.get("focus") or []), results, facts)
    unknown = [name for name, value in reading.facts.items() if value == UNKNOWN]
    to_check = engine.questions_that_matter(facts, asked=unknown, programs=focus)
    by_id = {r.id: r for r in results}
    new = {k: v for k, v in reading.facts.items() if slots.get(k) != v or k in ("father", "mother")}
    return Situation(tuple(focus), tuple(by_id[p] for p in focus), tuple(to_check), new, reading.clarify)


def _assuming_a_minor(engine: EligibilityEngine, facts: Facts, results: list[ProgramResult]) -> list[ProgramResult]:
    """A verdict left open only by the child's age is given for a child of the usual age, saying so."""
    out = []
    for result in results:
        program = engine.rules.program(result.id)
        if result.verdict == "possibly" and program.assume_age and set(result.missing) <= {"child_age", "in_school"}:
            assumed = facts.model_copy(update={"child_age": program.assume_age.age})
            alternative = next(r for r in engine.evaluate(assumed) if r.id == result.id)
            if alternative.verdict != "possibly":
                reasons = (program.assume_age.note + alternative.reasons[0], *alternative.reasons[1:])
                out.append(replace(alternative, reasons=reasons))
                continue
        out.append(result)
    return out


def verdict_of(results: list[ProgramResult], program: str) -> str:
    return next(r.verdict for r in results if r.id == program)


def _focus(named: list[str], results: list[ProgramResult], facts: Facts) -> list[str]:
    """The programmes asked about; else those the facts point to (eligible, then possibly), at most three."""
    if named:
        # Orphan and de-facto-unsupported exclude each other: asked about one, the other may be the answer.
        pair = {"orphan": "de_facto_unsupported", "de_facto_unsupported": "orphan"}
        extra = [
            pair[p]
            for p in named
            if p in pair and pair[p] not in named and verdict_of(results, pair[p]) != "not_eligible"
        ]
        return [*named, *extra][:MAX_SHOWN]
    known = facts.known()
    about_parents = "father" in known or "mother" in known
    relevant = PARENT_PROGRAMMES if about_parents else CHILD_PROGRAMMES
    eligible = [r.id for r in results if r.verdict == "eligible"]
    if eligible:
        return eligible[:MAX_SHOWN]
    possibly = [r.id for r in results if r.verdict == "possibly" and r.id in relevant]
    if possibly:
        return possibly[:MAX_SHOWN]
    return [next(p for p in relevant)]
