"""From the validated knowledge base to the list of retrieval units (passages and variants)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from knowledge_base.loader import KnowledgeBase
from knowledge_base.schema import PolicyDocument
from retrieval.chunking import Chunk, chunk_document, sections, variant_chunks
from retrieval.citations import DocInfo
from textnorm import clean_display


@dataclass(frozen=True)
class ChunkingParams:
    min_chars: int = 150
    max_chars: int = 400
    overlap_chars: int = 80


@dataclass(frozen=True)
class Corpus:
    docs: tuple[DocInfo, ...]
    chunks: tuple[Chunk, ...]

    def fingerprint(self, model: str, params: ChunkingParams, negatives: tuple[str, ...] = ()) -> str:
        """Changes whenever anything that ends up in the index changes."""
        h = hashlib.sha256()
        h.update(json.dumps([model, params.__dict__, list(negatives)], sort_keys=True, ensure_ascii=False).encode())
        for doc in self.docs:
            h.update(json.dumps(doc.to_json(), sort_keys=True, ensure_ascii=False).encode())
        for chunk in self.chunks:
            h.update(chunk.id.encode())
        return h.hexdigest()


def doc_info(doc: PolicyDocument) -> DocInfo:
    m = doc.meta
    return DocInfo(
        doc_id=m.id,
        title=m.title,
        source_title=m.source_title,
        doc_no=m.doc_no,
        law=m.law,
        articles=m.articles,
        issuer=m.issuer,
        issued=m.issued,
        effective=m.effective,
        status=m.status,
        amended_by=m.amended_by,
        superseded_by=m.superseded_by,
        scope=m.scope,
        audience=m.audience,
        summary=m.summary,
    )


def build_corpus(kb: KnowledgeBase, params: ChunkingParams = ChunkingParams()) -> Corpus:
    docs, chunks = [], []
    for doc in kb.documents:
        docs.append(doc_info(doc))
        body = clean_display(doc.body)
        chunks += chunk_document(
            doc.meta.id,
            body,
            min_chars=params.min_chars,
            max_chars=params.max_chars,
            overlap_chars=params.overlap_chars,
        )
        paths = {heading[-1]: heading for heading, _ in sections(body) if heading}
        by_section = {paths[h]: qs for h, qs in doc.meta.section_questions.items() if h in paths}
        chunks += variant_chunks(doc.meta.id, doc.meta.questions, doc.meta.summary, by_section)
    return Corpus(tuple(docs), tuple(chunks))


def embed_text(chunk: Chunk, doc: DocInfo) -> str:
    """What the embedder sees: passages carry their document title and heading path for context."""
    if chunk.kind == "passage":
        return f"{doc.title}：{' '.join(chunk.heading)}\n{chunk.text}"
    return chunk.text
