"""Retrieval evaluation on ``knowledge_base/eval``: hit@k and MRR per mode, "not found" rates, calibration."""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from knowledge_base.loader import load_knowledge_base
from retrieval.searcher import Calibration, Mode, Retriever, SearchResult, Signals
from retrieval.settings import RetrievalSettings
from tools.docs import BENCHMARKS, replace_section


@dataclass(frozen=True)
class ModeScores:
    mode: str
    questions: int
    hit1: float
    hit3: float
    hit5: float
    mrr: float


def rank_of(result: SearchResult, expected: tuple[str, ...]) -> int | None:
    for i, hit in enumerate(result.hits, 1):
        if hit.doc.doc_id in expected:
            return i
    return None


def score_mode(retriever: Retriever, questions: list[tuple[str, tuple[str, ...]]], mode: Mode) -> ModeScores:
    ranks = [rank_of(retriever.search(q, 5, mode=mode), exp) for q, exp in questions]
    n = len(ranks)

    def hit(k: int) -> float:
        return sum(1 for r in ranks if r is not None and r <= k) / n

    return ModeScores(mode, n, hit(1), hit(3), hit(5), sum(1 / r for r in ranks if r) / n)


def features(retriever: Retriever, question: str) -> tuple[float, ...]:
    result = retriever.search(question, 5)
    return result.signals.as_tuple() if result.signals else (0.0, 0.0, 1.0, 0.0)


def fit_logistic(x: np.ndarray, y: np.ndarray, steps: int = 20_000, lr: float = 0.5) -> np.ndarray:
    """Plain gradient descent on the log-loss with a little L2; returns (bias, w_1, …, w_n)."""
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mean) / std
    w = np.zeros(z.shape[1] + 1)
    design = np.hstack([np.ones((len(z), 1)), z])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-design @ w))
        grad = design.T @ (p - y) / len(y) + 1e-3 * np.r_[0, w[1:]]
        w -= lr * grad
    # Undo the standardisation so the weights apply to raw features.
    raw = w[1:] / std
    out: np.ndarray = np.r_[w[0] - float((w[1:] * mean / std).sum()), raw]
    return out


def _calibration(weights: np.ndarray, threshold: float = 0.5) -> Calibration:
    bias, w_cos, w_agr, w_unk, w_dom = (float(v) for v in weights)
    return Calibration(bias, w_cos, w_agr, w_unk, w_dom, threshold)


def _confidences(cal: Calibration, x: np.ndarray) -> np.ndarray:
    return np.array([cal.confidence(Signals(*row)) for row in x])


def answered_rates(cal: Calibration, pos: np.ndarray, neg: np.ndarray) -> tuple[float, float]:
    def conf(x: np.ndarray) -> np.ndarray:
        return _confidences(cal, x)

    return float((conf(pos) >= cal.threshold).mean()), float((conf(neg) < cal.threshold).mean())


def choose_threshold(cal: Calibration, pos: np.ndarray, neg: np.ndarray, min_answered: float) -> float:
    """The highest threshold that still answers ``min_answered`` of in-scope questions."""
    confidences = sorted(_confidences(cal, pos))
    index = max(0, math.floor(len(confidences) * (1 - min_answered)) - 1)
    return float(confidences[index]) - 1e-6 if confidences else cal.threshold


def calibrate(retriever: Retriever, settings: RetrievalSettings, min_answered: float = 0.955) -> dict[str, Any]:
    kb = load_knowledge_base(settings.kb_dir, with_eval=True)
    assert kb.eval_set is not None and kb.out_of_scope is not None
    pos = np.array([features(retriever, q.question) for q in kb.eval_set.questions])
    neg = np.array([features(retriever, q.question) for q in kb.out_of_scope.questions])
    x = np.vstack([pos, neg])
    y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    cal = _calibration(fit_logistic(x, y))
    cal = replace(cal, threshold=choose_threshold(cal, pos, neg, min_answered))
    answered, rejected = answered_rates(cal, pos, neg)
    # The explicit-reference rule answers some questions whatever the confidence: count them as answered.
    cv = _cross_validated(pos, neg, min_answered)
    return {
        "calibration": asdict(cal),
        "in_scope_answered": answered,
        "out_of_scope_not_found": rejected,
        "cross_validated": cv,
        "in_scope_questions": len(pos),
        "out_of_scope_questions": len(neg),
    }


