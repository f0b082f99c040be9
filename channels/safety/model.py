"""The learned half of the crisis screen: logistic regression over the m3e sentence vector and character
n-grams (trained by ``tools/crisis_train.py`` with scikit-learn, run here with numpy).

The model lives in ``channels/data/crisis_model.npz`` (weights) and ``crisis_model.json`` (how features are
made, the training figures); nothing is downloaded, nothing is pickled.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

DATA = Path(__file__).resolve().parent.parent / "data"
WEIGHTS = DATA / "crisis_model.npz"
META = DATA / "crisis_model.json"
Vector = npt.NDArray[np.float32]


class TextEncoder(Protocol):
    def embed_texts(self, texts: list[str], *, batch_size: int = ...) -> Vector: ...


def ngram_counts(text: str, dims: int, sizes: tuple[int, ...] = (1, 2, 3)) -> dict[int, float]:
    """Hashed character n-grams of ``text`` (already normalised), log-scaled and L2-normalised.

    CRC32 is stable across processes and Python versions, so training and serving hash alike.
    """
    counts: dict[int, float] = {}
    for n in sizes:
        for i in range(len(text) - n + 1):
            key = zlib.crc32(text[i : i + n].encode("utf-8")) % dims
            counts[key] = counts.get(key, 0.0) + 1.0
    scaled = {k: 1.0 + float(np.log(v)) for k, v in counts.items()}
    norm = float(np.sqrt(sum(v * v for v in scaled.values()))) or 1.0
    return {k: v / norm for k, v in scaled.items()}


@dataclass(frozen=True)
class RiskModel:
    dense: Vector  # weights on the sentence vector
    sparse: Vector  # weights on the hashed n-grams
    bias: float
    dense_weight: float  # how much the sentence vector is scaled against the n-grams (as in training)
    dims: int
    meta: dict[str, Any]

    @classmethod
    def load(cls, weights: Path = WEIGHTS, meta: Path = META) -> RiskModel:
        info = json.loads(meta.read_text(encoding="utf-8"))
        with np.load(weights, allow_pickle=False) as archive:
            return cls(
                archive["dense"].astype(np.float32),
                archive["sparse"].astype(np.float32),
                float(archive["bias"]),
                float(info["dense_weight"]),
                int(info["hash_dims"]),
                info,
            )

    def logits(self, vectors: Vector, texts: list[str]) -> list[float]:
        """The log-odds of danger for each (sentence vector, normalised text) pair."""
        out = []
        for vector, text in zip(vectors, texts, strict=True):
            grams = ngram_counts(text, self.dims)
            z = self.bias + self.dense_weight * float(vector @ self.dense)
            z += sum(self.sparse[k] * v for k, v in grams.items())
            out.append(float(z))
        return out
