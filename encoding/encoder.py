"""Token and sentence vectors from the exported encoder (``python -m encoding.export``), with onnxruntime.

Mean pooling over every position, L2-normalised, as sentence-transformers does for m3e-small: the vectors
match it (cosine 1.0 within 1e-4, tested), so the index built with either serves the other.

Usage example::

    encoder = SentenceEncoder.load(".build/encoder/m3e-small")
    encoder.embed_texts(["孩子爸爸在坐牢"]).shape          # (1, 512)
    per_token, sentence = encoder.embed_token_batches([["孩子", "爸爸", "在", "坐牢"]])[0]
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from encoding.tokenizer import CLS, SEP, UNK, WordPieceTokenizer

Matrix = npt.NDArray[np.float32]
MODEL_FILE = "model.onnx"
VOCAB_FILE = "vocab.txt"
CONFIG_FILE = "config.json"
FILES = (MODEL_FILE, VOCAB_FILE, CONFIG_FILE)


@dataclass(frozen=True)
class EncoderConfig:
    model: str
    hidden_size: int
    max_position_embeddings: int

    @classmethod
    def from_json(cls, path: Path) -> EncoderConfig:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{name: raw[name] for name in cls.__dataclass_fields__})


def check_files(directory: Path) -> None:
    missing = [f for f in FILES if not (directory / f).is_file()]
    if missing:
        raise FileNotFoundError(
            f"encoder files {missing} not in {directory} (make build exports them: python -m encoding.export)"
        )


class SentenceEncoder:
    def __init__(self, config: EncoderConfig, session: Any, vocab: Sequence[str]) -> None:
        self.config = config
        self.tokenizer = WordPieceTokenizer(vocab)
        self._session = session

    @classmethod
    def load(cls, directory: str | Path, *, threads: int | None = None) -> SentenceEncoder:
        """``threads``: onnxruntime's intra-op threads (default ``TONGXIN_ENCODER_THREADS`` or 1: the three
        processes share two cores, and one thread per call serves concurrent users best)."""
        import onnxruntime as ort  # loaded at start-up, never at import

        directory = Path(directory)
        check_files(directory)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or int(os.environ.get("TONGXIN_ENCODER_THREADS", "1"))
        options.inter_op_num_threads = 1
        # Idle pool threads would spin on the cores the other processes need: they sleep instead.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = ort.InferenceSession(str(directory / MODEL_FILE), options, providers=["CPUExecutionProvider"])
        vocab = (directory / VOCAB_FILE).read_text(encoding="utf-8").split("\n")
        return cls(EncoderConfig.from_json(directory / CONFIG_FILE), session, vocab)

    @property
    def dim(self) -> int:
        return self.config.hidden_size

    @property
    def name(self) -> str:
        return self.config.model

    def _ids(self, pieces: Sequence[str]) -> list[int]:
        ids = self.tokenizer.ids
        return [ids[CLS], *(ids.get(p, ids[UNK]) for p in pieces), ids[SEP]]

    def _fit(self, pieces: list[str]) -> list[str]:
        return pieces[: self.config.max_position_embeddings - 2]

    def _forward(self, batch: Sequence[Sequence[int]]) -> tuple[Matrix, Matrix]:
        """Hidden states (batch, length, dim) and the padding mask (batch, length)."""
        length = max(len(ids) for ids in batch)
        ids = np.zeros((len(batch), length), dtype=np.int64)
        mask = np.zeros((len(batch), length), dtype=np.int64)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (hidden,) = self._session.run(None, feed)
        return hidden.astype(np.float32, copy=False), mask.astype(np.float32)

    def embed_texts(self, texts: Sequence[str], *, batch_size: int = 32) -> Matrix:
        """One L2-normalised vector per text (mean over all positions, as sentence-transformers)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            hidden, mask = self._forward([self._ids(self._fit(self.tokenizer.tokenize(texts[i]))) for i in rows])
            pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
            out[rows] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out

    def embed_token_batches(
        self, utterances: Sequence[Sequence[str]], *, batch_size: int = 32
    ) -> list[tuple[Matrix, Matrix]]:
        """Vectors for pre-split tokens (Rasa's jieba tokens) and for each whole utterance.

        A token's vector is the mean of its word pieces' hidden states; a token with no pieces (or cut off
        past the model's length) gets zeros. The sentence vector is the normalised mean over every position.
        """
        results: list[tuple[Matrix, Matrix]] = [
            (np.zeros((len(tokens), self.dim), np.float32), np.zeros((1, self.dim), np.float32))
            for tokens in utterances
        ]
        split = [[self.tokenizer.tokenize(token) for token in tokens] for tokens in utterances]
        order = sorted(range(len(utterances)), key=lambda i: sum(map(len, split[i])))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            hidden, mask = self._forward([self._ids(self._fit([p for ps in split[i] for p in ps])) for i in rows])
            for b, i in enumerate(rows):
                per_token, sentence = results[i]
                position = 1  # after [CLS]
                for t, pieces in enumerate(split[i]):
                    span = hidden[b, position : min(position + len(pieces), int(mask[b].sum()) - 1)]
                    if len(span):
                        per_token[t] = span.mean(0)
                    position += len(pieces)
                pooled = (hidden[b] * mask[b][:, None]).sum(0) / mask[b].sum()
                sentence[0] = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
        return results
