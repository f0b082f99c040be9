"""Query expansion: colloquial words people type → the terms the policy documents use.

``data/synonyms.yml`` maps each policy term to the everyday words that mean it; a query containing
an everyday word also searches for the policy term (keyword search only; documents are unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from retrieval.normalize import normalize

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "synonyms.yml"
DIALECT_PATH = Path(__file__).resolve().parent / "data" / "dialect.yml"


@dataclass(frozen=True)
class Synonyms:
    pairs: tuple[tuple[str, str], ...]  # (everyday word, policy term), normalised
    rewrites: tuple[tuple[str, str], ...] = ()  # (dialect word, standard word), longest first

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH, dialect: Path = DIALECT_PATH) -> Synonyms:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        pairs = []
        for term, words in data.items():
            for word in words:
                pairs.append((normalize(str(word)), normalize(str(term))))
        rewrites = {
            normalize(str(k)): normalize(str(v))
            for k, v in (yaml.safe_load(dialect.read_text(encoding="utf-8")) or {}).items()
        }
        ordered = tuple(sorted(rewrites.items(), key=lambda kv: -len(kv[0])))
        return cls(tuple(pairs), ordered)

    def rewrite(self, query: str) -> str:
        """Replace dialect and everyday words by the standard words the documents use."""
        text = normalize(query)
        out, i = [], 0
        while i < len(text):
            for word, standard in self.rewrites:
                if text.startswith(word, i):
                    out.append(standard)
                    i += len(word)
                    break
            else:
                out.append(text[i])
                i += 1
        return "".join(out)

    def expand(self, query: str) -> list[str]:
        text = normalize(query)
        seen: list[str] = []
        for word, term in self.pairs:
            if word in text and term not in seen and term not in text:
                seen.append(term)
        return seen
