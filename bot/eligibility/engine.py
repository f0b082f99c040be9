"""Evaluate the programmes' rules on the facts, with three-valued logic.

A condition is True, False or unknown (it needs a missing fact). Rules are tried in order: the first
rule that is true decides, unless an earlier rule with a different verdict was unknown; then the
result is "possibly" and names what is missing. So a missing fact never turns into "not_eligible"
unless every possible answer would give "not_eligible".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.eligibility.facts import ASK_ORDER, FACT_NAMES, Facts
from knowledge_base import KB_ROOT
from knowledge_base.eligibility import Common, Program, RuleBook, Verdict, load_rulebook

Tri = bool | None  # None: unknown, because a fact is missing
RULES_DIR = KB_ROOT / "eligibility"
VERDICT_ORDER = {"eligible": 0, "possibly": 1, "not_eligible": 2}


@dataclass(frozen=True)
class ProgramResult:
    id: str
    name: str
    verdict: Verdict
    reasons: tuple[str, ...]
    citations: tuple[dict[str, Any], ...]
    next_steps: tuple[str, ...]
    missing: tuple[str, ...] = ()
    groups: tuple[dict[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "citations": list(self.citations),
            "next_steps": list(self.next_steps),
            "missing": list(self.missing),
        }
        if self.id == "in_difficulty":
            out["groups"] = list(self.groups)
        return out


Result = tuple[Tri, frozenset[str]]  # the value, and the missing facts that made it unknown
_NONE: frozenset[str] = frozenset()


@dataclass
class _Eval:
    facts: dict[str, Any]
    common: Common
    verdicts: dict[str, Verdict] = field(default_factory=dict)

    def parent_in(self, parent: str, set_name: str) -> Result:
        value = self.facts.get(parent)
        if value is None:
            return None, frozenset({parent})
        return value in self.common.parent_sets[set_name], _NONE

    def test(self, cond: dict[str, Any]) -> Result:
        ((op, arg),) = cond.items()
        if op == "all":
            return _and(self.test(c) for c in arg)
        if op == "any":
            return _or(self.test(c) for c in arg)
        if op == "not":
            value, missing = self.test(arg)
            return (None if value is None else not value), missing
        if op == "fact":
            ((name, expected),) = arg.items()
            actual = self.facts.get(name)
            if actual is None:
                return None, frozenset({name})
            return (actual in expected if isinstance(expected, list) else actual == expected), _NONE
        if op in ("age_below", "age_at_least"):
            age = self.facts.get("child_age")
            if age is None:
                return None, frozenset({"child_age"})
            return (age < arg if op == "age_below" else age >= arg), _NONE
        if op == "both_parents":
            return _and([self.parent_in("father", arg), self.parent_in("mother", arg)])
        if op == "either_parent":
            return _or([self.parent_in("father", arg), self.parent_in("mother", arg)])
        if op == "one_parent_each":
            first, second = arg
            return _or(
                [
                    _and([self.parent_in("father", first), self.parent_in("mother", second)]),
                    _and([self.parent_in("mother", first), self.parent_in("father", second)]),
                ]
            )
        if op == "program":
            verdict = self.verdicts[arg["id"]]
            if verdict == "possibly":
                return None, frozenset({f"program:{arg['id']}"})
            return verdict == arg["verdict"], _NONE
        raise ValueError(f"unknown operator {op!r}")


def _and(results: Iterable[Result]) -> Result:
    values = list(results)
    if any(v is False for v, _ in values):
        return False, _NONE
    unknown = [m for v, m in values if v is None]
    return (None, frozenset().union(*unknown)) if unknown else (True, _NONE)


def _or(results: Iterable[Result]) -> Result:
    values = list(results)
    if any(v is True for v, _ in values):
        return True, _NONE
    unknown = [m for v, m in values if v is None]
    return (None, frozenset().union(*unknown)) if unknown else (False, _NONE)


class EligibilityEngine:
    """Screen a child's facts against every programme.

    Usage example::

        engine = EligibilityEngine.load()
        results = engine.evaluate(Facts(child_age=9, father="imprisoned", mother="lost_contact_6m"))
        [r.verdict for r in results if r.id == "de_facto_unsupported"]  # ["eligible"]
    """

    def __init__(self, rulebook: RuleBook) -> None:
        self.rules = rulebook
        # Programmes that refer to another programme's verdict are evaluated after it.
        self._order = sorted(rulebook.programs, key=lambda p: 0 if p.id == "orphan" else 1)

    @classmethod
    def load(cls, folder: Path = RULES_DIR) -> EligibilityEngine:
        return _cached_engine(folder)

    def evaluate(self, facts: Facts) -> list[ProgramResult]:
        """Results for every programme, eligible first, then possibly, then not eligible."""
        known = facts.known()
        verdicts: dict[str, Verdict] = {}
        results = []
        for program in self._order:
            result = self._evaluate_program(program, known, verdicts)
            verdicts[program.id] = result.verdict
            results.append(result)
        program_index: dict[str, int] = {p.id: i for i, p in enumerate(self.rules.programs)}
        return sorted(results, key=lambda r: (VERDICT_ORDER[r.verdict], program_index[r.id]))

    def verdicts(self, facts: Facts) -> dict[str, Verdict]:
        return {r.id: r.verdict for r in self.evaluate(facts)}

    def questions_that_matter(
        self, facts: Facts, asked: Iterable[str] = (), programs: Iterable[str] | None = None
    ) -> list[str]:
        """Missing facts (in asking order) whose answer could still change the verdict of ``programs`` (all
        by default); ``asked`` facts (answered "不知道") are not asked again."""
        known = facts.known()
        only = set(programs) if programs is not None else None

        def verdicts(f: Facts) -> tuple[tuple[str, str], ...]:
            return tuple(sorted((k, v) for k, v in self.verdicts(f).items() if only is None or k in only))

        current = verdicts(facts)
        skip = set(asked)
        out = []
        for name in ASK_ORDER:
            if name in known or name in skip:
                continue
            spec = self.rules.common.facts[name]
            candidates = spec.probe or (spec.values if spec.type == "enum" else (True, False))
            outcomes = {verdicts(facts.model_copy(update={name: value})) for value in candidates}
            if len(outcomes) > 1 or outcomes != {current}:
                out.append(name)
        return out

    def _evaluate_program(self, program: Program, known: dict[str, Any], verdicts: dict[str, Verdict]) -> ProgramResult:
        ev = _Eval(known, self.rules.common, verdicts)
        pending: list[Verdict] = []  # verdicts of earlier rules that were unknown
        missing: set[str] = set()
        decided: tuple[Verdict, str] | None = None
        for rule in program.rules:
            value, needs = ev.test(rule.when)
            if value is True:
                decided = (rule.verdict, rule.reason)
                break
            if value is None:
                pending.append(rule.verdict)
                missing |= needs
        groups: list[dict[str, str]] = []
        group_reasons: list[str] = []
        if decided is None and program.groups:
            unknown_group = False
            for group in program.groups:
                value, needs = ev.test(group.when)
                if value is True:
                    groups.append({"id": group.id, "name": group.name})
                    group_reasons.append(group.reason)
                elif value is None:
                    unknown_group = True
                    missing |= needs
            if groups:
                decided = ("eligible", "")
            elif unknown_group:
                pending.append("eligible")
        final: tuple[Verdict, str] = decided if decided is not None else ("not_eligible", program.default_reason)
        if all(v == final[0] for v in pending):
            verdict, reason = final
            reasons = group_reasons if groups else [reason]
        else:
            verdict = "possibly"
            reasons = [final[1]] if final[0] == "possibly" else []
            missing |= self._missing_behind_programs(missing, known)
            if missing & set(FACT_NAMES):
                reasons.append(self.rules.common.missing_reason.format(missing=self._labels(missing)))
        statuses = [known.get("father"), known.get("mother")]
        reasons += [note for status, note in program.notes.items() if status in statuses and note not in reasons]
        return ProgramResult(
            id=program.id,
            name=program.name,
            verdict=verdict,
            reasons=tuple(self._fill(r, known) for r in reasons if r),
            citations=tuple(c.model_dump() for c in program.citations),
            next_steps=program.next_steps.get(verdict, ()),
            missing=tuple(n for n in FACT_NAMES if n in missing) if verdict == "possibly" else (),
            groups=tuple(groups),
        )

    def _missing_behind_programs(self, missing: set[str], known: dict[str, Any]) -> set[str]:
        """A rule that depends on another programme's open verdict waits for that programme's facts."""
        out: set[str] = set()
        for item in missing:
            if item.startswith("program:"):
                other = self._evaluate_program(self.rules.program(item.split(":", 1)[1]), known, {})
                out |= set(other.missing)
        return out

    def _labels(self, names: Iterable[str]) -> str:
        facts = self.rules.common.facts
        return "、".join(facts[n].label for n in FACT_NAMES if n in set(names))

    def _fill(self, text: str, known: dict[str, Any]) -> str:
        values = {}
        for name in FACT_NAMES:
            spec = self.rules.common.facts[name]
            value = known.get(name)
            values[name] = (
                self.rules.common.unknown_label if value is None else spec.value_labels.get(str(value), value)
            )
        return text.format(**values)


@lru_cache(maxsize=4)
def _cached_engine(folder: Path) -> EligibilityEngine:
    return EligibilityEngine(load_rulebook(folder))
