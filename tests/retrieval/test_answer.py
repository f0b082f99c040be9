"""How retrieval/answer.py picks what answers a question, on hand-made search results over the real documents."""

from __future__ import annotations

from knowledge_base.loader import KnowledgeBase
from retrieval.answer import answer_card
from retrieval.chunking import Chunk
from retrieval.corpus import doc_info
from retrieval.searcher import DocHit, PassageHit, SearchResult


def _result(kb: KnowledgeBase, question: str, sections: list[tuple[str, str, str, float]]) -> SearchResult:
    """``sections``: (doc_id, heading, text, score), best first; documents ranked by their best section."""
    hits: dict[str, DocHit] = {}
    passages = []
    for i, (doc_id, heading, text, score) in enumerate(sections):
        chunk = Chunk(f"c{i}", doc_id, "passage", (heading,), text)
        passages.append(PassageHit(chunk, score, score, text))
        hits.setdefault(doc_id, DocHit(doc_info(kb.document(doc_id)), chunk, score / 20, score, ("dense_passage",)))
    return SearchResult(question, tuple(hits.values()), 0.99, True, passages=tuple(passages))


def test_a_question_comparing_two_programmes_gets_both_summaries_with_both_sources(kb: KnowledgeBase) -> None:
    result = _result(
        kb,
        "困境儿童和留守儿童是一回事吗",
        [
            ("left_behind_children", "留守儿童有没有补贴", "没有专门的生活补贴。", 0.91),
            ("children_in_difficulty", "哪些孩子算困境儿童", "家里穷、自身残疾……", 0.89),
        ],
    )
    card = answer_card(result, "困境儿童和留守儿童是一回事吗")
    assert card is not None
    assert kb.document("left_behind_children").meta.summary in card.passage
    assert kb.document("children_in_difficulty").meta.summary in card.passage
    assert {c.doc_no for c in card.sources} >= {"国发〔2016〕13号", "国发〔2016〕36号"}


def test_a_section_that_already_compares_them_is_kept(kb: KnowledgeBase) -> None:
    result = _result(
        kb,
        "孤儿和事实无人抚养儿童有什么不同",
        [
            ("orphans", "孤儿和事实无人抚养儿童有什么不同", "孤儿是父母都不在了……", 0.93),
            ("de_facto_unsupported_definition", "哪些孩子算事实无人抚养儿童", "父母双方……", 0.90),
        ],
    )
    card = answer_card(result, "孤儿和事实无人抚养儿童有什么不同")
    assert card is not None and card.passage == "孤儿是父母都不在了……"


def test_a_question_why_an_application_was_refused_gets_the_section_on_refusals(kb: KnowledgeBase) -> None:
    question = "给伢申请了事实无人抚养 说是冇批 也冇得人说为么子"
    result = _result(
        kb,
        question,
        [
            ("de_facto_unsupported_definition", "年龄：未满18周岁", "未满18周岁的孩子……", 0.930),
            ("de_facto_unsupported_application", "不公示；不批准的", "不符合条件的，书面说明理由。", 0.928),
        ],
    )
    card = answer_card(result, question)
    assert card is not None and "书面说明理由" in card.passage


def test_a_follow_up_about_weekends_is_answered_by_the_time_limit_in_working_days(kb: KnowledgeBase) -> None:
    question = "周末算不算在里头"
    result = _result(
        kb,
        question,
        [
            ("guide_helping_family_apply", "第二步：几个关键条件", "重残、重病……6个月以上。", 0.73),
            ("guide_helping_family_apply", "第九步：跟进结果", "按15＋15个工作日的时限跟进。", 0.68),
        ],
    )
    # Kept to the last answer's topic, the passage holding what is asked counts as close enough.
    card = answer_card(result, question, min_similarity=0.75)
    assert card is not None and "工作日" in card.passage
