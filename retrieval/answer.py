"""The answer the bot shows: the passage that holds the asked-for fact, its section, and its sources.

The search ranks documents and, separately, passages across documents. Among the best passages of the top
documents, the one that holds the kind of fact the question asks for (a number, a list, a procedure, who,
a condition; ``data/answer_cues.yml``) is chosen, and its whole section is the answer. A general "what is X"
question gets the document's plain summary. Sources are the document's own and every document number or
law article the section names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml

from retrieval.citations import Citation, DocInfo, cite
from retrieval.searcher import PassageHit, SearchResult
from textnorm import normalize

CUES = Path(__file__).resolve().parent / "data" / "answer_cues.yml"
SECTION_LIMIT = 520  # longer sections are answered by the matching passage alone (a cheap phone's screen)
DOC_PENALTY = (0.0, 0.02, 0.04)  # a passage of the second or third document must beat the first's clearly
COMPILED_ISSUER = "童心守护知识库"  # issuer of the knowledge base's own guides ("童心守护知识库整理")
CUE_BONUS = 0.025  # holding the kind of fact asked for outweighs a small difference in similarity
HEADING_BONUS = 0.06  # a heading naming what is asked ("宣告失踪：下落不明满2年") is the section that answers
# A second section of the same document within this margin is shown too: questions often ask two things.
SECOND_MARGIN = 0.06
SEVERAL_MARGIN = 0.15  # when the question asks for several parts at once
FACT_KINDS = ("time", "amount", "age", "count", "papers")  # a second section must hold these when asked
_DOC_NO = re.compile(r"([\u4e00-\u9fff]{1,6})(〔(?:19|20)\d{2}〕\d+号)")
# Issuing-office prefixes of document numbers ("民发", "国办发"); the characters before them are prose.
_PREFIX = re.compile(r"(?:国办|国|民|财|人社部|教|残联|卫|公|司|中发|中办)?(?:发|函|字|令)$")
_ARTICLE = re.compile(r"第[零一二三四五六七八九十百]+条")
_LAW_ARTICLE = re.compile(
    r"(未成年人保护法|民法典|未保法|社会救助暂行办法)(?:（[^）]*）)?(第[零一二三四五六七八九十百]+条)"
)
LAWS = {
    "未成年人保护法": "中华人民共和国未成年人保护法",
    "未保法": "中华人民共和国未成年人保护法",
    "民法典": "中华人民共和国民法典",
    "社会救助暂行办法": "社会救助暂行办法",  # 国务院令第649号: no document number of the 〔年〕号 form
}
Kind = Literal["passage", "summary"]


@dataclass(frozen=True)
class AnswerCues:
    kinds: dict[str, tuple[tuple[re.Pattern[str], ...], tuple[re.Pattern[str], ...]]]
    bonus: dict[str, float]
    definition: tuple[re.Pattern[str], ...]
    several: tuple[re.Pattern[str], ...] = ()
    compare: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def load(cls, path: Path = CUES) -> AnswerCues:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        kinds = {
            name: (tuple(map(re.compile, spec["asks"])), tuple(re.compile(p, re.MULTILINE) for p in spec["holds"]))
            for name, spec in data["kinds"].items()
        }
        bonus = {name: float(spec.get("bonus", CUE_BONUS)) for name, spec in data["kinds"].items()}
        several = tuple(map(re.compile, data.get("several") or ()))
        compare = tuple(map(re.compile, data.get("compare") or ()))
        return cls(kinds, bonus, tuple(map(re.compile, data["definition"])), several, compare)

    def compares(self, text: str) -> bool:
        return any(p.search(text) for p in self.compare)

    def asks_several(self, question: str) -> bool:
        return any(p.search(question) for p in self.several)

    def asked(self, question: str) -> tuple[str, ...]:
        return tuple(name for name, (asks, _) in self.kinds.items() if any(p.search(question) for p in asks))

    def held(self, kind: str, text: str) -> bool:
        return any(p.search(text) for p in self.kinds[kind][1])

    def is_definition(self, question: str) -> bool:
        return any(p.search(question) for p in self.definition)

    def subject_share(self, question: str, title: str) -> float:
        """The share of the two-character words of what a "what is X" question asks about that the title has."""
        subject = question
        for p in self.definition:
            subject = p.sub("", subject)
        grams = _grams(subject)
        if not grams:
            return 1.0
        return sum(g in normalize(title) for g in grams) / len(grams)


@lru_cache(maxsize=1)
def default_cues() -> AnswerCues:
    return AnswerCues.load()


@dataclass(frozen=True)
class AnswerCard:
    doc_id: str
    title: str
    summary: str
    heading: str
    passage: str
    citation: Citation
    superseded_by: str | None
    confidence: float
    also: tuple[Citation, ...]
    kind: Kind = "passage"

    @property
    def text(self) -> str:
        """What answers the question: the summary for a general question, else the passage."""
        return self.summary if self.kind == "summary" else self.passage

    @property
    def sources(self) -> tuple[Citation, ...]:
        """The answer's own source first, then the others it rests on, each once."""
        seen: dict[tuple[str | None, str], Citation] = {}
        for c in (self.citation, *self.also):
            seen.setdefault((c.doc_no, c.full_title), c)
        return tuple(seen.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "summary": self.summary,
            "heading": self.heading,
            "passage": self.passage,
            "kind": self.kind,
            "citation": self.citation.to_json(),
            "superseded_by": self.superseded_by,
            "confidence": round(self.confidence, 4),
            "also": [c.to_json() for c in self.also],
        }


def rank_passages(
    result: SearchResult, question: str, cues: AnswerCues, depth: int = 3
) -> list[tuple[float, PassageHit]]:
    """The passages of the top ``depth`` documents, best first, with a bonus for holding what the question
    asks and for a heading whose words the question uses."""
    rank = {h.doc.doc_id: i for i, h in enumerate(result.hits[:depth])}
    titles = {h.doc.doc_id: h.doc.title for h in result.hits[:depth]}
    asked = cues.asked(question)
    articles = _ARTICLE.findall(question)
    # The policy words the search added for everyday ones ("找不到工作" → 就业) name headings too.
    asked_words = question + " " + " ".join(result.extra_terms)
    scored: list[tuple[float, PassageHit]] = []
    for hit in result.passages:
        doc_rank = rank.get(hit.chunk.doc_id)
        if doc_rank is None:
            continue
        score = hit.score - DOC_PENALTY[min(doc_rank, len(DOC_PENALTY) - 1)]
        score += sum(cues.bonus[kind] for kind in asked if cues.held(kind, hit.chunk.text))
        # A question naming an article ("第二十三条") is answered by the passage that cites it.
        score += CUE_BONUS * sum(a in hit.section or a in " ".join(hit.chunk.heading) for a in articles)
        score += HEADING_BONUS * heading_overlap(hit, asked_words, titles[hit.chunk.doc_id])
        scored.append((score, hit))
    scored.sort(key=lambda pair: pair[0], reverse=True)
    return scored


def choose_passage(result: SearchResult, question: str, cues: AnswerCues, depth: int = 3) -> PassageHit | None:
    """The best passage of the top ``depth`` documents."""
    ranked = rank_passages(result, question, cues, depth)
    return ranked[0][1] if ranked else None


def heading_overlap(hit: PassageHit, question: str, title: str) -> float:
    """The share of the two-character words of a section's heading that the question uses, leaving out those
    of the document's title ("宣告失踪：下落不明满2年" in a document about guardians; not "康复救助" in one
    about 康复救助, which every question about it uses)."""
    heading = hit.chunk.heading[-1] if hit.chunk.heading else ""
    grams = _grams(heading) - _grams(title)
    if not grams:
        return 0.0
    return sum(g in question for g in grams) / len(grams)


def _grams(text: str) -> set[str]:
    parts = [p for p in re.split(r"[^\u4e00-\u9fff0-9]+", normalize(text)) if p]
    return {p[i : i + 2] for p in parts for i in range(len(p) - 1)}


def named_sources(text: str, docs: dict[str, DocInfo]) -> tuple[Citation, ...]:
    """Document numbers and law articles a passage names, as citations (title from the corpus when known)."""
    by_no = {d.doc_no: d for d in docs.values() if d.doc_no}
    known = {no.split("〔")[0] for no in by_no}
    out: list[Citation] = []
    for no in dict.fromkeys(_doc_numbers(text, known)):
        doc = by_no.get(no)
        out.append(cite(doc) if doc else Citation(doc_id="", doc_no=no, title=no, issuer="", issued=None))
    # A document without a number is named by its title ("按照国务院关于建立残疾儿童康复救助制度的意见").
    for doc in docs.values():
        titled = not doc.doc_no and not doc.law and doc.source_title and doc.source_title in text
        if titled and all(c.doc_id != doc.doc_id for c in out):
            out.append(cite(doc))
    for law, article in dict.fromkeys(_LAW_ARTICLE.findall(text)):
        full = LAWS[law]
        doc = next((d for d in docs.values() if d.law == full), None)
        out.append(
            Citation(
                doc.doc_id if doc else "", None, full, doc.issuer if doc else "", doc.issued if doc else None, article
            )
        )
    return tuple(out)


def _doc_numbers(text: str, known: set[str]) -> list[str]:
    """ "按民发〔2019〕62号" → "民发〔2019〕62号": the longest known prefix, else one that ends like an office's."""
    out = []
    for chars, number in _DOC_NO.findall(text):
        prefix = next((chars[i:] for i in range(len(chars)) if chars[i:] in known), None)
        if prefix is None:
            match = _PREFIX.search(chars)
            prefix = match.group(0) if match and len(match.group(0)) >= 2 else None
        if prefix:
            out.append(prefix + number)
    return out


def answer_card(
    result: SearchResult,
    question: str = "",
    *,
    docs: dict[str, DocInfo] | None = None,
    cues: AnswerCues | None = None,
    related: int = 2,
    min_similarity: float | None = None,
    sections: int = 2,
) -> AnswerCard | None:
    """The card for a search, or None when the result is "not found" (never guess). With ``min_similarity``
    (a search kept to the documents of the conversation's topic), the best passage's similarity decides
    instead of the calibrated confidence, which is made for questions that stand on their own."""
    if not result.hits:
        return None
    if min_similarity is None and not result.found:
        return None
    cues = cues or default_cues()
    q = normalize(question or result.query)
    ranked = rank_passages(result, q, cues)
    # A follow-up kept to its topic is answered when a passage there is close, counting what the question
    # asks for ("周末算不算在里头" and a time limit in working days).
    if min_similarity is not None and (not ranked or ranked[0][0] < min_similarity):
        return None
    top = result.hits[0]
    chosen = ranked[0][1] if ranked else None
    kind: Kind
    # "什么是事实无人抚养儿童" asks about the document's subject (its title): its summary; "宜昌讲的六位一体是
    # 什么意思" about something inside it: the section that says it.
    about_document = cues.is_definition(q) and not cues.asked(q) and cues.subject_share(q, top.doc.title) >= 0.5
    # Two programmes compared, and no section compares them: both summaries side by side.
    if chosen is not None and not about_document and not cues.compares(" ".join(chosen.chunk.heading)):
        compared = _compared(result, q, cues)
        if len(compared) == 2:
            return _comparison_card(*compared, confidence=result.confidence)
    if chosen is None or about_document:
        doc, heading, passage, kind = top.doc, top.chunk.heading, top.chunk.text, "summary"
        if chosen is not None and chosen.chunk.doc_id == top.doc.doc_id:
            heading, passage = chosen.chunk.heading, _shown(chosen)
    else:
        hit = next(h for h in result.hits if h.doc.doc_id == chosen.chunk.doc_id)
        doc, heading, passage, kind = hit.doc, chosen.chunk.heading, _shown(chosen), "passage"
        second = _second_section(ranked, chosen, q, cues) if sections > 1 else None
        if second is not None:
            passage = f"{passage}\n\n{_shown(second)}"
    known = docs or {h.doc.doc_id: h.doc for h in result.hits}
    own = cite(doc, heading)
    named = tuple(
        c
        for c in named_sources(passage if kind == "passage" else doc.summary, known)
        if c.doc_no != own.doc_no or c.article
    )
    # The knowledge base's own guides rest on the documents they name: those are their sources.
    compiled = doc.issuer.startswith(COMPILED_ISSUER) and bool(named)
    # Other documents that scored close to the best one are offered as "see also" sources.
    close = tuple(h.citation for h in result.hits[1 : 1 + related] if h.score >= top.score * 0.8 and h.doc != doc)
    return AnswerCard(
        doc_id=doc.doc_id,
        title=doc.title,
        summary=doc.summary,
        heading=" > ".join(heading),
        passage=passage,
        citation=named[0] if compiled else own,
        superseded_by=doc.superseded_by,
        confidence=result.confidence,
        also=(*(named[1:] if compiled else named), *close),
        kind=kind,
    )


