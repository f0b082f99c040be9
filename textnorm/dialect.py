"""Dialect and voice-typing words → the standard words the documents use (data: ``data/dialect.yml``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from textnorm.script import normalize

DATA = Path(__file__).resolve().parent / "data" / "dialect.yml"


@dataclass(frozen=True)
class Dialect:
    """Usage example::

    Dialect.load().rewrite("伢他爸服行三年 克哪里申请")   # "孩子他爸服刑三年去哪里申请"
    """

    words: tuple[tuple[str, str], ...]  # (dialect word, standard word), longest first
    contexts: tuple[tuple[re.Pattern[str], str], ...]

    @classmethod
    def load(cls, path: Path = DATA) -> Dialect:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        words = {normalize(str(k)): normalize(str(v)) for k, v in (data.get("words") or {}).items()}
        contexts = tuple((re.compile(p), r) for p, r in data.get("contexts") or [])
        return cls(tuple(sorted(words.items(), key=lambda kv: -len(kv[0]))), contexts)

    def rewrite(self, text: str) -> str:
        """Leftmost-longest word replacement, then the context rules; ``text`` should be normalised."""
        out, i = [], 0
        while i < len(text):
            for word, standard in self.words:
                if text.startswith(word, i):
                    out.append(standard)
                    i += len(word)
                    break
            else:
                out.append(text[i])
                i += 1
        result = "".join(out)
        for pattern, replacement in self.contexts:
            result = pattern.sub(replacement, result)
        return result


@lru_cache(maxsize=1)
def default_dialect() -> Dialect:
    return Dialect.load()


def standardise(text: str) -> str:
    """``normalize`` then the dialect rewrite: what every reader of user text should see."""
    return default_dialect().rewrite(normalize(text))
