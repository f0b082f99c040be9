from __future__ import annotations

from pathlib import Path

import pytest

from knowledge_base.loader import KnowledgeBase, load_knowledge_base
from retrieval.corpus import Corpus, build_corpus
from retrieval.searcher import Calibration, Retriever
from retrieval.store import build_index
from retrieval.synonyms import Synonyms
from retrieval.testing import HashEmbedder
from retrieval.tokenizer import JiebaTokenizer


@pytest.fixture(scope="session")
def tokenizer() -> JiebaTokenizer:
    tok = JiebaTokenizer()
    tok.warm_up()
    return tok


@pytest.fixture(scope="session")
def kb(kb_root: Path) -> KnowledgeBase:
    return load_knowledge_base(kb_root)


@pytest.fixture(scope="session")
def corpus(kb: KnowledgeBase) -> Corpus:
    return build_corpus(kb)


@pytest.fixture(scope="session")
def hash_index(tmp_path_factory: pytest.TempPathFactory, corpus: Corpus, tokenizer: JiebaTokenizer) -> Path:
    root = tmp_path_factory.mktemp("index")
    build_index(corpus, root, HashEmbedder(), tokenizer, hnsw_threshold=50_000)
    return root


@pytest.fixture
def fake_retriever(hash_index: Path, tokenizer: JiebaTokenizer) -> Retriever:
    """The real search logic over the real corpus, with a deterministic hash embedder."""
    retriever = Retriever(
        hash_index,
        HashEmbedder(),
        tokenizer,
        synonyms=Synonyms.load(),
        calibration=Calibration(bias=-2.0, w_cosine=4.0, w_agreement=2.0, threshold=0.5),
    )
    retriever.warm_up()
    return retriever
