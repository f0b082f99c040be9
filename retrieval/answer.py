"""The answer card the bot shows: plain summary first, the supporting passage, and the citation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from retrieval.citations import Citation
from retrieval.searcher import SearchResult


@dataclass(frozen=True)
class AnswerCard:
    doc_id: str
    title: str
    summary: str
    heading: str
    passage: str
    citation: Citation
    superseded_by: str | None
    confidence: float
    also: tuple[Citation, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "summary": self.summary,
            "heading": self.heading,
            "passage": self.passage,
            "citation": self.citation.to_json(),
            "superseded_by": self.superseded_by,
            "confidence": round(self.confidence, 4),
            "also": [c.to_json() for c in self.also],
        }


def answer_card(result: SearchResult, *, related: int = 2) -> AnswerCard | None:
    """The card for the best hit, or None when the result is "not found" (never guess)."""
    if not result.found or not result.hits:
        return None
    top = result.hits[0]
    # Other documents that scored close to the best one are offered as "see also" sources.
    also = tuple(h.citation for h in result.hits[1 : 1 + related] if h.score >= top.score * 0.8)
    return AnswerCard(
        doc_id=top.doc.doc_id,
        title=top.doc.title,
        summary=top.doc.summary,
        heading=" > ".join(top.chunk.heading),
        passage=top.chunk.text,
        citation=top.citation,
        superseded_by=top.doc.superseded_by,
        confidence=result.confidence,
        also=also,
    )
