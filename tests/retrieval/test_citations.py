from __future__ import annotations

import pytest

from retrieval.citations import DocInfo, articles_label, chinese_number, cite


@pytest.mark.parametrize(
    ("n", "zh"),
    [
        (1, "一"),
        (10, "十"),
        (11, "十一"),
        (21, "二十一"),
        (58, "五十八"),
        (92, "九十二"),
        (100, "一百"),
        (105, "一百零五"),
        (130, "一百三十"),
    ],
)
def test_chinese_numbers(n: int, zh: str) -> None:
    assert chinese_number(n) == zh


def test_articles_label() -> None:
    assert articles_label((21, 22, 23)) == "第二十一、二十二、二十三条"
    assert articles_label(()) == ""


def doc(**kw: object) -> DocInfo:
    base: dict[str, object] = dict(
        doc_id="d",
        title="事实无人抚养儿童：哪些孩子算",
        source_title="关于进一步加强事实无人抚养儿童保障工作的意见",
        doc_no="民发〔2019〕62号",
        law=None,
        articles=(),
        issuer="民政部等12部门",
        issued="2019-06",
        effective=None,
        status="amended",
        amended_by=("民发〔2020〕125号",),
        superseded_by=None,
        scope="national",
        audience=("parent",),
        summary="摘要。",
    )
    base.update(kw)
    return DocInfo(**base)  # type: ignore[arg-type]


def test_policy_document_citation_uses_official_title_and_number() -> None:
    c = cite(doc())
    assert c.doc_no == "民发〔2019〕62号"
    assert c.title == "关于进一步加强事实无人抚养儿童保障工作的意见"
    assert c.label == "《关于进一步加强事实无人抚养儿童保障工作的意见》（民发〔2019〕62号）"


def test_law_citation_names_the_article_of_the_passage() -> None:
    law = doc(doc_no=None, law="中华人民共和国未成年人保护法", articles=(21, 22, 23), source_title=None)
    named = cite(law, ("第二十二条：委托照护",))
    assert named.to_json()["title"] == "中华人民共和国未成年人保护法第二十二条"
    assert named.label == "《中华人民共和国未成年人保护法》第二十二条"
    assert cite(law, ("父母外出前的准备",)).label == "《中华人民共和国未成年人保护法》第二十一、二十二、二十三条"
    assert cite(law).doc_no is None


def test_without_official_title_the_topical_title_is_used() -> None:
    assert cite(doc(source_title=None, doc_no=None)).label == "《事实无人抚养儿童：哪些孩子算》"
