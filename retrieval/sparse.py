"""BM25 keyword search (bm25s) over tokens from an injected tokenizer; saved without pickle."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from retrieval.tokenizer import Tokenizer

logging.getLogger("bm25s").setLevel(logging.WARNING)


class SparseIndex:
    def __init__(self, bm25: Any, tokenizer: Tokenizer, size: int) -> None:
        self._bm25 = bm25
        self._tokenize = tokenizer
        self.size = size
        self._vocabulary: frozenset[str] | None = None

    @classmethod
    def build(cls, texts: Sequence[str], tokenizer: Tokenizer) -> SparseIndex:
        bm25 = bm25s.BM25()
        # An empty token list would make bm25s drop the document and shift every position after it.
        corpus = [tokenizer(t) or ["\x00"] for t in texts]
        if corpus:
            bm25.index(corpus, show_progress=False)
        return cls(bm25, tokenizer, len(corpus))

    @property
    def vocabulary(self) -> frozenset[str]:
        if self._vocabulary is None:
            self._vocabulary = frozenset(getattr(self._bm25, "vocab_dict", None) or {})
        return self._vocabulary

    def search(self, query: str, k: int, extra_terms: Sequence[str] = ()) -> list[tuple[int, float]]:
        """Positions and BM25 scores of the best ``k`` texts with a positive score, best first."""
        if not self.size:
            return []
        tokens = self._tokenize(query)
        for term in extra_terms:
            tokens.extend(self._tokenize(term))
        if not tokens:
            return []
        k = min(k, self.size)
        positions, scores = self._bm25.retrieve([tokens], k=k, show_progress=False, n_threads=1)
        return [(int(p), float(s)) for p, s in zip(positions[0], scores[0], strict=True) if s > 0]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._bm25.save(str(folder), show_progress=False)
        (folder / "size.txt").write_text(str(self.size))

    @classmethod
    def load(cls, folder: Path, tokenizer: Tokenizer) -> SparseIndex:
        size = int((folder / "size.txt").read_text())
        bm25 = bm25s.BM25.load(str(folder), show_progress=False, allow_pickle=False) if size else bm25s.BM25()
        return cls(bm25, tokenizer, size)


def top_positions(scores: np.ndarray, k: int) -> np.ndarray:
    k = min(k, len(scores))
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part])]
