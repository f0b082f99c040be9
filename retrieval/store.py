"""The on-disk index: FAISS file + JSON sidecars (no pickle), built incrementally, swapped atomically.

Layout of ``<index_root>``::

    current -> build-<fingerprint>-<time>/     (symlink, replaced atomically)
    build-…/meta.json        model, dimension, corpus fingerprint, counts
    build-…/documents.json   DocInfo of every document (citations, summaries)
    build-…/chunks.jsonl     one unit per line: id, doc_id, kind, heading, text, embedding key
    build-…/vectors.npy      float32 embeddings in chunk order (reused by the next build)
    build-…/dense.faiss      FAISS index over the vectors
    build-…/sparse/          BM25 arrays (bm25s, numpy + JSON)
    build-…/training.jsonl   the domain classifier's training questions (label, text, embedding key)
    build-…/training.npy     their embeddings (reused by the next build)
    build-…/domain.json      the in-domain classifier (question variants + in-domain vs off-topic questions)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.chunking import Chunk
from retrieval.citations import DocInfo
from retrieval.corpus import ChunkingParams, Corpus, embed_text
from retrieval.dense import DenseIndex
from retrieval.domain import DomainClassifier
from retrieval.embedder import Embedder, Vectors
from retrieval.sparse import SparseIndex
from retrieval.tokenizer import Tokenizer
from textnorm import normalize

FORMAT_VERSION = 2
CURRENT = "current"


class IndexNotFoundError(FileNotFoundError):
    pass


@dataclass(frozen=True)
class BuildReport:
    folder: Path
    fingerprint: str
    chunks: int
    embedded: int
    reused: int
    seconds: float
    skipped: bool = False

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "folder": str(self.folder)}


@dataclass(frozen=True)
class LoadedIndex:
    folder: Path
    meta: dict[str, Any]
    docs: dict[str, DocInfo]
    chunks: tuple[Chunk, ...]
    vectors: Vectors
    dense: DenseIndex
    sparse: SparseIndex
    domain: DomainClassifier | None

    @cached_property
    def passages_by_doc(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for i, chunk in enumerate(self.chunks):
            if chunk.kind == "passage":
                out.setdefault(chunk.doc_id, []).append(i)
        return out

    @cached_property
    def section_questions_by_doc(self) -> dict[str, dict[tuple[str, ...], list[int]]]:
        out: dict[str, dict[tuple[str, ...], list[int]]] = {}
        for i, chunk in enumerate(self.chunks):
            if chunk.kind == "question" and chunk.heading:
                out.setdefault(chunk.doc_id, {}).setdefault(chunk.heading, []).append(i)
        return out

    @cached_property
    def _keyword_texts(self) -> dict[int, str]:
        return {}

    def keyword_text(self, pos: int) -> str:
        """A passage's heading (twice) and text, normalised once (passage ranking reads it on every search)."""
        memo = self._keyword_texts
        if pos not in memo:
            chunk = self.chunks[pos]
            memo[pos] = normalize(" ".join(chunk.heading) * 2 + chunk.text)
        return memo[pos]

    @cached_property
    def passages_by_section(self) -> dict[tuple[str, tuple[str, ...]], list[int]]:
        out: dict[tuple[str, tuple[str, ...]], list[int]] = {}
        for i, chunk in enumerate(self.chunks):
            if chunk.kind == "passage":
                out.setdefault((chunk.doc_id, chunk.heading), []).append(i)
        return out