def _cross_validated(pos: np.ndarray, neg: np.ndarray, min_answered: float, folds: int = 5) -> dict[str, float]:
    """Rates on held-out folds: what to expect on questions the calibration never saw."""
    rng = np.random.default_rng(7)
    pos_idx, neg_idx = rng.permutation(len(pos)), rng.permutation(len(neg))
    answered, rejected = [], []
    for f in range(folds):
        p_test, n_test = pos_idx[f::folds], neg_idx[f::folds]
        p_train, n_train = np.setdiff1d(pos_idx, p_test), np.setdiff1d(neg_idx, n_test)
        x = np.vstack([pos[p_train], neg[n_train]])
        y = np.r_[np.ones(len(p_train)), np.zeros(len(n_train))]
        cal = _calibration(fit_logistic(x, y, steps=5_000))
        cal = replace(cal, threshold=choose_threshold(cal, pos[p_train], neg[n_train], min_answered))
        a, r = answered_rates(cal, pos[p_test], neg[n_test])
        answered.append(a)
        rejected.append(r)
    return {"in_scope_answered": float(np.mean(answered)), "out_of_scope_not_found": float(np.mean(rejected))}


def evaluate(retriever: Retriever, settings: RetrievalSettings) -> dict[str, Any]:
    kb = load_knowledge_base(settings.kb_dir, with_eval=True)
    assert kb.eval_set is not None and kb.out_of_scope is not None
    questions = [(q.question, q.expected) for q in kb.eval_set.questions]
    modes = [asdict(score_mode(retriever, questions, m)) for m in ("dense", "sparse", "hybrid")]
    in_scope = [retriever.search(q, 5) for q, _ in questions]
    oos = [retriever.search(q.question, 5) for q in kb.out_of_scope.questions]
    by_persona: dict[str, list[int | None]] = {}
    for q, result in zip(kb.eval_set.questions, in_scope, strict=True):
        by_persona.setdefault(q.persona, []).append(rank_of(result, q.expected))
    persona_hit3 = {p: sum(1 for r in rs if r and r <= 3) / len(rs) for p, rs in sorted(by_persona.items())}
    misses = [
        {"id": q.id, "question": q.question, "expected": list(q.expected), "got": [h.doc.doc_id for h in r.hits[:3]]}
        for q, r in zip(kb.eval_set.questions, in_scope, strict=True)
        if (rank_of(r, q.expected) or 99) > 1
    ]
    return {
        "modes": modes,
        "in_scope_answered": sum(r.found for r in in_scope) / len(in_scope),
        "out_of_scope_not_found": sum(not r.found for r in oos) / len(oos),
        "in_scope_questions": len(in_scope),
        "out_of_scope_questions": len(oos),
        "persona_hit3": persona_hit3,
        "misses_at_1": misses,
    }


def eval_markdown(report: dict[str, Any]) -> str:
    names = {
        "dense": "dense only (m3e-small + FAISS)",
        "sparse": "BM25 only (jieba + synonyms)",
        "hybrid": "hybrid (RRF of both + question variants)",
    }
    lines = [
        f"Development evaluation set: {report['in_scope_questions']} questions "
        f"(`knowledge_base/eval/questions.yml`), hit@k = an expected document among the top k.",
        "",
        "| retriever | hit@1 | hit@3 | hit@5 | MRR |",
        "|---|---|---|---|---|",
    ]
    for m in report["modes"]:
        lines.append(f"| {names[m['mode']]} | {m['hit1']:.3f} | {m['hit3']:.3f} | {m['hit5']:.3f} | {m['mrr']:.3f} |")
    lines += [
        "",
        f"- In-scope questions answered (confidence above the threshold): **{report['in_scope_answered']:.1%}**",
        f"- Out-of-scope questions (`eval/out_of_scope.yml`, {report['out_of_scope_questions']}) answered "
        f'"not found": **{report["out_of_scope_not_found"]:.1%}**',
        "- hybrid hit@3 by persona: " + ", ".join(f"{p} {v:.3f}" for p, v in report["persona_hit3"].items()),
    ]
    return "\n".join(lines)


def run_eval(settings: RetrievalSettings, retriever: Retriever, args: argparse.Namespace) -> int:
    report = evaluate(retriever, settings)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        print(eval_markdown(report))
        print(f"\n{len(report['misses_at_1'])} questions not answered by the right document at rank 1:")
        for miss in report["misses_at_1"]:
            print(f"  {miss['id']} {miss['question']}  expected {miss['expected']} got {miss['got']}")
    if args.write:
        replace_section(
            BENCHMARKS,
            "retrieval-eval",
            "## Retrieval quality\n\n"
            + eval_markdown(report)
            + "\n\nCommand: `.venv/bin/python -m retrieval eval --write`",
        )
    return 0


def run_calibrate(settings: RetrievalSettings, retriever: Retriever, args: argparse.Namespace) -> int:
    result = calibrate(retriever, settings)
    settings.calibration_file.write_text(json.dumps(result, indent=1) + "\n")
    print(
        json.dumps(result, indent=1)
        if args.json
        else f"calibration written to {settings.calibration_file}: answered {result['in_scope_answered']:.1%} "
        f"in scope, not found {result['out_of_scope_not_found']:.1%} out of scope "
        f"(5-fold held out: {result['cross_validated']['in_scope_answered']:.1%} / "
        f"{result['cross_validated']['out_of_scope_not_found']:.1%})"
    )
    return 0
