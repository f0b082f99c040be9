"""Script and width folding applied identically to documents and queries.

NFKC folds full-width Latin letters, digits and punctuation; scraped Chinese web text often carries
ruby pinyin in brackets after a character (``關(guān)``), which is removed; traditional characters
are converted to simplified (OpenCC ``t2s``); duplicated punctuation left by scrapers and all
whitespace runs are collapsed.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

# A bracketed pinyin syllable right after a CJK character: 關(guān), 時(shí), 業(yè). Tone-marked
# vowels are what tells it apart from an ordinary bracketed Latin word such as (PDF).
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ"
_PINYIN_NOISE = re.compile(rf"(?<=[\u4e00-\u9fff])\((?=[a-z{_TONED}]*[{_TONED}])[a-z{_TONED}]{{1,7}}\)")
_DUP_PUNCT = re.compile(r"([,，、;；])(?:[\s,，]*[,，])+")
_COMMA_BEFORE = re.compile(r"[,，]+\s*([、。!！?？;；:：])")
_SPACE = re.compile(r"[ \t\u3000\xa0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_CJK_SPACE = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")


@lru_cache(maxsize=1)
def _t2s():  # type: ignore[no-untyped-def]
    from opencc import OpenCC  # imported lazily: building the converter reads its dictionaries

    return OpenCC("t2s")


@lru_cache(maxsize=1)
def _traditional_chars() -> frozenset[str]:
    """Every character whose presence can make ``t2s`` change a text: the characters it maps to others,
    and, in each phrase it rewrites, the characters that change (all of them when the length changes).
    A text with none of them comes out of the converter unchanged, so it need not go in: most user
    messages are simplified already, and the pure-Python converter costs about a millisecond per line."""
    import opencc

    found: set[str] = set()
    folder = Path(opencc.__file__).parent / "dictionary"
    for name in ("TSPhrases.txt", "TSCharacters.txt"):
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            key, _, values = line.partition("\t")
            value = values.split(" ")[0]
            if not key or key == value:
                continue
            if len(key) == len(value):
                found.update(k for k, v in zip(key, value, strict=True) if k != v)
            else:
                found.update(key)
    return frozenset(found)


@lru_cache(maxsize=8192)
def to_simplified(text: str) -> str:
    if text.isascii() or _traditional_chars().isdisjoint(text):
        return text
    return str(_t2s().convert(text))


def strip_scrape_noise(text: str) -> str:
    text = _PINYIN_NOISE.sub("", text)
    text = _DUP_PUNCT.sub(r"\1", text)
    return _COMMA_BEFORE.sub(r"\1", text)


def normalize(text: str, *, keep_newlines: bool = False) -> str:
    """Normalise ``text`` for matching: NFKC, pinyin noise removed, simplified script, clean whitespace."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = strip_scrape_noise(text)
    text = to_simplified(text)
    text = _SPACE.sub(" ", text)
    if keep_newlines:
        text = _BLANK_LINES.sub("\n", text)
        return "\n".join(line.strip() for line in text.split("\n")).strip()
    return _CJK_SPACE.sub("", " ".join(text.split()))


def clean_display(text: str) -> str:
    """Clean scraped text for display without folding case or punctuation width."""
    text = strip_scrape_noise(unicodedata.normalize("NFC", text))
    return to_simplified(text)
