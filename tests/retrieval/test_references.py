from __future__ import annotations

import pytest

from retrieval.citations import DocInfo
from retrieval.references import parse_number, referenced_documents


@pytest.mark.parametrize(
    ("text", "n"),
    [("23", 23), ("二十三", 23), ("十一", 11), ("九十四", 94), ("一百零五", 105), ("两", 2), ("abc", None)],
)
def test_parse_number(text: str, n: int | None) -> None:
    assert parse_number(text) == n


def info(doc_id: str, **kw: object) -> DocInfo:
    base: dict[str, object] = dict(
        doc_id=doc_id,
        title=doc_id,
        source_title=None,
        doc_no=None,
        law=None,
        articles=(),
        issuer="x",
        issued=None,
        effective=None,
        status="current",
        amended_by=(),
        superseded_by=None,
        scope="national",
        audience=("parent",),
        summary="s",
    )
    base.update(kw)
    return DocInfo(**base)  # type: ignore[arg-type]


DOCS = [
    info("left_behind", doc_no="国发〔2016〕13号"),
    info("de_facto", doc_no="民发〔2019〕62号", amended_by=("民发〔2020〕125号",)),
    info("entrusted", law="中华人民共和国未成年人保护法", articles=(21, 22, 23)),
    info("civil", law="中华人民共和国民法典", articles=(34, 36)),
    info("hotlines", title="求助电话：110、12355各管什么"),
]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("62号文规定了哪些情形", ["de_facto"]),
        ("民发〔2019〕62号", ["de_facto"]),
        ("125号文加了哪两种", ["de_facto"]),
        ("13号文里的强制报告", ["left_behind"]),
        ("2018年13号", []),  # the year must match when given
        ("未保法第22条怎么说", ["entrusted"]),
        ("未成年人保护法第二十三条", ["entrusted"]),
        ("民法典36条 撤销监护", ["civil"]),
        ("民法典第九十二条", []),
        ("12355是干啥的", ["hotlines"]),
        ("孩子几岁能单独在家", []),
    ],
)
def test_references(question: str, expected: list[str]) -> None:
    assert referenced_documents(question, DOCS) == expected