def _subject(title: str) -> str:
    """ "困境儿童：哪些孩子算困境儿童，能得到哪些保障" → "困境儿童"."""
    return re.split(r"[：:（(，,]", title, maxsplit=1)[0]


def _comparison_card(one: DocInfo, other: DocInfo, *, confidence: float) -> AnswerCard:
    return AnswerCard(
        doc_id=one.doc_id,
        title=one.title,
        summary=one.summary,
        heading=f"{_subject(one.title)}和{_subject(other.title)}",
        passage=f"【{_subject(one.title)}】{one.summary}\n\n【{_subject(other.title)}】{other.summary}",
        citation=cite(one),
        superseded_by=None,
        confidence=confidence,
        also=(cite(other),),
    )


def _compared(result: SearchResult, question: str, cues: AnswerCues, depth: int = 5) -> tuple[DocInfo, ...]:
    """The two current documents, among the best ``depth``, whose subjects a question comparing two things
    names ("困境儿童和留守儿童是一回事吗"); empty when it does not compare or does not name two."""
    if not cues.compares(question) or cues.asked(question):
        return ()  # "标准是多少？和孤儿一样吗" asks for a figure: the section holding it answers
    named: list[DocInfo] = []
    for hit in result.hits[:depth]:
        grams = _grams(_subject(hit.doc.title))
        share = sum(g in question for g in grams) / len(grams) if grams else 0.0
        if share >= 0.6 and not hit.doc.superseded_by and hit.doc not in named:
            named.append(hit.doc)
    return tuple(named[:2]) if len(named) >= 2 else ()


def _second_section(
    ranked: list[tuple[float, PassageHit]], chosen: PassageHit, question: str, cues: AnswerCues
) -> PassageHit | None:
    """Another section of the same document that answers nearly as well (a question about two things:
    "乡镇查验和县级民政确认各有多少天"), when both fit on a phone screen together. When the question asks for
    a number, an age, a time or papers, the second section must hold one too."""
    best = ranked[0][0]
    asked = [kind for kind in cues.asked(question) if kind in FACT_KINDS]
    margin = SEVERAL_MARGIN if cues.asks_several(question) else SECOND_MARGIN
    for score, hit in ranked[1:]:
        if score < best - margin:
            return None
        other = hit.chunk.doc_id == chosen.chunk.doc_id and hit.chunk.heading != chosen.chunk.heading
        holds = not asked or any(cues.held(kind, hit.chunk.text) for kind in asked)
        if other and holds and len(_shown(hit)) + len(_shown(chosen)) <= 2 * SECTION_LIMIT:
            return hit
    return None


def _shown(hit: PassageHit) -> str:
    """The whole section when it fits on a phone screen, else the passage itself."""
    return hit.section if len(hit.section) <= SECTION_LIMIT else hit.chunk.text
