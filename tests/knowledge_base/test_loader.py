from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge_base.__main__ import main
from knowledge_base.loader import KnowledgeBaseError, load_knowledge_base, split_front_matter


def test_the_real_knowledge_base_is_valid(kb_root: Path) -> None:
    kb = load_knowledge_base(kb_root, with_eval=True)
    assert len(kb.documents) >= 17
    assert kb.eval_set is not None and len(kb.eval_set.questions) >= 150
    assert kb.out_of_scope is not None and len(kb.out_of_scope.questions) >= 20
    ids = {d.meta.id for d in kb.documents}
    assert {"left_behind_children", "de_facto_unsupported_definition", "entrusted_care", "mandatory_reporting"} <= ids


def test_every_document_has_questions_and_summary(kb_root: Path) -> None:
    for doc in load_knowledge_base(kb_root).documents:
        assert 6 <= len(doc.meta.questions) <= 10, doc.path
        assert doc.meta.summary.strip(), doc.path


def test_no_unverified_number_appears_as_contact(kb_root: Path) -> None:
    kb = load_knowledge_base(kb_root)
    shown = {r.public_contact() for r in kb.referrals} - {None}
    assert shown == {"110", "120", "12355", "12345", "12338"}
    local = [r for r in kb.referrals if r.scope == "yichang"]
    assert local and all(r.public_contact() is None and r.phone is None for r in local)


def test_split_front_matter_requires_delimiters() -> None:
    with pytest.raises(ValueError, match="start with"):
        split_front_matter("id: x\n")
    with pytest.raises(ValueError, match="not closed"):
        split_front_matter("---\nid: x\n")
    meta, body = split_front_matter("---\nid: x\n---\n正文")
    assert meta == {"id": "x"} and body == "正文"


@pytest.fixture
def broken_kb(tmp_path: Path, kb_root: Path) -> Path:
    root = tmp_path / "kb"
    shutil.copytree(kb_root, root, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return root


def test_broken_document_fails_with_file_and_field(broken_kb: Path) -> None:
    doc = broken_kb / "policies" / "entrusted_care.md"
    doc.write_text(doc.read_text(encoding="utf-8").replace("scope: national", "scope: planet"), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as err:
        load_knowledge_base(broken_kb)
    assert any("entrusted_care.md" in p and "scope" in p for p in err.value.problems)


def test_dangling_reference_and_duplicate_id_are_reported(broken_kb: Path) -> None:
    src = broken_kb / "policies" / "orphans.md"
    text = src.read_text(encoding="utf-8")
    (broken_kb / "policies" / "orphans_copy.md").write_text(text, encoding="utf-8")
    src.write_text(text.replace("related: [", "related: [no_such_doc, ", 1), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as err:
        load_knowledge_base(broken_kb)
    problems = "\n".join(err.value.problems)
    assert "no_such_doc" in problems and "'orphans' is used 2 times" in problems


def test_unverified_phone_in_directory_fails(broken_kb: Path) -> None:
    path = broken_kb / "referrals.yml"
    head, entry = path.read_text(encoding="utf-8").split("- id: yichang_children_welfare_home", 1)
    assert "address: null" in entry
    entry = entry.replace("address: null", "address: 宜昌市某路1号", 1)
    path.write_text(head + "- id: yichang_children_welfare_home" + entry, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="unverified entry must not carry"):
        load_knowledge_base(broken_kb)


def test_eval_key_fact_must_appear_in_expected_document(broken_kb: Path) -> None:
    path = broken_kb / "eval" / "questions.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("key_facts: [", 'key_facts: ["每月发放888元", ', 1), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="888"):
        load_knowledge_base(broken_kb, with_eval=True)


def test_cli_validate_exit_codes(broken_kb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--root", str(broken_kb), "--json"]) == 0
    assert '"ok": true' in capsys.readouterr().out
    (broken_kb / "policies" / "hotlines.md").write_text("no front matter", encoding="utf-8")
    assert main(["validate", "--root", str(broken_kb)]) == 1
    err = capsys.readouterr().err
    assert "INVALID" in err and "hotlines.md" in err and "front matter" in err


def test_broken_eligibility_rule_is_reported(broken_kb: Path) -> None:
    path = broken_kb / "eligibility" / "orphan.yml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "{both_parents: dead_or_declared_missing}", "{both_parents: dead_or_gone}"
        ),
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeBaseError, match=r"orphan\.yml.*unknown parent set 'dead_or_gone'"):
        load_knowledge_base(broken_kb)


def test_eligibility_rule_with_unknown_fact_value_is_reported(broken_kb: Path) -> None:
    path = broken_kb / "eligibility" / "left_behind.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("{hukou: urban}", "{hukou: city}"), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="'city' is not a value of hukou"):
        load_knowledge_base(broken_kb)
