"""``python -m retrieval bench``: measured latency, throughput, recall and memory (results → docs/benchmarks.md).

Synthetic corpora are made from the real one: passages are repeated with their words shuffled (so BM25
has realistic vocabulary and lengths) and vectors are the real passage vectors plus small noise (so the
dense index sees clustered, realistic geometry rather than uniform random points).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import time
from dataclasses import replace
from typing import Any

import bm25s
import numpy as np

from knowledge_base.loader import load_knowledge_base
from retrieval.chunking import Chunk
from retrieval.dense import DenseIndex
from retrieval.runtime import make_retriever
from retrieval.searcher import Retriever
from retrieval.settings import RetrievalSettings
from retrieval.sparse import SparseIndex
from retrieval.store import LoadedIndex
from tools.docs import BENCHMARKS, replace_section


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered), 2), "p95_ms": round(p95, 2)}


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def time_queries(fn: Any, queries: list[str], repeat: int = 1) -> list[float]:
    out = []
    for _ in range(repeat):
        for q in queries:
            start = time.perf_counter()
            fn(q)
            out.append((time.perf_counter() - start) * 1000)
    return out


def synthetic(base: LoadedIndex, retriever: Retriever, size: int, hnsw: bool, seed: int = 7) -> LoadedIndex:
    rng = np.random.default_rng(seed)
    passages = [i for i, c in enumerate(base.chunks) if c.kind == "passage"]
    tokens = {i: retriever._tokenizer(base.chunks[i].text) for i in passages}
    chunks: list[Chunk] = []
    corpus: list[list[str]] = []
    picks = np.array([passages[i % len(passages)] for i in range(size)])
    # Each round of copies is a copy of every document, so documents keep their real length: a larger corpus
    # has more documents, not documents hundreds of passages long (passage ranking reads the top documents).
    docs = dict(base.docs)
    for n, pos in enumerate(picks):
        chunk = base.chunks[int(pos)]
        copy = n // len(passages)
        doc_id = chunk.doc_id if copy == 0 else f"{chunk.doc_id}~{copy}"
        if doc_id not in docs:
            docs[doc_id] = replace(base.docs[chunk.doc_id], doc_id=doc_id)
        chunks.append(replace(chunk, id=f"syn{n}", doc_id=doc_id))
        words = list(tokens[int(pos)])
        rng.shuffle(words)
        corpus.append(words[: max(1, int(len(words) * rng.uniform(0.6, 1.0)))])
    vectors = np.asarray(base.vectors)[picks] + rng.normal(0, 0.03, (size, base.vectors.shape[1]))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    bm25 = bm25s.BM25()
    bm25.index(corpus, show_progress=False)
    dense = DenseIndex.build(vectors, hnsw_threshold=0 if hnsw else size + 1)
    return LoadedIndex(
        base.folder,
        dict(base.meta, chunks=size),
        docs,
        tuple(chunks),
        vectors,
        dense,
        SparseIndex(bm25, retriever._tokenizer, size),
        base.domain,
    )


def hnsw_recall(flat: DenseIndex, hnsw: DenseIndex, queries: np.ndarray, k: int = 10) -> float:
    _, exact = flat.search(queries, k)
    _, approx = hnsw.search(queries, k)
    return float(np.mean([len(set(e) & set(a)) / k for e, a in zip(exact, approx, strict=True)]))


def run(settings: RetrievalSettings, sizes: list[int], n_queries: int) -> dict[str, Any]:
    kb = load_knowledge_base(settings.kb_dir, with_eval=True)
    assert kb.eval_set is not None
    queries = [q.question for q in kb.eval_set.questions][:n_queries]
    retriever = make_retriever(settings)
    retriever.warm_up()
    base = retriever.index
    for q in queries[:20]:  # warm: caches, lazy allocations, first-call costs
        retriever.search(q)
    encode = time_queries(lambda q: retriever._embedder.encode([q]), queries)
    real = time_queries(lambda q: retriever.search(q), queries)
    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {resource.getpagesize()}-byte pages, python {platform.python_version()}",
        "queries": len(queries),
        "query_encoding": percentiles(encode),
        "real_corpus": {"chunks": len(base.chunks), **percentiles(real)},
        "synthetic": [],
    }
    qvecs = np.vstack([retriever._embedder.encode([q]) for q in queries])
    for size in sizes:
        for kind in ("flat", "hnsw"):
            started = time.perf_counter()
            index = synthetic(base, retriever, size, hnsw=kind == "hnsw")
            build_s = time.perf_counter() - started
            retriever._index = index
            latencies = time_queries(lambda q: retriever.search(q), queries)
            row = {"chunks": size, "index": kind, "index_build_s": round(build_s, 1), **percentiles(latencies)}
            if kind == "hnsw":
                flat = DenseIndex.build(index.vectors, hnsw_threshold=size + 1)
                row["recall_at_10_vs_flat"] = round(hnsw_recall(flat, index.dense, qvecs), 4)
            report["synthetic"].append(row)
            retriever._index = base
    report["build_throughput"] = _build_throughput(retriever, base)
    report["peak_rss_mb"] = peak_rss_mb()
    return report


def _build_throughput(retriever: Retriever, base: LoadedIndex) -> dict[str, float]:
    """Embedding is the cost of a build: time the real model on the real passages (batch 64)."""
    texts = [c.text for c in base.chunks if c.kind == "passage"]
    started = time.perf_counter()
    retriever._embedder.encode(texts, batch_size=64)
    seconds = time.perf_counter() - started
    return {"passages": len(texts), "seconds": round(seconds, 1), "chunks_per_s": round(len(texts) / seconds, 1)}


def markdown(report: dict[str, Any]) -> str:
    enc = report["query_encoding"]
    lines = [
        f"Measured warm on this machine ({report['machine']}), {report['queries']} queries from the evaluation set, "
        "full hybrid search per query (encoding + FAISS + BM25 + fusion + confidence + passage ranking). Synthetic "
        "corpora are copies of the real passages, grouped as copies of their documents.",
        "",
        f"- Query encoding alone (m3e-small): p50 {enc['p50_ms']} ms, p95 {enc['p95_ms']} ms",
        f"- Real corpus ({report['real_corpus']['chunks']} units): p50 {report['real_corpus']['p50_ms']} ms, "
        f"p95 {report['real_corpus']['p95_ms']} ms",
        "",
        "| synthetic chunks | dense index | index build (s) | p50 (ms) | p95 (ms) | p95 / encoding p95 "
        "| HNSW recall@10 vs flat |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in report["synthetic"]:
        ratio = row["p95_ms"] / enc["p95_ms"] if enc["p95_ms"] else 0
        recall = row.get("recall_at_10_vs_flat")
        lines.append(
            f"| {row['chunks']:,} | {row['index']} | {row['index_build_s']} | {row['p50_ms']} | "
            f"{row['p95_ms']} | {ratio:.1f}× | {'' if recall is None else f'{recall:.4f}'} |"
        )
    bt = report["build_throughput"]
    lines += [
        "",
        f"- Build throughput (embedding {bt['passages']} real passages, batch 64): {bt['chunks_per_s']} chunks/s "
        f"({bt['seconds']} s)",
        f"- Peak memory of the benchmark process (all of the above, incl. the 100k indexes): "
        f"{report['peak_rss_mb']} MB",
    ]
    return "\n".join(lines)


def run_bench(settings: RetrievalSettings, args: argparse.Namespace) -> int:
    report = run(settings, [int(s) for s in args.sizes.split(",") if s], args.queries)
    print(json.dumps(report, ensure_ascii=False, indent=1) if args.json else markdown(report))
    if args.write:
        replace_section(
            BENCHMARKS,
            "retrieval-bench",
            "## Retrieval speed and memory\n\n"
            + markdown(report)
            + f"\n\nCommand: `.venv/bin/python -m retrieval bench --sizes {args.sizes} "
            f"--queries {args.queries} --write`",
        )
    return 0
