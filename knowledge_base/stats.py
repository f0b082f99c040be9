"""Statistics of the evaluation sets, written into ``docs/knowledge_base.md`` (``python -m knowledge_base stats``)."""

from __future__ import annotations

from collections import Counter

from knowledge_base.loader import KnowledgeBase


def eval_statistics(kb: KnowledgeBase) -> str:
    assert kb.eval_set is not None and kb.out_of_scope is not None
    questions = kb.eval_set.questions
    first = Counter(q.expected[0] for q in questions)
    anywhere = Counter(e for q in questions for e in q.expected)
    persona = Counter(q.persona for q in questions)
    script = Counter(q.script for q in questions)
    lengths = sorted(len(q.question) for q in questions)
    lines = [
        f"- Development questions (`eval/questions.yml`): **{len(questions)}**, written independently of the "
        "documents' own `questions`; every key fact is verified to occur verbatim in an expected document "
        "(`python -m knowledge_base validate`).",
        f"- Out-of-scope questions (`eval/out_of_scope.yml`): **{len(kb.out_of_scope.questions)}**.",
        "- By persona: " + ", ".join(f"{k} {v} ({v / len(questions):.0%})" for k, v in persona.most_common()),
        "- By script: " + ", ".join(f"{k} {v}" for k, v in script.most_common()),
        f"- Length in characters: min {lengths[0]}, median {lengths[len(lengths) // 2]}, max {lengths[-1]}",
        "",
        "| document | questions (best answer) | questions (any expected) |",
        "|---|---|---|",
    ]
    for doc in kb.documents:
        lines.append(f"| {doc.meta.id} | {first.get(doc.meta.id, 0)} | {anywhere.get(doc.meta.id, 0)} |")
    return "\n".join(lines)
