from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker

from bot import services
from bot.eligibility.engine import EligibilityEngine
from bot.eligibility.extract import FactExtractor
from knowledge_base.loader import KnowledgeBase, load_knowledge_base
from retrieval.chunking import Chunk
from retrieval.citations import DocInfo
from retrieval.searcher import DocHit, Filters, SearchResult


class FakeSearcher:
    """Returns a fixed result; records the queries and filters it was asked."""

    ready = True

    def __init__(self, result: SearchResult) -> None:
        self.result = result
        self.calls: list[tuple[str, Filters]] = []

    def search(self, query: str, top_k: int = 5, *, filters: Filters = Filters()) -> SearchResult:
        self.calls.append((query, filters))
        return self.result


def doc_info(kb: KnowledgeBase, doc_id: str) -> DocInfo:
    from retrieval.corpus import doc_info as to_info

    return to_info(kb.document(doc_id))


def search_result(kb: KnowledgeBase, doc_id: str | None, confidence: float = 0.9) -> SearchResult:
    if doc_id is None:
        return SearchResult("q", (), 0.0, False)
    info = doc_info(kb, doc_id)
    chunk = Chunk("c1", doc_id, "passage", ("哪些孩子算",), "父母双方均符合条件的……")
    return SearchResult("q", (DocHit(info, chunk, 0.06, 0.9, ("dense_passage",)),), confidence, True)


@pytest.fixture(scope="session")
def kb(kb_root: Path) -> KnowledgeBase:
    return load_knowledge_base(kb_root)


@pytest.fixture
def use_services(kb: KnowledgeBase) -> Iterator[Any]:
    def install(result: SearchResult) -> FakeSearcher:
        searcher = FakeSearcher(result)
        services.set_services(
            services.Services(retriever=searcher, kb=kb, engine=EligibilityEngine.load(), extractor=FactExtractor())
        )
        return searcher

    yield install
    services.set_services(None)


def tracker(
    text: str = "",
    slots: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    intent: str = "ask_policy",
    active_loop: str | None = None,
) -> Tracker:
    return Tracker(
        sender_id="web:u1",
        slots=slots or {},
        latest_message={"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []},
        events=events or [],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )
