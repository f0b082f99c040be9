from __future__ import annotations

from pathlib import Path

from knowledge_base.claims import Claim, check_claims, fact_table, load_claims, numbers
from knowledge_base.loader import load_document, load_knowledge_base

DOC = """---
id: sample_doc
title: 样例
source_title: null
doc_no: 国发〔2016〕13号
issuer: 国务院
issued: "2016-02"
status: current
scope: national
audience: [parent]
topics: [left_behind]
questions: [问一, 问二, 问三, 问四, 问五, 问六]
summary: 不满16周岁的孩子，乡镇在15个工作日内办结。
---

## 一节

2016年印发。不满16周岁的孩子不能单独生活；乡镇在15个工作日内办结；共有１６５４名儿童主任。
"""


def claim(**overrides: object) -> Claim:
    data = {
        "id": "age",
        "claim": "不满16周岁不能单独生活",
        "values": ["16周岁"],
        "source": "国发〔2016〕13号",
        "docs": ["sample_doc"],
    }
    return Claim.model_validate({**data, **overrides})


def test_numbers_with_units_are_facts_and_years_are_dates() -> None:
    assert numbers("2016年印发，不满16周岁，15个工作日，377万余元，3年") == {"16周岁", "15个工作日", "377万余元", "3年"}


def test_every_number_in_a_document_needs_a_claim(tmp_path: Path) -> None:
    path = tmp_path / "sample_doc.md"
    path.write_text(DOC, encoding="utf-8")
    doc = load_document(path)
    problems = check_claims([claim()], (doc,), tmp_path)
    assert sorted(p.split("states ")[1].split(" ")[0] for p in problems) == ["'15个工作日'", "'1654名'"]
    complete = [
        claim(),
        claim(id="days", claim="乡镇15个工作日内办结", values=["15个工作日"]),
        claim(id="directors", claim="儿童主任人数", values=["1654名"], source="宜昌市民政局文章"),
    ]
    assert check_claims(complete, (doc,), tmp_path) == []


def test_a_value_must_occur_in_each_document_it_names(tmp_path: Path) -> None:
    path = tmp_path / "sample_doc.md"
    path.write_text(DOC, encoding="utf-8")
    problems = check_claims([claim(values=["18周岁"])], (load_document(path),), tmp_path)
    assert any("'18周岁' does not occur in sample_doc" in p for p in problems)


def test_the_corpus_claims_hold_and_make_a_table(kb_root: Path) -> None:
    kb = load_knowledge_base(kb_root)
    problems: list[str] = []
    claims = load_claims(kb_root / "claims", problems)
    assert problems == [] and check_claims(claims, kb.documents, kb_root / "claims") == []
    table = fact_table(claims)
    assert "| 农村留守儿童是" in table and "国发〔2016〕13号" in table
