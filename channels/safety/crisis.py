"""The crisis screen: does a message signal danger to a child? Runs before anything else, every turn.

Patterns are data (``channels/data/crisis.zh.yml``). The text is normalised first (traditional →
simplified, full-width → half-width, spaces, punctuation and emoji removed, a character typed three or
more times in a row cut to two) so "我 不 想 活😭" and "我不想活" are the same. ``mask`` phrases
(idioms such as 笑死, 饿死; paperwork such as 死亡证明) are removed before matching; a category's
``unless`` patterns (a general question about the rules, not a report) cancel that category. The
screen prefers a false alarm to a miss.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from textnorm import to_simplified

DATA = Path(__file__).resolve().parent.parent / "data" / "crisis.zh.yml"
# Everything that is not a letter or a digit: spaces, punctuation, emoji, symbols, zero-width joiners, "_".
_NOISE = re.compile(r"[\W_]+")
# A character (not a digit) typed three or more times in a row is folded to two, which keeps reduplicated
# words intact: 救救救救我 → 救救我, 妈妈妈妈 → 妈妈, 想死死死 → 想死死.
_REPEAT = re.compile(r"(\D)\1{2,}")
# Variants OpenCC leaves alone because they are also valid simplified characters (著火 → 着火).
_FOLD = str.maketrans({"著": "着"})


def normalise(text: str) -> str:
    """Fold ``text`` for matching: NFKC (full-width → half-width), lower case, simplified script, no
    spaces, punctuation or emoji, a run of one repeated character cut to two."""
    text = to_simplified(unicodedata.normalize("NFKC", text).lower()).translate(_FOLD)
    return _REPEAT.sub(r"\1\1", _NOISE.sub("", text))


@dataclass(frozen=True)
class Category:
    name: str
    patterns: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class CrisisHit:
    categories: tuple[str, ...]
    evidence: tuple[str, ...]


class CrisisScreen:
    """Usage example::

    screen = CrisisScreen.load()
    hit = screen.check("继父晚上摸我")   # CrisisHit(categories=("sexual_abuse",), ...)
    screen.check("死亡证明怎么开")        # None
    """

    def __init__(self, categories: tuple[Category, ...], mask: tuple[re.Pattern[str], ...]) -> None:
        self.categories = categories
        self.mask = mask

    @classmethod
    def load(cls, path: Path = DATA) -> CrisisScreen:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))

        def compile_all(items: list[str]) -> tuple[re.Pattern[str], ...]:
            return tuple(re.compile(normalise_pattern(p)) for p in items or [])

        categories = tuple(
            Category(name, compile_all(spec["patterns"]), compile_all(spec.get("unless", [])))
            for name, spec in data["categories"].items()
        )
        return cls(categories, compile_all(data.get("mask", [])))

    def check(self, text: str) -> CrisisHit | None:
        normalised = normalise(text)
        for pattern in self.mask:
            normalised = pattern.sub("", normalised)
        names, evidence = [], []
        for category in self.categories:
            match = next((m for p in category.patterns if (m := p.search(normalised))), None)
            if match and not any(u.search(normalised) for u in category.unless):
                names.append(category.name)
                evidence.append(match.group(0))
        return CrisisHit(tuple(names), tuple(evidence)) if names else None


def normalise_pattern(pattern: str) -> str:
    """Patterns are written in plain Chinese regex; fold them the same way as messages (keeping regex syntax)."""
    return to_simplified(unicodedata.normalize("NFKC", pattern).lower()).translate(_FOLD)
