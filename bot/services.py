"""What custom actions call: one container of services, built once when the action server starts.

Actions never construct services themselves (nothing heavy at import, and tests inject fakes with
:func:`set_services`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Protocol

from bot.dialogue.cues import ConversationCues, load_cues
from bot.eligibility.engine import EligibilityEngine
from bot.eligibility.extract import FactExtractor
from knowledge_base.loader import KnowledgeBase, load_knowledge_base
from knowledge_base.schema import Referral
from retrieval.answer import AnswerCard, answer_card
from retrieval.citations import DocInfo
from retrieval.corpus import doc_info
from retrieval.searcher import Filters, SearchResult

# Asking about the past ("原来", "2019年那版") lets superseded documents answer, as history.
_ARTICLE_ONLY = re.compile(r"^(那|还有)?第[零一二三四五六七八九十百\d]+条")
# How close a passage of the conversation's topic must be to answer a follow-up there (cosine, m3e-small).
TOPIC_SIMILARITY = 0.75
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
    cues: ConversationCues = field(default_factory=load_cues)

    @cached_property
    def docs(self) -> dict[str, DocInfo]:
        return {d.meta.id: doc_info(d) for d in self.kb.documents}

    def answer(
        self, question: str, *, last_doc_id: str | None = None, within: frozenset[str] | None = None
    ) -> AnswerCard | None:
        """The answer card for ``question``, or None when nothing relevant is found. A short follow-up
        ("那年龄有限制吗", "第二十三条") is first looked for in the documents of the last answer's topic, and
        kept there when a passage there answers it closely; ``within`` keeps a search to given documents the
        same way."""
        history = bool(_HISTORY.search(question))
        query = question
        if within is None and last_doc_id in self.docs and self.cues.is_follow_up(question):
            within = self.topic(last_doc_id)
            law = self.docs[last_doc_id].law
            if law and _ARTICLE_ONLY.match(question.strip()):
                query = f"{law}{question}"  # "第二十三条" after an answer about a law is that law's article
        if within is not None:
            kept = self.retriever.search(query, 5, filters=Filters(include_superseded=history, doc_ids=within))
            card = answer_card(kept, question, docs=self.docs, min_similarity=TOPIC_SIMILARITY)
            if card is not None:
                return card
        result = self.retriever.search(query, 5, filters=Filters(include_superseded=history))
        return answer_card(result, question, docs=self.docs)

    def topic(self, doc_id: str) -> frozenset[str]:
        """A document and the others that rest on the same official document or law."""
        doc = self.docs[doc_id]
        source = doc.doc_no or doc.law
        return frozenset(
            d.doc_id for d in self.docs.values() if d.doc_id == doc_id or (source and source in (d.doc_no, d.law))
        )

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
