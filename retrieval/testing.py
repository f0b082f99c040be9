"""Deterministic stand-ins for unit tests: no model, no files, same output every run."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from retrieval.embedder import Vectors


class HashEmbedder:
    """Bag of character unigrams and bigrams, each hashed (SHA-256) to a signed bucket, L2-normalised.

    Texts that share characters get similar vectors, which is enough to test ranking and fusion
    logic; ``calls`` records every text encoded, so tests can assert what was (re-)embedded.
    """

    def __init__(self, dim: int = 64) -> None:
        self.name = f"hash-{dim}"
        self._dim = dim
        self.calls: list[str] = []

    @property
    def dim(self) -> int:
        return self._dim

    def warm_up(self) -> None:
        return None

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self._dim, dtype=np.float32)
        grams = list(text) + [text[i : i + 2] for i in range(len(text) - 1)]
        for gram in grams:
            digest = hashlib.sha256(gram.encode("utf-8")).digest()
            bucket = int.from_bytes(digest[:4], "little") % self._dim
            vec[bucket] += 1.0 if digest[4] & 1 else -1.0
        norm = float(np.linalg.norm(vec))
        if norm == 0.0:
            vec[0] = 1.0
            return vec
        return vec / norm

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> Vectors:
        self.calls.extend(texts)
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts]).astype(np.float32)
