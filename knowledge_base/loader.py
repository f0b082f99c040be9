"""Read and cross-check the knowledge base files; every problem is reported with its file."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from knowledge_base.schema import (
    EvalSet,
    OutOfScopeSet,
    PolicyDocument,
    PolicyMeta,
    Referral,
    ReferralDirectory,
)

M = TypeVar("M", bound=BaseModel)
_HEADING = re.compile(r"^#{2,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


class KnowledgeBaseError(ValueError):
    """The knowledge base has problems; ``problems`` lists each one as ``path: message``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class KnowledgeBase:
    root: Path
    documents: tuple[PolicyDocument, ...]
    referrals: tuple[Referral, ...]
    eval_set: EvalSet | None = None
    out_of_scope: OutOfScopeSet | None = None
    by_id: dict[str, PolicyDocument] = field(default_factory=dict, compare=False, repr=False)

    def document(self, doc_id: str) -> PolicyDocument:
        return self.by_id[doc_id]


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Split ``---\\n<yaml>\\n---\\n<body>`` into the parsed YAML mapping and the body."""
    if not text.startswith("---\n"):
        raise ValueError("the file must start with a '---' line (YAML front matter)")
    end = text.find("\n---\n", 4)
    if end < 0:
        raise ValueError("the front matter is not closed by a '---' line")
    meta = yaml.safe_load(text[4:end])
    if not isinstance(meta, dict):
        raise ValueError("the front matter must be a YAML mapping")
    return meta, text[end + 5 :].strip()


def _format_validation(path: Path, exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(file)"
        out.append(f"{path}: {where}: {err['msg']}")
    return out


def _load_yaml_model(path: Path, model: type[M], problems: list[str]) -> M | None:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return model.model_validate(data)
    except OSError as exc:
        problems.append(f"{path}: cannot be read: {exc.strerror}")
    except yaml.YAMLError as exc:
        problems.append(f"{path}: not valid YAML: {exc}")
    except ValidationError as exc:
        problems.extend(_format_validation(path, exc))
    return None


def _check_rulebook(folder: Path, problems: list[str]) -> None:
    from knowledge_base.eligibility import load_rulebook

    try:
        load_rulebook(folder)
    except ValidationError as exc:
        problems.extend(_format_validation(folder, exc))
    except (ValueError, OSError, yaml.YAMLError) as exc:
        problems.append(str(exc))


def load_document(path: Path) -> PolicyDocument:
    meta, body = split_front_matter(path.read_text(encoding="utf-8"))
    return PolicyDocument(meta=PolicyMeta.model_validate(meta), body=body, path=str(path))


def load_documents(policies_dir: Path, problems: list[str]) -> list[PolicyDocument]:
    docs: list[PolicyDocument] = []
    for path in sorted(policies_dir.glob("*.md")):
        try:
            docs.append(load_document(path))
        except ValidationError as exc:
            problems.extend(_format_validation(path, exc))
        except (ValueError, yaml.YAMLError) as exc:
            problems.append(f"{path}: {exc}")
    if not docs and not problems:
        problems.append(f"{policies_dir}: no policy documents (*.md)")
    return docs


def _cross_check(kb: KnowledgeBase, problems: list[str]) -> None:
    ids = Counter(d.meta.id for d in kb.documents)
    problems.extend(f"document id {i!r} is used {n} times" for i, n in ids.items() if n > 1)
    for doc in kb.documents:
        headings = {m.group(1).strip() for m in _HEADING.finditer(doc.body)}
        for heading in doc.meta.section_questions:
            if heading not in headings:
                problems.append(f"{doc.path}: section_questions: no section headed {heading!r}")
        for ref in (*doc.meta.related, *filter(None, [doc.meta.superseded_by])):
            if ref not in kb.by_id:
                problems.append(f"{doc.path}: refers to unknown document {ref!r}")
        if doc.meta.superseded_by and not kb.by_id.get(doc.meta.superseded_by, doc).meta.answerable:
            problems.append(f"{doc.path}: superseded_by points to a document that is itself superseded")
    if kb.documents and not any(d.meta.answerable for d in kb.documents):
        problems.append("no answerable (current or amended) document")
    ref_ids = Counter(r.id for r in kb.referrals)
    problems.extend(f"referral id {i!r} is used {n} times" for i, n in ref_ids.items() if n > 1)
    if kb.eval_set is not None:
        _check_eval(kb, problems)


def _check_eval(kb: KnowledgeBase, problems: list[str]) -> None:
    from textnorm import normalize  # the same normalisation retrieval applies

    assert kb.eval_set is not None
    where = kb.root / "eval" / "questions.yml"
    qids = Counter(q.id for q in kb.eval_set.questions)
    problems.extend(f"{where}: question id {i!r} is used {n} times" for i, n in qids.items() if n > 1)
    covered: set[str] = set()
    texts = {d.meta.id: normalize(f"{d.meta.title}\n{d.meta.summary}\n{d.body}") for d in kb.documents}
    for q in kb.eval_set.questions:
        unknown = [e for e in q.expected if e not in kb.by_id]
        if unknown:
            problems.append(f"{where}: {q.id}: unknown expected document(s) {unknown}")
            continue
        covered.update(q.expected)
        for fact in q.key_facts:
            if not any(normalize(fact) in texts[e] for e in q.expected):
                problems.append(f"{where}: {q.id}: key fact {fact!r} is not in any expected document")
    missing = sorted(set(kb.by_id) - covered)
    if missing:
        problems.append(f"{where}: documents without any evaluation question: {missing}")


def load_knowledge_base(root: Path, *, with_eval: bool = False) -> KnowledgeBase:
    """Load and validate everything under ``root``; raise :class:`KnowledgeBaseError` on any problem."""
    problems: list[str] = []
    docs = load_documents(root / "policies", problems)
    directory = _load_yaml_model(root / "referrals.yml", ReferralDirectory, problems)
    _check_rulebook(root / "eligibility", problems)
    eval_set = out_of_scope = None
    if with_eval:
        eval_set = _load_yaml_model(root / "eval" / "questions.yml", EvalSet, problems)
        out_of_scope = _load_yaml_model(root / "eval" / "out_of_scope.yml", OutOfScopeSet, problems)
    kb = KnowledgeBase(
        root=root,
        documents=tuple(docs),
        referrals=directory.entries if directory else (),
        eval_set=eval_set,
        out_of_scope=out_of_scope,
        by_id={d.meta.id: d for d in docs},
    )
    _cross_check(kb, problems)
    if with_eval:  # the full validation also checks the fact table's claims against the corpus
        from knowledge_base.claims import check_claims, load_claims

        claims_dir = root / "claims"
        problems += check_claims(load_claims(claims_dir, problems), kb.documents, claims_dir)
    if problems:
        raise KnowledgeBaseError(problems)
    return kb
