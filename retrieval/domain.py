"""Is a question about child protection at all? A linear classifier over query embeddings.

Positives are the knowledge base's own typical questions and summaries plus the in-domain training
questions in ``data/in_domain_train.yml``; negatives are the off-topic training questions in
``data/off_topic_train.yml``. Neither file is an evaluation set. Trained
at index build time, stored as JSON next to the index; one of the signals of the "not found" decision.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from retrieval.embedder import Vectors

DATA = Path(__file__).resolve().parent / "data"


def load_training(data: Path = DATA) -> tuple[tuple[bool, str], ...]:
    """``(in_domain, normalised question)`` pairs from the two training files."""
    from textnorm import normalize  # embedded exactly as queries are

    pairs = []
    for label, name in ((True, "in_domain_train.yml"), (False, "off_topic_train.yml")):
        questions = (yaml.safe_load((data / name).read_text(encoding="utf-8")) or {}).get("questions", [])
        pairs += [(label, normalize(str(q))) for q in questions]
    return tuple(pairs)


@dataclass(frozen=True)
class DomainClassifier:
    weights: np.ndarray
    bias: float

    def probability(self, vectors: Vectors) -> np.ndarray:
        return np.asarray(1.0 / (1.0 + np.exp(-(vectors @ self.weights + self.bias))))

    @classmethod
    def train(
        cls, positives: Vectors, negatives: Vectors, *, l2: float = 1e-4, steps: int = 4000, lr: float = 2.0
    ) -> DomainClassifier:
        """Class-balanced logistic regression by gradient descent (deterministic, no extra dependency)."""
        x = np.vstack([positives, negatives]).astype(np.float64)
        y = np.r_[np.ones(len(positives)), np.zeros(len(negatives))]
        balance = np.where(y == 1, len(y) / (2 * len(positives)), len(y) / (2 * len(negatives)))
        w, b = np.zeros(x.shape[1]), 0.0
        for _ in range(steps):
            p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
            err = (p - y) * balance
            w -= lr * (x.T @ err / len(y) + l2 * w)
            b -= lr * float(err.mean())
        return cls(w.astype(np.float32), float(b))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"bias": self.bias, "weights": [round(float(v), 7) for v in self.weights]}))

    @classmethod
    def load(cls, path: Path) -> DomainClassifier | None:
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        return cls(np.asarray(data["weights"], dtype=np.float32), float(data["bias"]))
