"""BERT's Chinese word-piece tokenization, in plain Python (no tokenizers library in the Rasa environment).

Matches the model's own tokenizer (``tokenizer.json``) token for token (tested).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

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
