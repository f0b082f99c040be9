"""Schema of the eligibility rules in ``knowledge_base/eligibility/`` (the engine is ``bot.eligibility``).

Each programme is an ordered list of rules; a rule has a condition, a verdict and a plain reason.
Conditions are small mappings with one operator each::

    {all: [c, ...]}  {any: [c, ...]}  {not: c}
    {fact: {in_school: true}}           {fact: {hukou: [rural]}}
    {age_below: 16}  {age_at_least: 18}
    {both_parents: situations}          {either_parent: at_home}
    {one_parent_each: [dead_or_declared_missing, situations]}
    {program: {id: orphan, verdict: eligible}}

Parent sets (``situations`` …) and the facts with their labels are defined in ``_common.yml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from knowledge_base.schema import DocNo

Verdict = Literal["eligible", "possibly", "not_eligible"]
PROGRAM_IDS = ("left_behind", "de_facto_unsupported", "orphan", "in_difficulty", "disability_rehab")
ParentStatus = Literal[
    "at_home",
    "migrant_worker",
    "deceased",
    "declared_missing",
    "whereabouts_unknown",
    "lost_contact_6m",
    "lost_contact_short",
    "severe_disability",
    "other_disability",
    "severe_illness",
    "imprisoned",
    "drug_rehab",
    "detained",
    "detained_short",
    "guardianship_revoked",
    "deported",
    "absent_reachable",
]
PARENT_VALUES: tuple[str, ...] = get_args(ParentStatus)
OPERATORS = {
    "all",
    "any",
    "not",
    "fact",
    "age_below",
    "age_at_least",
    "both_parents",
    "either_parent",
    "one_parent_each",
    "program",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FactSpec(_Strict):
    label: str
    type: Literal["int", "bool", "enum"]
    values: tuple[str, ...] = ()
    value_labels: dict[str, str] = Field(default_factory=dict)
    probe: tuple[Any, ...] = ()  # values tried when deciding whether the fact can still change a verdict


class Common(_Strict):
    facts: dict[str, FactSpec]
    parent_sets: dict[str, tuple[str, ...]]
    unknown_label: str
    missing_reason: str

    @model_validator(mode="after")
    def _sets_use_known_values(self) -> Common:
        for name, values in self.parent_sets.items():
            unknown = set(values) - set(PARENT_VALUES)
            if unknown:
                raise ValueError(f"parent set {name!r} has unknown values {sorted(unknown)}")
        return self


class ProgramCitation(_Strict):
    doc_id: str
    doc_no: DocNo | None = None
    title: str
    clause: str


class Rule(_Strict):
    verdict: Verdict
    when: dict[str, Any]
    reason: str


class Group(_Strict):
    id: str
    name: str
    when: dict[str, Any]
    reason: str


class AssumedAge(_Strict):
    age: int
    note: str


class Program(_Strict):
    id: Literal["left_behind", "de_facto_unsupported", "orphan", "in_difficulty", "disability_rehab"]
    name: str
    citations: Annotated[tuple[ProgramCitation, ...], Field(min_length=1)]
    rules: tuple[Rule, ...] = ()
    groups: tuple[Group, ...] = ()
    default_reason: str
    next_steps: dict[Verdict, tuple[str, ...]]
    # A note added to the reasons when a parent has this status, whatever the verdict: how the rule reads
    # that status (e.g. a prison term counts from the sentence, it is not waited for).
    notes: dict[str, str] = Field(default_factory=dict)
    # When only the child's age (or schooling) is missing, a situational answer may state the verdict for a
    # child of this age, saying so ("按孩子未满18周岁来说"), instead of an unhelpful "possibly".
    assume_age: AssumedAge | None = None

    @field_validator("notes")
    @classmethod
    def _notes_on_statuses(cls, notes: dict[str, str]) -> dict[str, str]:
        unknown = set(notes) - set(PARENT_VALUES)
        if unknown:
            raise ValueError(f"notes on unknown parent statuses {sorted(unknown)}")
        return notes

    @field_validator("next_steps")
    @classmethod
    def _steps_for_positive_verdicts(cls, steps: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for verdict in ("eligible", "possibly"):
            if not steps.get(verdict):
                raise ValueError(f"next_steps needs a non-empty {verdict!r} list")
        return steps


def check_condition(cond: Any, common: Common, path: str = "when") -> None:
    """Raise ValueError naming ``path`` when a condition is malformed."""
    if not isinstance(cond, dict) or len(cond) != 1:
        raise ValueError(f"{path}: a condition is a mapping with exactly one operator")
    ((op, arg),) = cond.items()
    if op not in OPERATORS:
        raise ValueError(f"{path}: unknown operator {op!r}")
    if op in ("all", "any"):
        if not isinstance(arg, list) or not arg:
            raise ValueError(f"{path}.{op}: needs a non-empty list")
        for i, sub in enumerate(arg):
            check_condition(sub, common, f"{path}.{op}[{i}]")
    elif op == "not":
        check_condition(arg, common, f"{path}.not")
    elif op == "fact":
        if not isinstance(arg, dict) or len(arg) != 1:
            raise ValueError(f"{path}.fact: one fact name and its value(s)")
        ((name, value),) = arg.items()
        spec = common.facts.get(name)
        if spec is None:
            raise ValueError(f"{path}.fact: unknown fact {name!r}")
        for v in value if isinstance(value, list) else [value]:
            if spec.type == "enum" and v not in spec.values:
                raise ValueError(f"{path}.fact: {v!r} is not a value of {name}")
            if spec.type == "bool" and not isinstance(v, bool):
                raise ValueError(f"{path}.fact: {name} takes true or false")
    elif op in ("age_below", "age_at_least"):
        if not isinstance(arg, int):
            raise ValueError(f"{path}.{op}: needs an integer age")
    elif op in ("both_parents", "either_parent"):
        if arg not in common.parent_sets:
            raise ValueError(f"{path}.{op}: unknown parent set {arg!r}")
    elif op == "one_parent_each":
        if not isinstance(arg, list) or len(arg) != 2 or any(a not in common.parent_sets for a in arg):
            raise ValueError(f"{path}.one_parent_each: needs two known parent sets")
    elif op == "program" and (
        not isinstance(arg, dict)
        or arg.get("id") not in PROGRAM_IDS
        or arg.get("verdict") not in ("eligible", "possibly", "not_eligible")
    ):
        raise ValueError(f"{path}.program: needs a programme id and a verdict")


class RuleBook(_Strict):
    common: Common
    programs: tuple[Program, ...]

    def program(self, program_id: str) -> Program:
        return next(p for p in self.programs if p.id == program_id)


def load_rulebook(folder: Path) -> RuleBook:
    """Load and check ``_common.yml`` and one YAML file per programme; raise ValueError with the file."""
    common = Common.model_validate(_read(folder / "_common.yml"))
    programs = []
    for path in sorted(folder.glob("*.yml")):
        if path.name.startswith("_"):
            continue
        try:
            program = Program.model_validate(_read(path))
            for i, rule in enumerate(program.rules):
                check_condition(rule.when, common, f"rules[{i}].when")
            for i, group in enumerate(program.groups):
                check_condition(group.when, common, f"groups[{i}].when")
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc
        if path.stem != program.id:
            raise ValueError(f"{path}: file name must be the programme id {program.id!r}")
        programs.append(program)
    missing = set(PROGRAM_IDS) - {p.id for p in programs}
    if missing:
        raise ValueError(f"{folder}: programmes without rules: {sorted(missing)}")
    return RuleBook(common=common, programs=tuple(programs))


def _read(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))