def embedding_key(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\x1f{text}".encode()).hexdigest()[:24]


def current_folder(root: Path) -> Path:
    link = root / CURRENT
    if not link.exists():
        raise IndexNotFoundError(f"no index at {root} (run: python -m retrieval build)")
    return link.resolve()


def read_meta(root: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads((current_folder(root) / "meta.json").read_text()))
    except (IndexNotFoundError, FileNotFoundError, json.JSONDecodeError):
        return None


def _previous_vectors(root: Path, model: str, dim: int) -> dict[str, np.ndarray]:
    """Vectors of the current index by embedding key, if it was built with the same model."""
    meta = read_meta(root)
    if not meta or meta.get("model") != model or meta.get("dim") != dim:
        return {}
    folder = current_folder(root)
    out: dict[str, np.ndarray] = {}
    for rows, arrays in (("chunks.jsonl", "vectors.npy"), ("training.jsonl", "training.npy")):
        if (folder / rows).exists():
            vectors = np.load(folder / arrays, allow_pickle=False)
            keys = [json.loads(line)["key"] for line in (folder / rows).read_text().splitlines()]
            out.update(zip(keys, vectors, strict=True))
    return out


def build_index(
    corpus: Corpus,
    root: Path,
    embedder: Embedder,
    tokenizer: Tokenizer,
    *,
    params: ChunkingParams = ChunkingParams(),
    hnsw_threshold: int,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
    training: tuple[tuple[bool, str], ...] = (),
) -> BuildReport:
    """Build (or skip, when nothing changed) the index of ``corpus`` under ``root``; re-embed only new text.

    ``training`` holds ``(in_domain, question)`` pairs for the domain classifier (not searchable).
    """
    started = time.perf_counter()
    fingerprint = corpus.fingerprint(embedder.name, params, tuple(f"{int(y)}{t}" for y, t in training))
    meta = read_meta(root)
    if meta and meta.get("fingerprint") == fingerprint and not force:
        return BuildReport(current_folder(root), fingerprint, meta["chunks"], 0, meta["chunks"], 0.0, True)

    docs = {d.doc_id: d for d in corpus.docs}
    texts = [embed_text(c, docs[c.doc_id]) for c in corpus.chunks]
    n_chunks = len(texts)
    texts += [t for _, t in training]
    keys = [embedding_key(embedder.name, t) for t in texts]
    previous = _previous_vectors(root, embedder.name, embedder.dim)
    todo = [i for i, key in enumerate(keys) if key not in previous]
    fresh: dict[str, np.ndarray] = {}
    batch = 64
    for start in range(0, len(todo), batch):
        part = todo[start : start + batch]
        for i, vec in zip(part, embedder.encode([texts[i] for i in part]), strict=True):
            fresh[keys[i]] = vec
        if progress:
            progress(len(part))
    dim = embedder.dim
    all_vectors = (
        np.stack([fresh[k] if k in fresh else previous[k] for k in keys]).astype(np.float32)
        if keys
        else (np.zeros((0, dim), dtype=np.float32))
    )
    vectors, training_vectors = all_vectors[:n_chunks], all_vectors[n_chunks:]

    root.mkdir(parents=True, exist_ok=True)
    folder = root / f"build-{fingerprint[:12]}-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}"
    tmp = folder.with_name(folder.name + ".tmp")
    tmp.mkdir()
    np.save(tmp / "vectors.npy", vectors, allow_pickle=False)
    DenseIndex.build(vectors, hnsw_threshold=hnsw_threshold).save(tmp / "dense.faiss")
    SparseIndex.build(texts[:n_chunks], tokenizer).save(tmp / "sparse")
    with (tmp / "chunks.jsonl").open("w", encoding="utf-8") as fh:
        for chunk, key in zip(corpus.chunks, keys[:n_chunks], strict=True):
            row = {
                "id": chunk.id,
                "doc_id": chunk.doc_id,
                "kind": chunk.kind,
                "heading": list(chunk.heading),
                "text": chunk.text,
                "key": key,
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    _write_domain(tmp, corpus, vectors, training, keys[n_chunks:], training_vectors)
    (tmp / "documents.json").write_text(
        json.dumps([d.to_json() for d in corpus.docs], ensure_ascii=False, indent=1), encoding="utf-8"
    )
    new_meta = {
        "format": FORMAT_VERSION,
        "model": embedder.name,
        "dim": dim,
        "fingerprint": fingerprint,
        "chunks": len(corpus.chunks),
        "documents": len(corpus.docs),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    (tmp / "meta.json").write_text(json.dumps(new_meta, indent=1))
    tmp.rename(folder)
    _swap_current(root, folder)
    _prune(root, keep={folder.name})
    return BuildReport(folder, fingerprint, n_chunks, len(todo), len(keys) - len(todo), time.perf_counter() - started)


def _write_domain(
    folder: Path,
    corpus: Corpus,
    vectors: Vectors,
    training: tuple[tuple[bool, str], ...],
    keys: list[str],
    training_vectors: Vectors,
) -> None:
    if not training:
        return
    np.save(folder / "training.npy", training_vectors, allow_pickle=False)
    with (folder / "training.jsonl").open("w", encoding="utf-8") as fh:
        for (label, text), key in zip(training, keys, strict=True):
            fh.write(json.dumps({"in_domain": label, "text": text, "key": key}, ensure_ascii=False) + "\n")
    answerable = {d.doc_id for d in corpus.docs if d.status != "superseded"}
    variants = [i for i, c in enumerate(corpus.chunks) if c.kind != "passage" and c.doc_id in answerable]
    labels = np.array([label for label, _ in training], dtype=bool)
    positives = np.vstack([vectors[variants], training_vectors[labels]])
    if len(positives) and (~labels).any():
        DomainClassifier.train(positives, training_vectors[~labels]).save(folder / "domain.json")


def _swap_current(root: Path, folder: Path) -> None:
    """Point ``current`` at ``folder`` in one rename, so a reader never sees a half-written index."""
    tmp_link = root / f".{CURRENT}.{os.getpid()}"
    if tmp_link.is_symlink():
        tmp_link.unlink()
    tmp_link.symlink_to(folder.name)
    os.replace(tmp_link, root / CURRENT)


def _prune(root: Path, keep: set[str]) -> None:
    # Keep the newest two builds: a process that loaded the previous one may still be reading it.
    builds = sorted((p for p in root.glob("build-*") if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in builds[:-2]:
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)


def load_index(root: Path, tokenizer: Tokenizer) -> LoadedIndex:
    folder = current_folder(root)
    meta = json.loads((folder / "meta.json").read_text())
    if meta.get("format") != FORMAT_VERSION:
        raise IndexNotFoundError(f"index at {folder} has format {meta.get('format')}, expected {FORMAT_VERSION}")
    docs = {d["doc_id"]: DocInfo.from_json(d) for d in json.loads((folder / "documents.json").read_text())}
    chunks = []
    for line in (folder / "chunks.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        chunks.append(Chunk(row["id"], row["doc_id"], row["kind"], tuple(row["heading"]), row["text"]))
    return LoadedIndex(
        folder=folder,
        meta=meta,
        docs=docs,
        chunks=tuple(chunks),
        vectors=np.load(folder / "vectors.npy", allow_pickle=False, mmap_mode="r"),
        dense=DenseIndex.load(folder / "dense.faiss"),
        sparse=SparseIndex.load(folder / "sparse", tokenizer),
        domain=DomainClassifier.load(folder / "domain.json"),
    )
