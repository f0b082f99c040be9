"""The m3e-small sentence encoder (a 4-layer BERT) in plain numpy.

The Rasa environment has TensorFlow but no PyTorch, and the model ships as PyTorch weights: the
app environment exports them once (``python -m bot.nlu.export``) as a numpy archive, and this
module runs the forward pass. Its output matches sentence-transformers (tested), so the NLU sees
the same semantic space as retrieval.

Usage example::

    encoder = SentenceEncoder.load(".build/encoder/m3e-small")
    per_token, sentence = encoder.embed_tokens(["孩子", "爸爸", "在", "坐牢"])
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.special import erf

Matrix = npt.NDArray[np.float32]

WEIGHTS_FILE = "weights.npz"
VOCAB_FILE = "vocab.txt"
CONFIG_FILE = "config.json"

CLS, SEP, UNK = "[CLS]", "[SEP]", "[UNK]"
_CJK_RANGES = (
    (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F),
)  # fmt: skip


def _is_cjk(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


class WordPieceTokenizer:
    """BERT's Chinese tokenization: every CJK character and punctuation mark apart, then WordPiece.

    Cased, no accent stripping, as the model's ``tokenizer_config.json`` says.
    """

    def __init__(self, vocab: Sequence[str], *, max_chars_per_word: int = 100) -> None:
        self.ids = {piece: i for i, piece in enumerate(vocab)}
        self._max_chars = max_chars_per_word

    def _words(self, text: str) -> list[str]:
        out: list[str] = []
        for ch in text:
            cp = ord(ch)
            if ch in "\t\n\r" or unicodedata.category(ch) == "Zs":
                out.append(" ")
            elif cp == 0 or cp == 0xFFFD or unicodedata.category(ch) in ("Cc", "Cf"):
                continue
            elif _is_cjk(cp) or _is_punctuation(ch):
                out.append(f" {ch} ")
            else:
                out.append(ch)
        return "".join(out).split()

    def _pieces(self, word: str) -> list[str]:
        if len(word) > self._max_chars:
            return [UNK]
        pieces: list[str] = []
        start = 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.ids:
                    break
                end -= 1
            else:
                return [UNK]
            pieces.append(piece)
            start = end
        return pieces

    def tokenize(self, text: str) -> list[str]:
        return [piece for word in self._words(text) for piece in self._pieces(word)]


@dataclass(frozen=True)
class EncoderConfig:
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    max_position_embeddings: int
    layer_norm_eps: float

    @classmethod
    def from_json(cls, path: Path) -> EncoderConfig:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{name: raw[name] for name in cls.__dataclass_fields__})


def _layer_norm(x: Matrix, gamma: Matrix, beta: Matrix, eps: float) -> Matrix:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    normed: Matrix = (x - mean) / np.sqrt(var + eps) * gamma + beta
    return normed


class SentenceEncoder:
    """Token and sentence vectors from the BERT encoder, mean-pooled like sentence-transformers."""

    def __init__(self, config: EncoderConfig, weights: dict[str, Matrix], vocab: Sequence[str]) -> None:
        self.config = config
        self.tokenizer = WordPieceTokenizer(vocab)
        self._w = weights

    @staticmethod
    def check_files(directory: Path) -> None:
        missing = [f for f in (WEIGHTS_FILE, VOCAB_FILE, CONFIG_FILE) if not (directory / f).is_file()]
        if missing:
            raise FileNotFoundError(
                f"encoder files {missing} not in {directory} (make build exports them: python -m bot.nlu.export)"
            )

    @classmethod
    def load(cls, directory: str | Path) -> SentenceEncoder:
        directory = Path(directory)
        cls.check_files(directory)
        with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as archive:
            weights = {name: archive[name].astype(np.float32) for name in archive.files}
        # Linear layers multiply from the right: keep them transposed and contiguous for BLAS.
        for name in [n for n in weights if n.startswith("encoder.") and n.endswith(".weight") and weights[n].ndim == 2]:
            weights[name] = np.ascontiguousarray(weights[name].T)
        vocab = (directory / VOCAB_FILE).read_text(encoding="utf-8").split("\n")
        return cls(EncoderConfig.from_json(directory / CONFIG_FILE), weights, vocab)

    @property
    def dim(self) -> int:
        return self.config.hidden_size

    def _ids(self, pieces: Sequence[str]) -> list[int]:
        ids = self.tokenizer.ids
        return [ids[CLS], *(ids.get(p, ids[UNK]) for p in pieces), ids[SEP]]

    def _forward(self, batch: Sequence[Sequence[int]]) -> tuple[Matrix, Matrix]:
        """Hidden states (batch, length, dim) and the padding mask (batch, length)."""
        cfg, w = self.config, self._w
        length = max(len(ids) for ids in batch)
        ids = np.zeros((len(batch), length), dtype=np.int64)
        mask = np.zeros((len(batch), length), dtype=np.float32)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1.0
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        eps = cfg.layer_norm_eps
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
        heads = cfg.num_attention_heads
        head_dim = cfg.hidden_size // heads
        # Padding positions get -inf-like scores so attention never looks at them.
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(head_dim))
        root2 = np.float32(np.sqrt(2.0))

        def split(t: Matrix) -> Matrix:
            return t.reshape(len(batch), length, heads, head_dim).transpose(0, 2, 1, 3)

        for layer in range(cfg.num_hidden_layers):
            p = f"encoder.layer.{layer}."

            def linear(t: Matrix, name: str, prefix: str = p) -> Matrix:
                return t @ w[f"{prefix}{name}.weight"] + w[f"{prefix}{name}.bias"]

            q = split(linear(x, "attention.self.query"))
            k = split(linear(x, "attention.self.key"))
            v = split(linear(x, "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) * scale + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(len(batch), length, cfg.hidden_size)
            x = _layer_norm(
                x + linear(context, "attention.output.dense"),
                w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps,
            )  # fmt: skip
            hidden = linear(x, "intermediate.dense")
            hidden = hidden * np.float32(0.5) * (np.float32(1.0) + erf(hidden / root2))
            x = _layer_norm(
                x + linear(hidden, "output.dense"),
                w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps,
            )  # fmt: skip
        # Everything stays float32: one float64 operand would send the matmuls off BLAS.
        return x, mask

    def _fit(self, pieces: list[str]) -> list[str]:
        return pieces[: self.config.max_position_embeddings - 2]

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

    def embed_tokens(self, tokens: Sequence[str]) -> tuple[Matrix, Matrix]:
        """Vectors for pre-split tokens (Rasa's jieba tokens) and for the whole utterance.

        A token's vector is the mean of its word pieces' hidden states; a token with no pieces
        (or cut off past the model's length) gets zeros. The sentence vector is the normalised mean
        over every position (for Chinese text the same as ``embed_texts`` of the joined tokens).
        """
        return self.embed_token_batches([tokens])[0]

    def embed_token_batches(
        self, utterances: Sequence[Sequence[str]], *, batch_size: int = 32
    ) -> list[tuple[Matrix, Matrix]]:
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
