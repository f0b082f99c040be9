from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from retrieval.corpus import Corpus
from retrieval.store import build_index, current_folder, load_index
from retrieval.testing import HashEmbedder
from retrieval.tokenizer import JiebaTokenizer


def test_index_files_are_faiss_and_json_without_pickle(hash_index: Path, corpus: Corpus) -> None:
    folder = current_folder(hash_index)
    names = {p.name for p in folder.iterdir()}
    assert {"meta.json", "documents.json", "chunks.jsonl", "vectors.npy", "dense.faiss", "sparse"} <= names
    assert not list(folder.rglob("*.pkl")) and not list(folder.rglob("*.pickle"))
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["model"] == "hash-64" and meta["dim"] == 64 and meta["chunks"] == len(corpus.chunks)
    vectors = np.load(folder / "vectors.npy", allow_pickle=False)
    assert vectors.shape == (len(corpus.chunks), 64)
    rows = [json.loads(line) for line in (folder / "chunks.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == [c.id for c in corpus.chunks]


def test_unchanged_corpus_is_not_rebuilt(tmp_path: Path, corpus: Corpus, tokenizer: JiebaTokenizer) -> None:
    embedder = HashEmbedder()
    first = build_index(corpus, tmp_path, embedder, tokenizer, hnsw_threshold=50_000)
    calls = len(embedder.calls)
    second = build_index(corpus, tmp_path, embedder, tokenizer, hnsw_threshold=50_000)
    assert second.skipped and second.folder == first.folder and len(embedder.calls) == calls


def test_changing_one_document_re_embeds_only_its_chunks(
    tmp_path: Path, corpus: Corpus, tokenizer: JiebaTokenizer
) -> None:
    embedder = HashEmbedder()
    first = build_index(corpus, tmp_path, embedder, tokenizer, hnsw_threshold=50_000)
    assert first.embedded == len(corpus.chunks)

    target = next(c for c in corpus.chunks if c.doc_id == "hotlines" and c.kind == "passage")
    edited = replace(target, text=target.text + "（本段已更新）", id=target.id + "x")
    changed = Corpus(corpus.docs, tuple(edited if c is target else c for c in corpus.chunks))
    embedder.calls.clear()
    second = build_index(changed, tmp_path, embedder, tokenizer, hnsw_threshold=50_000)

    assert second.embedded == 1 and second.reused == len(corpus.chunks) - 1
    assert len(embedder.calls) == 1 and "本段已更新" in embedder.calls[0]
    assert current_folder(tmp_path) == second.folder != first.folder
    loaded = load_index(tmp_path, tokenizer)
    position = next(i for i, c in enumerate(loaded.chunks) if c.id == edited.id)
    expected = HashEmbedder().encode([embedder.calls[0]])[0]
    assert np.allclose(loaded.vectors[position], expected)


def test_swap_keeps_previous_build_for_readers(tmp_path: Path, corpus: Corpus, tokenizer: JiebaTokenizer) -> None:
    embedder = HashEmbedder()
    folders = []
    for i in range(3):
        docs = tuple(replace(d, summary=d.summary + str(i)) if d.doc_id == "orphans" else d for d in corpus.docs)
        folders.append(
            build_index(Corpus(docs, corpus.chunks), tmp_path, embedder, tokenizer, hnsw_threshold=50_000).folder
        )
    assert (tmp_path / "current").is_symlink() and current_folder(tmp_path) == folders[-1]
    assert not folders[0].exists() and folders[1].exists()


def test_large_corpora_get_hnsw(tmp_path: Path, corpus: Corpus, tokenizer: JiebaTokenizer) -> None:
    build_index(corpus, tmp_path, HashEmbedder(), tokenizer, hnsw_threshold=10)
    assert load_index(tmp_path, tokenizer).dense.kind == "hnsw"
