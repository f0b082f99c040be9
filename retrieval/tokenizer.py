"""Chinese word tokenizer for BM25: jieba with a domain dictionary and stop words, swappable.

Any callable ``str -> list[str]`` can replace it (``SparseIndex`` takes the tokenizer as an argument).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textnorm import normalize

DATA_DIR = Path(__file__).resolve().parent / "data"
# Shared with Rasa's JiebaTokenizer (config.yml), so the NLU and retrieval split words the same way.
USERDICT = Path(__file__).resolve().parent.parent / "knowledge_base" / "lexicon" / "jieba" / "userdict.txt"
Tokenizer = Callable[[str], list[str]]
_WORDLIKE = re.compile(r"[\w\u4e00-\u9fff]")


def load_word_list(path: Path) -> list[str]:
    words = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            words.append(line)
    return words


class JiebaTokenizer:
    """``jieba.cut_for_search`` (words and their shorter parts) over normalised text, stop words dropped."""

    def __init__(self, userdict: Path | None = None, stopwords: Path | None = None) -> None:
        self._userdict = userdict or USERDICT
        self._stopwords_path = stopwords or DATA_DIR / "stopwords.txt"
        self._jieba: Any = None
        self._stopwords: frozenset[str] = frozenset()

    def warm_up(self) -> None:
        if self._jieba is not None:
            return
        import jieba

        jieba.setLogLevel(logging.WARNING)
        tok = jieba.Tokenizer()
        tok.initialize()
        # Domain terms are kept whole (their parts still come from cut_for_search).
        with self._userdict.open("rb") as fh:  # jieba leaves a file it opened itself unclosed
            tok.load_userdict(fh)
        self._stopwords = frozenset(load_word_list(self._stopwords_path))
        self._jieba = tok

    def __call__(self, text: str) -> list[str]:
        self.warm_up()
        tokens = self._jieba.cut_for_search(normalize(text))
        return [t for t in tokens if _WORDLIKE.search(t) and t not in self._stopwords]
