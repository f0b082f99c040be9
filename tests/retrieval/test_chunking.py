from __future__ import annotations

from retrieval.chunking import chunk_document, chunk_id, sections, split_sentences, variant_chunks

BODY = (
    """## 什么是留守儿童

留守儿童不满十六周岁。"""
    + "这一句用来凑长度，让一个小节超过最大长度，从而被切成几块。" * 18
    + """

### 年龄怎么算

按周岁算。

## 家庭的责任

父母要保持联系！不得让孩子独居；要委托有能力的成年人？
"""
)


def test_sections_keep_heading_paths() -> None:
    paths = [h for h, _ in sections(BODY)]
    assert paths == [("什么是留守儿童",), ("什么是留守儿童", "年龄怎么算"), ("家庭的责任",)]


def test_sentences_end_at_chinese_stops() -> None:
    assert split_sentences("父母要保持联系！不得让孩子独居；要委托有能力的成年人？", 400) == [
        "父母要保持联系！",
        "不得让孩子独居；",
        "要委托有能力的成年人？",
    ]


def test_over_long_sentence_is_cut_at_a_comma() -> None:
    sentence = "，".join(["这是一段没有句号的很长的话"] * 40) + "。"
    parts = split_sentences(sentence, 100)
    assert all(len(p) <= 100 for p in parts) and "".join(parts) == sentence


def test_chunks_stay_within_size_and_never_cross_headings() -> None:
    chunks = chunk_document("doc", BODY, min_chars=150, max_chars=400)
    long_section = [c for c in chunks if c.heading == ("什么是留守儿童",)]
    assert len(long_section) >= 2
    assert all(len(c.text) <= 400 * 5 // 4 for c in chunks)
    assert all(len(c.text) >= 150 for c in long_section[:-1])
    assert [c.heading for c in chunks if "按周岁算" in c.text] == [("什么是留守儿童", "年龄怎么算")]


def test_consecutive_chunks_overlap_by_a_sentence() -> None:
    chunks = [c for c in chunk_document("doc", BODY) if c.heading == ("什么是留守儿童",)]
    last_sentence = split_sentences(chunks[0].text, 400)[-1]
    assert chunks[1].text.startswith(last_sentence)


def test_ids_are_deterministic_and_content_addressed() -> None:
    first = chunk_document("doc", BODY)
    assert [c.id for c in first] == [c.id for c in chunk_document("doc", BODY)]
    changed = chunk_document("doc", BODY.replace("按周岁算。", "按实际周岁计算。"))
    assert {c.id for c in first} ^ {c.id for c in changed} != set()
    assert [c.id for c in first][:2] == [c.id for c in changed][:2]  # untouched sections keep their ids
    assert chunk_id("a", "passage", ("h",), "t") != chunk_id("b", "passage", ("h",), "t")


def test_variants_point_to_their_document() -> None:
    units = variant_chunks("doc", ("问一", "问二"), "摘要")
    assert [u.kind for u in units] == ["summary", "question", "question"]
    assert {u.doc_id for u in units} == {"doc"}
