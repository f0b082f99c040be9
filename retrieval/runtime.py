"""Wiring of the real components from settings: the one place that picks implementations."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

from knowledge_base.loader import load_knowledge_base
from retrieval.corpus import build_corpus
from retrieval.domain import load_training
from retrieval.embedder import Embedder, make_embedder
from retrieval.searcher import Calibration, Retriever
from retrieval.settings import RetrievalSettings
from retrieval.store import BuildReport, build_index
from retrieval.synonyms import Synonyms
from retrieval.tokenizer import JiebaTokenizer


def load_calibration(settings: RetrievalSettings) -> Calibration:
    if settings.calibration_file.exists():
        data = json.loads(settings.calibration_file.read_text())
        return Calibration(**{k: float(v) for k, v in data["calibration"].items()})
    return Calibration()


def make_retriever(settings: RetrievalSettings, embedder: Embedder | None = None) -> Retriever:
    return Retriever(
        settings.index_dir,
        embedder or make_embedder(settings.embedding_model, settings.encoder_dir),
        JiebaTokenizer(),
        synonyms=Synonyms.load(),
        calibration=load_calibration(settings),
    )


def build(
    settings: RetrievalSettings,
    *,
    embedder: Embedder | None = None,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
) -> BuildReport:
    kb = load_knowledge_base(settings.kb_dir)
    return build_index(
        build_corpus(kb),
        settings.index_dir,
        # A build embeds hundreds of passages at once: every core, unlike a serving process.
        embedder or make_embedder(settings.embedding_model, settings.encoder_dir, threads=os.cpu_count()),
        JiebaTokenizer(),
        hnsw_threshold=settings.hnsw_threshold,
        force=force,
        progress=progress,
        training=load_training(),
    )
