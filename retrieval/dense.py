"""Dense nearest-neighbour search with FAISS over L2-normalised vectors (inner product = cosine).

Small corpora use an exact ``IndexFlatIP``; above ``hnsw_threshold`` vectors an ``IndexHNSWFlat``
with inner-product metric trades a little recall for speed (measured by ``python -m retrieval bench``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faiss
import numpy as np

from retrieval.embedder import Vectors

# From 10k vectors on, the exact index misses the 30 ms p95 target on 2 cores and HNSW does not
# (docs/benchmarks.md, retrieval-bench).
DEFAULT_HNSW_THRESHOLD = 10_000


class DenseIndex:
    def __init__(self, index: Any) -> None:
        self._index = index

    @classmethod
    def build(
        cls,
        vectors: Vectors,
        *,
        hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD,
        hnsw_m: int = 32,
        # Measured at 100k synthetic chunks: efSearch 96 gave recall@10 0.77-0.84 against the exact
        # index, 512 gives 0.97 for about 2 ms more per query, small beside the ~12 ms query encoding.
        ef_construction: int = 200,
        ef_search: int = 512,
    ) -> DenseIndex:
        n, dim = vectors.shape
        index: Any
        if n >= hnsw_threshold:
            index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = ef_construction
            index.hnsw.efSearch = ef_search
        else:
            index = faiss.IndexFlatIP(dim)
        if n:
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index)

    @property
    def kind(self) -> str:
        return "hnsw" if isinstance(self._index, faiss.IndexHNSWFlat) else "flat"

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    def set_ef_search(self, ef: int) -> None:
        if isinstance(self._index, faiss.IndexHNSWFlat):
            self._index.hnsw.efSearch = ef

    def search(self, queries: Vectors, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(scores, positions)``, each of shape (len(queries), k'); position -1 means none."""
        k = max(1, min(k, self.size))
        scores, positions = self._index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return scores, positions

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path) -> DenseIndex:
        return cls(faiss.read_index(str(path)))
