"""Split Markdown policy documents into retrieval units that keep their heading path.

Sections are never merged across headings (a passage must cite one place); inside a section,
sentences (ending in 。！？； or a line break) are packed into chunks of about ``min_chars`` to
``max_chars`` characters, each new chunk repeating the previous chunk's last sentence when it is
short, so that a rule split across two chunks is still found whole in one of them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

UnitKind = Literal["passage", "question", "summary"]

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_SENTENCE = re.compile(r"[^。！？；!?;\n]*(?:[。！？；!?;]+[”’」』)）]?|\n|$)")


@dataclass(frozen=True)
class Chunk:
    """One retrieval unit: a passage of a document, or one of its front-matter questions or summary."""

    id: str
    doc_id: str
    kind: UnitKind
    heading: tuple[str, ...]
    text: str

    @property
    def heading_path(self) -> str:
        return " > ".join(self.heading)


def chunk_id(doc_id: str, kind: str, heading: tuple[str, ...], text: str) -> str:
    """Deterministic id: the same document, place and text always give the same id."""
    raw = "\x1f".join((doc_id, kind, *heading, text))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:20]


def sections(body: str) -> Iterator[tuple[tuple[str, ...], str]]:
    """Yield ``(heading path, section text)`` for a Markdown body, in order."""
    path: list[tuple[int, str]] = []
    lines: list[str] = []

    def flush() -> Iterator[tuple[tuple[str, ...], str]]:
        text = "\n".join(lines).strip()
        if text:
            yield tuple(title for _, title in path), text
        lines.clear()

    for line in body.splitlines():
        match = _HEADING.match(line)
        if match:
            yield from flush()
            level = len(match.group(1))
            path = [(lvl, t) for lvl, t in path if lvl < level]
            path.append((level, match.group(2)))
        else:
            lines.append(line)
    yield from flush()


def split_sentences(text: str, max_chars: int) -> list[str]:
    """Split on Chinese sentence ends and line breaks; cut over-long sentences at commas, then hard."""
    out: list[str] = []
    for raw in _SENTENCE.findall(text):
        sentence = raw.strip()
        if not sentence:
            continue
        while len(sentence) > max_chars:
            cut = max((sentence.rfind(p, 0, max_chars) for p in "，,、："), default=-1)
            cut = cut + 1 if cut > max_chars // 3 else max_chars
            out.append(sentence[:cut])
            sentence = sentence[cut:].strip()
        if sentence:
            out.append(sentence)
    return out


def _join(sentences: list[str]) -> str:
    # List items and paragraphs keep their line breaks; sentences of one paragraph are joined directly.
    text = ""
    for s in sentences:
        if text and (s.startswith(("-", "*", "·")) or re.match(r"^\d+[.、）)]", s) or text.endswith("：")):
            text += "\n"
        text += s
    return text


def pack(sentences: list[str], min_chars: int, max_chars: int, overlap_chars: int) -> list[str]:
    chunks: list[list[str]] = []
    current: list[str] = []
    size = 0
    for sentence in sentences:
        if current and size + len(sentence) > max_chars and size >= min_chars:
            chunks.append(current)
            tail = current[-1]
            current = [tail] if len(tail) <= overlap_chars else []
            size = sum(map(len, current))
        current.append(sentence)
        size += len(sentence)
    if current:
        # A short remainder joins the previous chunk rather than standing alone without context.
        if chunks and size < min_chars // 2 and sum(map(len, chunks[-1])) + size <= max_chars * 5 // 4:
            chunks[-1].extend(s for s in current if s not in chunks[-1][-1:])
        else:
            chunks.append(current)
    return [_join(c) for c in chunks]


def chunk_document(
    doc_id: str,
    body: str,
    *,
    min_chars: int = 150,
    max_chars: int = 400,
    overlap_chars: int = 80,
) -> list[Chunk]:
    """Chunk one document body into passages with heading paths and deterministic ids."""
    out: list[Chunk] = []
    for heading, text in sections(body):
        for piece in pack(split_sentences(text, max_chars), min_chars, max_chars, overlap_chars):
            out.append(Chunk(chunk_id(doc_id, "passage", heading, piece), doc_id, "passage", heading, piece))
    return out


def variant_chunks(
    doc_id: str,
    questions: tuple[str, ...],
    summary: str,
    section_questions: dict[tuple[str, ...], tuple[str, ...]] | None = None,
) -> list[Chunk]:
    """The document's typical questions and plain summary, indexed as extra ways in to the document; a
    section's own questions carry that section's heading, so they lead to its passage."""
    units = [Chunk(chunk_id(doc_id, "summary", (), summary), doc_id, "summary", (), summary)]
    units += [Chunk(chunk_id(doc_id, "question", (), q), doc_id, "question", (), q) for q in questions]
    for heading, asked in (section_questions or {}).items():
        units += [Chunk(chunk_id(doc_id, "question", heading, q), doc_id, "question", heading, q) for q in asked]
    return units
