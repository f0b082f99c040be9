"""What the dialogue notices in a message: the programme asked about, a question of eligibility, a child
writing, a question about confidentiality, a report of a child alone, an elliptical follow-up.

Phrases are data (``knowledge_base/lexicon/conversation.yml``), matched on standardised text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from knowledge_base import KB_ROOT
from textnorm import normalize, standardise

LEXICON = KB_ROOT / "lexicon" / "conversation.yml"


def _words(items: list[str]) -> tuple[str, ...]:
    return tuple(sorted((normalize(w) for w in items), key=len, reverse=True))


def _patterns(items: list[str]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in items)


@dataclass(frozen=True)
class ConversationCues:
    programmes: dict[str, tuple[str, ...]]
    eligibility_question: tuple[str, ...]
    eligibility_pattern: tuple[re.Pattern[str], ...]
    child_writer: tuple[re.Pattern[str], ...]
    confidentiality: tuple[re.Pattern[str], ...]
    report_child: tuple[re.Pattern[str], ...]
    follow_up_max: int
    repeat: tuple[str, ...]
    decline_human: tuple[re.Pattern[str], ...]
    question: tuple[re.Pattern[str], ...]
    correction: tuple[re.Pattern[str], ...]
    benefit: tuple[str, ...]

    @classmethod
    def load(cls, path: Path = LEXICON) -> ConversationCues:
        data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(
            programmes={k: _words(v) for k, v in data["programmes"].items()},
            eligibility_question=_words(data["eligibility_question"]),
            eligibility_pattern=_patterns(data["eligibility_pattern"]),
            child_writer=_patterns(data["child_writer"]),
            confidentiality=_patterns(data["confidentiality"]),
            report_child=_patterns(data["report_child"]),
            follow_up_max=int(data["follow_up_max_chars"]),
            repeat=_words(data["repeat"]),
            decline_human=_patterns(data["decline_human"]),
            question=_patterns(data["question"]),
            correction=_patterns(data["correction"]),
            benefit=_words(data["benefit"]),
        )

    def programmes_named(self, text: str) -> list[str]:
        """Programmes the message names, in the order it names them."""
        t = standardise(text)
        found = []
        for programme, words in self.programmes.items():
            positions = [t.find(w) for w in words if w in t]
            if positions:
                found.append((min(positions), programme))
        # "事实无人抚养" contains no other name, but "孤儿" may sit inside "事实孤儿": the earliest, longest wins.
        return [p for _, p in sorted(found)]

    def asks_eligibility(self, text: str) -> bool:
        t = standardise(text)
        return any(w in t for w in self.eligibility_question) or any(p.search(t) for p in self.eligibility_pattern)

    def child_writing(self, text: str) -> bool:
        t = standardise(text)
        return any(p.search(t) for p in self.child_writer)

    def asks_confidentiality(self, text: str) -> bool:
        t = standardise(text)
        return any(p.search(t) for p in self.confidentiality)

    def reports_child(self, text: str) -> bool:
        t = standardise(text)
        return any(p.search(t) for p in self.report_child)

    def is_follow_up(self, text: str) -> bool:
        """Short and naming no programme: it leans on the last answer's topic."""
        t = standardise(text)
        return len(t) <= self.follow_up_max and not self.programmes_named(t)

    def asks_repeat(self, text: str) -> bool:
        t = standardise(text)
        return len(t) <= self.follow_up_max and any(w in t for w in self.repeat)

    def declines_human(self, text: str) -> bool:
        t = standardise(text)
        return any(p.search(t) for p in self.decline_human)

    def asks_about_benefits(self, text: str) -> bool:
        t = standardise(text)
        return bool(self.programmes_named(t)) or any(w in t for w in self.benefit)

    def corrects(self, text: str) -> bool:
        t = standardise(text)
        return any(p.search(t) for p in self.correction)

    def asks_question(self, text: str) -> bool:
        t = standardise(text)
        return any(p.search(t) for p in self.question)


@lru_cache(maxsize=2)
def load_cues(path: Path = LEXICON) -> ConversationCues:
    return ConversationCues.load(path)
