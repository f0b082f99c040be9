from __future__ import annotations

import pytest

from retrieval.searcher import Calibration, Filters, Retriever, Signals


def test_a_documents_own_question_finds_it(fake_retriever: Retriever) -> None:
    question = next(
        c.text for c in fake_retriever.index.chunks if c.doc_id == "entrusted_care" and c.kind == "question"
    )
    result = fake_retriever.search(question, top_k=3)
    assert result.hits[0].doc.doc_id == "entrusted_care"
    assert result.hits[0].chunk.doc_id == "entrusted_care" and result.hits[0].chunk.kind == "passage"


def test_hits_are_distinct_documents_best_first(fake_retriever: Retriever) -> None:
    result = fake_retriever.search("事实无人抚养儿童怎么申请", top_k=5)
    ids = [h.doc.doc_id for h in result.hits]
    assert len(ids) == len(set(ids)) == 5
    assert [h.score for h in result.hits] == sorted((h.score for h in result.hits), reverse=True)


def test_superseded_documents_only_answer_when_allowed(fake_retriever: Retriever) -> None:
    query = "2019年原来规定的六种情形"
    default = fake_retriever.search(query, top_k=21)
    assert "de_facto_unsupported_2019_original" not in {h.doc.doc_id for h in default.hits}
    history = fake_retriever.search(query, top_k=21, filters=Filters(include_superseded=True))
    assert "de_facto_unsupported_2019_original" in {h.doc.doc_id for h in history.hits}


def test_scope_and_audience_filters(fake_retriever: Retriever) -> None:
    only_yichang = fake_retriever.search("儿童主任", top_k=5, filters=Filters(scopes=frozenset({"yichang"})))
    assert {h.doc.scope for h in only_yichang.hits} == {"yichang"}
    directors = fake_retriever.search("家访", top_k=21, filters=Filters(audience="parent"))
    assert all("parent" in h.doc.audience for h in directors.hits)


def test_keyword_expansion_maps_colloquial_words(fake_retriever: Retriever) -> None:
    result = fake_retriever.search("娃他爸坐牢了")
    assert "服刑在押" in result.extra_terms


@pytest.mark.parametrize("mode", ["dense", "sparse", "hybrid"])
def test_each_mode_returns_ranked_hits(fake_retriever: Retriever, mode: str) -> None:
    result = fake_retriever.search("孤儿基本生活费怎么申请", top_k=3, mode=mode)  # type: ignore[arg-type]
    assert len(result.hits) == 3


def test_below_threshold_is_not_found(fake_retriever: Retriever) -> None:
    strict = Retriever(
        fake_retriever._root,
        fake_retriever._embedder,
        fake_retriever._tokenizer,
        calibration=Calibration(threshold=1.01),
    )
    strict.warm_up()
    result = strict.search("孤儿")
    assert result.hits and not result.found


def test_calibration_combines_signals() -> None:
    cal = Calibration(bias=0.0, w_cosine=2.0, w_agreement=1.0, w_unknown=-3.0, w_domain=2.0)
    good = Signals(cosine=0.9, agreement=0.9, unknown=0.0, domain=0.9)
    assert (
        cal.confidence(good) > cal.confidence(Signals(0.9, 0.9, 0.8, 0.9)) > cal.confidence(Signals(0.9, 0.9, 0.8, 0.1))
    )
    assert 0.0 < cal.confidence(Signals(-100, 0, 100, 0)) < 1e-6  # no overflow


def test_result_carries_its_signals(fake_retriever: Retriever) -> None:
    result = fake_retriever.search("孤儿基本生活费怎么申请")
    assert result.signals is not None and 0.0 <= result.signals.unknown <= 1.0
    nonsense = fake_retriever.search("qzxv wplk")
    assert nonsense.signals is not None and nonsense.signals.unknown == 1.0


def test_naming_a_hotline_or_document_is_answered(fake_retriever: Retriever) -> None:
    strict = Retriever(
        fake_retriever._root,
        fake_retriever._embedder,
        fake_retriever._tokenizer,
        calibration=Calibration(threshold=1.01),
    )
    strict.warm_up()
    result = strict.search("12355")
    assert result.found and result.hits[0].doc.doc_id == "hotlines"


def test_search_before_warm_up_is_an_error(hash_index: object) -> None:
    from retrieval.testing import HashEmbedder

    with pytest.raises(RuntimeError, match="warm_up"):
        Retriever(hash_index, HashEmbedder(), str.split).search("x")  # type: ignore[arg-type]
