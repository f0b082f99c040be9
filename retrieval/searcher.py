"""Hybrid search: dense and BM25 rankings over passages and question variants, fused per document."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from retrieval.chunking import Chunk
from retrieval.citations import Citation, DocInfo, cite
from retrieval.embedder import Embedder
from retrieval.fusion import dedupe, reciprocal_rank_fusion
from retrieval.references import referenced_documents
from retrieval.store import LoadedIndex, load_index
from retrieval.synonyms import Synonyms
from retrieval.tokenizer import Tokenizer
from textnorm import normalize

Mode = Literal["hybrid", "dense", "sparse"]
CANDIDATES = 100
KEYWORD_WEIGHT = 0.07  # words that set a section apart break near-ties between passages of similar meaning
# Weights of the ranked lists in the fusion (tuned on the development set, see docs/benchmarks.md).
DEFAULT_WEIGHTS = {
    "dense_passage": 1.0,
    "dense_variant": 1.0,
    "sparse_passage": 1.0,
    "sparse_variant": 0.5,
    "reference": 1.0,
}


@dataclass(frozen=True)
class Filters:
    """Which documents may answer. Superseded documents only when asked for history."""

    scopes: frozenset[str] | None = None
    audience: str | None = None
    include_superseded: bool = False
    doc_ids: frozenset[str] | None = None  # only these documents (a follow-up stays on its topic)

    def allows(self, doc: DocInfo) -> bool:
        if doc.status == "superseded" and not self.include_superseded:
            return False
        if self.doc_ids is not None and doc.doc_id not in self.doc_ids:
            return False
        if self.scopes is not None and doc.scope not in self.scopes:
            return False
        return self.audience is None or self.audience in doc.audience


@dataclass(frozen=True)
class Signals:
    """What the "not found" decision looks at, for the top document of a search.

    ``cosine``: best cosine between the query and any unit of the top document (dense evidence);
    ``agreement``: the top document's fused score relative to one ranked first in every list;
    ``unknown``: share of the question's words that occur nowhere in the corpus;
    ``domain``: the in-domain classifier's probability that the question is about child protection.
    """

    cosine: float
    agreement: float
    unknown: float
    domain: float

    def as_tuple(self) -> tuple[float, float, float, float]:
        return self.cosine, self.agreement, self.unknown, self.domain


@dataclass(frozen=True)
class Calibration:
    """Logistic confidence over the signals; fitted by ``python -m retrieval calibrate``."""

    bias: float = -14.0
    w_cosine: float = 16.0
    w_agreement: float = 4.0
    w_unknown: float = 0.0
    w_domain: float = 0.0
    threshold: float = 0.5

    def confidence(self, signals: Signals) -> float:
        z = (
            self.bias
            + self.w_cosine * signals.cosine
            + self.w_agreement * signals.agreement
            + self.w_unknown * signals.unknown
            + self.w_domain * signals.domain
        )
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


@dataclass(frozen=True)
class DocHit:
    doc: DocInfo
    chunk: Chunk
    score: float
    cosine: float
    sources: tuple[str, ...]

    @property
    def citation(self) -> Citation:
        return cite(self.doc, self.chunk.heading)


@dataclass(frozen=True)
class PassageHit:
    """One passage of a top document, scored by its own similarity to the query or its section questions'
    (``cosine`` is the passage's own), with its whole section."""

    chunk: Chunk
    score: float
    cosine: float
    section: str  # the whole section the passage belongs to


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: tuple[DocHit, ...]
    confidence: float
    found: bool
    extra_terms: tuple[str, ...] = field(default=())
    signals: Signals | None = None
    passages: tuple[PassageHit, ...] = field(default=())


def merge_passages(texts: list[str], max_overlap: int = 120) -> str:
    """The section text from its passages in order: each passage may repeat the end of the one before it
    (chunking overlaps a short last sentence), which is dropped once. Overlaps under four characters are
    coincidences, not repeats."""
    merged = ""
    for text in texts:
        overlap = next(
            (n for n in range(min(max_overlap, len(merged), len(text)), 3, -1) if merged.endswith(text[:n])), 0
        )
        piece = text[overlap:]
        merged += ("\n" if merged and not merged.endswith("\n") and piece and overlap == 0 else "") + piece
    return merged.strip()


class Retriever:
    """Loads one index and answers queries; ``reload()`` swaps in a newer index without a restart.

    Usage example::

        retriever = Retriever(Path("var/index"), SentenceTransformerEmbedder(), JiebaTokenizer())
        retriever.warm_up()
        result = retriever.search("什么是事实无人抚养儿童", top_k=5)
        if result.found:
            print(result.hits[0].citation.label)
    """

    def __init__(
        self,
        index_root: Path,
        embedder: Embedder,
        tokenizer: Tokenizer,
        *,
        synonyms: Synonyms | None = None,
        calibration: Calibration = Calibration(),
        rrf_k: int = 60,
        weights: dict[str, float] | None = None,
        known_question: tuple[float, float] = (0.95, 0.04),
    ) -> None:
        self._root = index_root
        self._embedder = embedder
        self._tokenizer = tokenizer
        self._synonyms = synonyms
        self.calibration = calibration
        self._rrf_k = rrf_k
        self.weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
        self._known_question = known_question
        self._index: LoadedIndex | None = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        if self._index is None:
            self.reload()

    def reload(self) -> LoadedIndex:
        """Load the index ``current`` points at; the previous one serves until the new one is ready."""
        warm = getattr(self._tokenizer, "warm_up", None)
        if warm:
            warm()
        self._embedder.warm_up()
        if self._synonyms is None:
            self._synonyms = Synonyms.load()
        index = load_index(self._root, self._tokenizer)
        if index.meta["model"] != self._embedder.name:
            raise ValueError(f"index built with {index.meta['model']!r}, embedder is {self._embedder.name!r}")
        with self._lock:
            self._index = index
        return index

    @property
    def index(self) -> LoadedIndex:
        if self._index is None:
            raise RuntimeError("Retriever.warm_up() was not called")
        return self._index

    @property
    def ready(self) -> bool:
        return self._index is not None

    def search(
        self, query: str, top_k: int = 5, *, filters: Filters = Filters(), mode: Mode = "hybrid"
    ) -> SearchResult:
        index = self.index
        # Dialect and voice-typing words are rewritten for both searches ("要带些么子材料" → "要带些什么材料").
        text = self._synonyms.rewrite(query) if self._synonyms else normalize(query)
        keywords = text
        extra = tuple(self._synonyms.expand(keywords)) if self._synonyms else ()
        qvec = self._embedder.encode([text])
        allowed = {d for d, info in index.docs.items() if filters.allows(info)}

        dense_scores, dense_pos = index.dense.search(qvec, CANDIDATES)
        dense = [(int(p), float(s)) for p, s in zip(dense_pos[0], dense_scores[0], strict=True) if p >= 0]
        sparse = index.sparse.search(keywords, CANDIDATES, extra) if mode != "dense" else []
        if mode == "sparse":
            dense_for_rank: list[tuple[int, float]] = []
        else:
            dense_for_rank = dense

        rankings = {
            "dense_passage": self._doc_ranking(index, dense_for_rank, allowed, "passage"),
            "dense_variant": self._doc_ranking(index, dense_for_rank, allowed, "variant"),
            "sparse_passage": self._doc_ranking(index, sparse, allowed, "passage"),
            "sparse_variant": self._doc_ranking(index, sparse, allowed, "variant"),
        }
        if mode == "hybrid":
            rankings["reference"] = [d for d in referenced_documents(text, index.docs.values()) if d in allowed]
        fused = reciprocal_rank_fusion({k: v for k, v in rankings.items() if v}, k=self._rrf_k, weights=self.weights)
        if mode == "hybrid":
            fused = self._promote_known_question(index, dense, allowed, fused)
        best_cos = self._best_cosine_by_doc(index, dense, allowed)
        hits = []
        for doc_id, score in fused[:top_k]:
            chunk = self._best_passage(index, doc_id, dense, sparse, qvec[0])
            sources = tuple(name for name, ranking in rankings.items() if doc_id in ranking[:10])
            hits.append(DocHit(index.docs[doc_id], chunk, score, best_cos.get(doc_id, 0.0), sources))
        if not hits:
            return SearchResult(query, (), 0.0, False, extra)
        signals = Signals(
            cosine=hits[0].cosine,
            agreement=min(1.0, hits[0].score / self.perfect_score),
            unknown=self._unknown_share(index, keywords),
            domain=float(index.domain.probability(qvec)[0]) if index.domain is not None else 1.0,
        )
        confidence = self.calibration.confidence(signals)
        # A question that names the top document's number, article or hotline is answered by it.
        referenced = hits[0].doc.doc_id in rankings.get("reference", [])
        found = confidence >= self.calibration.threshold or referenced
        passages = self._rank_passages(index, [h.doc.doc_id for h in hits], self._tokenizer(keywords), qvec[0])
        return SearchResult(query, tuple(hits), confidence, found, extra, signals, passages)

    def _rank_passages(
        self,
        index: LoadedIndex,
        docs: list[str],
        query_terms: list[str],
        qvec: np.ndarray,
        limit: int = 20,
    ) -> tuple[PassageHit, ...]:
        """The passages of the best documents, best first. A passage scores its own similarity to the query
        or that of the closest of its section's own questions, whichever is higher (the questions were
        written to lead to that section), plus the words it shares with the question that set its section
        apart from the others (see ``_section_keywords``)."""
        positions = [p for d in docs for p in index.passages_by_doc.get(d, [])]
        if not positions:
            return ()
        vectors = np.asarray(index.vectors)
        own = vectors[positions] @ qvec
        asked = index.section_questions_by_doc
        by_section: dict[tuple[str, tuple[str, ...]], float] = {}
        for doc in docs:
            for heading, question_positions in asked.get(doc, {}).items():
                by_section[(doc, heading)] = float(np.max(vectors[question_positions] @ qvec))
        keyword = self._section_keywords(index, positions, query_terms)
        scored = []
        for pos, cosine in zip(positions, own, strict=True):
            chunk = index.chunks[pos]
            similarity = max(float(cosine), by_section.get((chunk.doc_id, chunk.heading), -1.0))
            scored.append((similarity + KEYWORD_WEIGHT * keyword.get(pos, 0.0), pos, float(cosine)))
        scored.sort(reverse=True)
        out = []
        for score, pos, cosine in scored[:limit]:
            chunk = index.chunks[pos]
            whole = merge_passages(
                [index.chunks[p].text for p in index.passages_by_section[(chunk.doc_id, chunk.heading)]]
            )
            out.append(PassageHit(chunk, score, cosine, whole))
        return tuple(out)

    @staticmethod
    def _section_keywords(index: LoadedIndex, positions: list[int], terms: list[str]) -> dict[int, float]:
        """BM25 of the question's words over the candidate sections (heading counted twice), with document
        frequencies taken among those sections only: words that every section of a document shares (its
        programme's name) weigh nothing, words that set one section apart (死亡, 书面, 扩大) weigh most.
        Scaled to 0..1 by the best section."""
        unique = list(dict.fromkeys(terms))
        if not unique:
            return {}
        sections = {pos: index.keyword_text(pos) for pos in positions}
        df = {t: sum(t in text for text in sections.values()) for t in unique}
        n = len(sections)
        idf = {t: math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in unique if df[t]}
        average = sum(map(len, sections.values())) / n
        scores = {}
        for pos, text in sections.items():
            norm = 1.2 * (0.25 + 0.75 * len(text) / average)
            scores[pos] = sum(idf[t] * (count * 2.2) / (count + norm) for t in idf if (count := text.count(t)))
        best = max(scores.values(), default=0.0) or 1.0
        return {pos: score / best for pos, score in scores.items()}

    def _unknown_share(self, index: LoadedIndex, keywords: str) -> float:
        tokens = list(dict.fromkeys(self._tokenizer(keywords)))
        if not tokens:
            return 1.0
        vocabulary = index.sparse.vocabulary
        return sum(1 for t in tokens if t not in vocabulary) / len(tokens)

    @property
    def perfect_score(self) -> float:
        """The fused score of a document ranked first in every dense and keyword list."""
        base = sum(w for name, w in self.weights.items() if name != "reference")
        return base / (self._rrf_k + 1)

    def _promote_known_question(
        self,
        index: LoadedIndex,
        dense: list[tuple[int, float]],
        allowed: set[str],
        fused: list[tuple[str, float]],
    ) -> list[tuple[str, float]]:
        """A question that is nearly one of a document's own typical questions goes to that document
        first (FAQ matching), when no other document has a comparably close question."""
        threshold, margin = self._known_question
        variants = [
            (index.chunks[p].doc_id, s)
            for p, s in dense
            if index.chunks[p].kind != "passage" and index.chunks[p].doc_id in allowed
        ]
        if not variants or not fused:
            return fused
        doc, best = variants[0]
        runner_up = next((s for d, s in variants if d != doc), 0.0)
        if best < threshold or best - runner_up < margin or fused[0][0] == doc:
            return fused
        top_score = fused[0][1]
        return [(doc, top_score)] + [(d, s) for d, s in fused if d != doc]

    @staticmethod
    def _doc_ranking(
        index: LoadedIndex, ranked: Iterable[tuple[int, float]], allowed: set[str], kind: str
    ) -> list[str]:
        docs = []
        for pos, _ in ranked:
            chunk = index.chunks[pos]
            is_passage = chunk.kind == "passage"
            if chunk.doc_id in allowed and is_passage == (kind == "passage"):
                docs.append(chunk.doc_id)
        return dedupe(docs)

    @staticmethod
    def _best_cosine_by_doc(index: LoadedIndex, dense: list[tuple[int, float]], allowed: set[str]) -> dict[str, float]:
        best: dict[str, float] = {}
        for pos, score in dense:
            doc_id = index.chunks[pos].doc_id
            if doc_id in allowed and score > best.get(doc_id, -1.0):
                best[doc_id] = score
        return best

    def _best_passage(
        self,
        index: LoadedIndex,
        doc_id: str,
        dense: list[tuple[int, float]],
        sparse: list[tuple[int, float]],
        qvec: np.ndarray,
    ) -> Chunk:
        """The passage of ``doc_id`` ranked best by fusing its dense and BM25 passage ranks."""

        def passages(ranked: list[tuple[int, float]]) -> list[int]:
            return [p for p, _ in ranked if index.chunks[p].doc_id == doc_id and index.chunks[p].kind == "passage"]

        fused = reciprocal_rank_fusion({"dense": passages(dense), "sparse": passages(sparse)}, k=self._rrf_k)
        if fused:
            return index.chunks[fused[0][0]]
        # Found only through a question variant: take the passage of that document closest to the query.
        positions = index.passages_by_doc[doc_id]
        scores = np.asarray(index.vectors[positions]) @ qvec
        return index.chunks[positions[int(np.argmax(scores))]]
