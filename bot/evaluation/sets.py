"""The answer and conversation evaluation sets (``knowledge_base/eval/``), read and validated.

Each set has a development file and a held-out file (``*_held_out.yml``, about a fifth) that nobody tunes on.
A check names what the bot's replies of one turn must hold; wordings come in groups, any one of which counts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from knowledge_base import KB_ROOT
from knowledge_base.eligibility import PROGRAM_IDS, Verdict

EVAL_DIR = KB_ROOT / "eval"
Part = Literal["dev", "held_out"]
FactName = Literal[
    "child_age", "father", "mother", "hukou", "in_school", "family_low_income", "child_disability", "guardianship_harm"
]
HandoffCheck = Literal["none", "any", "urgent", "high", "normal", "urgent_or_high", "not_urgent"]
Groups = list[list[str]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VerdictCheck(_Strict):
    program: str
    is_: list[Verdict] = Field(alias="is")

    @field_validator("program")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in PROGRAM_IDS:
            raise ValueError(f"unknown programme {value!r}")
        return value

    @field_validator("is_", mode="before")
    @classmethod
    def _listed(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class Expect(_Strict):
    contains: Groups = []
    not_contains: list[str] = []
    cites: list[str] = []
    no_citation: bool = False
    verdict: VerdictCheck | None = None
    not_asked: list[FactName] = []
    answers_first: bool = False
    asks_question: bool = False
    handoff: HandoffCheck | None = None


class Turn(_Strict):
    user: str
    expect: Expect = Expect()


class Conversation(_Strict):
    id: str
    pattern: str
    persona: str
    note: str = ""
    turns: list[Turn] = Field(min_length=1)


class Question(_Strict):
    id: str
    question: str
    persona: str
    style: list[str] = []
    topic: str
    cite: list[str] = Field(min_length=1)
    facts: Groups = Field(min_length=1)
    source_note: str = ""

    def as_conversation(self) -> Conversation:
        """A single question is a one-turn conversation: all its facts, one of its sources, an answer."""
        expect = Expect(contains=self.facts, cites=self.cite, answers_first=True)
        return Conversation(
            id=self.id, pattern=self.topic, persona=self.persona, turns=[Turn(user=self.question, expect=expect)]
        )


def _read(path: Path, key: str) -> list[dict[str, object]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    items = data.get(key)
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a list under {key!r}")
    return items


def set_path(kind: Literal["answers", "conversations"], part: Part, folder: Path = EVAL_DIR) -> Path:
    return folder / (f"{kind}.yml" if part == "dev" else f"{kind}_held_out.yml")


def load_conversations(
    kind: Literal["answers", "conversations"], part: Part, folder: Path = EVAL_DIR
) -> list[Conversation]:
    path = set_path(kind, part, folder)
    if kind == "answers":
        items = [Question.model_validate(q).as_conversation() for q in _read(path, "questions")]
    else:
        items = [Conversation.model_validate(c) for c in _read(path, "conversations")]
    ids = [c.id for c in items]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{path}: duplicate ids")
    return items


EMERGENCY_LINES = ["110", "120", "12355"]


def load_bank(path: Path) -> tuple[list[Conversation], list[Conversation]]:
    """A crisis bank as conversations: each danger message must name an emergency line and open an urgent or
    concern (high) ticket; a near-miss must not raise an urgent alarm. A greeting goes first, so that the
    first-contact notice (which names 110 itself) is already shown when the message arrives."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}

    def as_turns(items: list[dict[str, str]], expect: Expect) -> list[Conversation]:
        return [
            Conversation(
                id=str(i["id"]),
                pattern=str(i.get("category", "?")),
                persona=str(i.get("speaker", "?")),
                turns=[Turn(user="你好"), Turn(user=str(i["text"]), expect=expect)],
            )
            for i in items
        ]

    danger = as_turns(data.get("danger") or [], Expect(contains=[EMERGENCY_LINES], handoff="urgent_or_high"))
    benign = as_turns(data.get("benign") or [], Expect(handoff="not_urgent"))
    return danger, benign
