"""What custom actions call: one container of services, built once when the action server starts.

Actions never construct services themselves (nothing heavy at import, and tests inject fakes with
:func:`set_services`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.eligibility.engine import EligibilityEngine
from bot.eligibility.extract import FactExtractor
from knowledge_base.loader import KnowledgeBase, load_knowledge_base
from knowledge_base.schema import Referral
from retrieval.answer import AnswerCard, answer_card
from retrieval.searcher import Filters, SearchResult

# Asking about the past ("原来", "2019年那版") lets superseded documents answer, as history.
_HISTORY = re.compile(r"原来|以前|过去|最早|旧版|老版|修改前|修订前|当初|刚出台|刚出来|历史|20[01]\d年(的|那|版)")


class Searcher(Protocol):
    def search(self, query: str, top_k: int = 5, *, filters: Filters = Filters()) -> SearchResult: ...

    @property
    def ready(self) -> bool: ...


@dataclass
class Services:
    retriever: Searcher
    kb: KnowledgeBase
    engine: EligibilityEngine
    extractor: FactExtractor

    def answer(self, question: str, *, audience: str | None = None) -> AnswerCard | None:
        """The answer card for ``question``, or None when nothing relevant is found."""
        filters = Filters(include_superseded=bool(_HISTORY.search(question)))
        return answer_card(self.retriever.search(question, 5, filters=filters))

    def contact_lines(self, kinds: tuple[str, ...]) -> str:
        """ "110（公安报警电话）、120（急救电话）" — verified entries only (unverified numbers are never shown)."""
        return "、".join(
            f"{r.public_contact()}（{r.name}）" for r in self.kb.referrals if r.kind in kinds and r.public_contact()
        )

    def referral_lines(self, referrals: list[Referral]) -> str:
        """One line per entry: the number only when verified, otherwise the entry's own note."""
        lines = []
        for ref in referrals:
            contact = ref.public_contact()
            head = f"{contact} {ref.name}" if contact else ref.name
            tail = f"（{ref.note}）" if not contact and ref.note else ""
            lines.append(f"· {head}：{ref.purpose}{tail}")
        return "\n".join(lines)

    def referrals(self, *, kinds: tuple[str, ...] = (), county: str | None = None) -> list[Referral]:
        """Directory entries of the given kinds; local ones for ``county`` (or citywide) after national ones."""
        entries = [r for r in self.kb.referrals if not kinds or r.kind in kinds]
        local = [r for r in entries if r.scope != "national" and (r.county is None or r.county == county)]
        return [r for r in entries if r.scope == "national"] + local


_services: Services | None = None


def set_services(services: Services | None) -> None:
    global _services
    _services = services


def get_services() -> Services:
    if _services is None:
        raise RuntimeError("the action server has not warmed up its services yet")
    return _services


def build_services(kb_dir: Path | None = None) -> Services:
    """Load the knowledge base and the retrieval index (the model and FAISS index load here)."""
    from retrieval.runtime import make_retriever
    from retrieval.settings import RetrievalSettings

    settings = RetrievalSettings() if kb_dir is None else RetrievalSettings(kb_dir=kb_dir)
    retriever = make_retriever(settings)
    retriever.warm_up()
    return Services(
        retriever=retriever,
        kb=load_knowledge_base(settings.kb_dir),
        engine=EligibilityEngine.load(),
        extractor=FactExtractor(),
    )
