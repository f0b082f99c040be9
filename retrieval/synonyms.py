"""Query expansion: colloquial words people type → the terms the policy documents use.

``data/synonyms.yml`` maps each policy term to the everyday words that mean it; a query containing
an everyday word also searches for the policy term (keyword search only; documents are unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from textnorm import Dialect, normalize

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "synonyms.yml"


@dataclass(frozen=True)
class Synonyms:
    pairs: tuple[tuple[str, str], ...]  # (everyday word, policy term), normalised
    dialect: Dialect | None = None

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH) -> Synonyms:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        pairs = []
        for term, words in data.items():
            for word in words:
                pairs.append((normalize(str(word)), normalize(str(term))))
        return cls(tuple(pairs), Dialect.load())

    def rewrite(self, query: str) -> str:
        """Replace dialect and everyday words by the standard words the documents use."""
        text = normalize(query)
        return self.dialect.rewrite(text) if self.dialect else text

    def expand(self, query: str) -> list[str]:
        text = normalize(query)
        seen: list[str] = []
        for word, term in self.pairs:
            if word in text and term not in seen and term not in text:
                seen.append(term)
        return seen
