"""``python -m tools.crisis_train``: fit the crisis model and measure the whole screen by cross-validation.

Positives: the development banks' danger messages (``tests/safety/danger_bank.yml``, and the spent held-out
banks ``held_out_v2_bank.yml`` and ``held_out_v3_bank.yml`` since their first runs were recorded: a spent
held-out bank becomes development data)
and the NLU's ``report_danger`` examples. Negatives: the banks' near-misses and everyday questions the
assistant gets (the NLU's other intents, retrieval's in-domain and off-topic training questions, the
questions the policy documents answer). The held-out bank (``held_out_v4_bank.yml``) and the evaluation sets
are never read here.

    python -m tools.crisis_train --cv 5 --write    # 5-fold figures into docs/benchmarks.md, then the final fit
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from channels.safety.context import ContextRules
from channels.safety.crisis import CrisisScreen, normalise
from channels.safety.model import META, WEIGHTS, RiskModel, ngram_counts
from channels.safety.screen import SafetyScreen
from textnorm import standardise

ROOT = Path(__file__).resolve().parents[1]
BANKS = tuple(
    ROOT / "tests" / "safety" / name for name in ("danger_bank.yml", "held_out_v2_bank.yml", "held_out_v3_bank.yml")
)
ENCODER = ROOT / ".build" / "encoder" / "m3e-small"
HASH_DIMS = 1 << 15
DENSE_WEIGHT = 2.0
C = float(os.environ.get("TONGXIN_CRISIS_C", "2.0"))  # 2 and 4 compared by cross-validation: 2 catches more
SEED = 7


@dataclass(frozen=True)
class Example:
    text: str
    danger: bool
    source: str  # bank, nlu, retrieval, knowledge_base
    category: str


def load_examples() -> list[Example]:
    out: list[Example] = []
    for path in BANKS:
        bank = yaml.safe_load(path.read_text(encoding="utf-8"))
        out += [Example(d["text"], True, "bank", d.get("category", "?")) for d in bank["danger"]]
        out += [Example(b["text"], False, "bank", b.get("category", "benign")) for b in bank["benign"]]
    nlu = yaml.safe_load((ROOT / "bot" / "data" / "nlu.yml").read_text(encoding="utf-8"))
    for block in nlu["nlu"]:
        if "intent" not in block:
            continue
        for line in block["examples"].splitlines():
            text = line.strip().removeprefix("- ").strip()
            if text:
                plain = _strip_annotations(text)
                out.append(Example(plain, block["intent"] == "report_danger", "nlu", block["intent"]))
    for name in ("in_domain_train.yml", "off_topic_train.yml"):
        data = yaml.safe_load((ROOT / "retrieval" / "data" / name).read_text(encoding="utf-8"))
        out += [Example(q, False, "retrieval", name.split("_")[0]) for q in data["questions"]]
    # The questions the policy documents answer (their own and their sections'): what ordinary traffic is.
    from knowledge_base.loader import load_knowledge_base

    for doc in load_knowledge_base(ROOT / "knowledge_base").documents:
        asked = [*doc.meta.questions, *(q for qs in doc.meta.section_questions.values() for q in qs)]
        out += [Example(q, False, "knowledge_base", doc.meta.id) for q in asked]
    return out


def _strip_annotations(text: str) -> str:
    import re

    return re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)


def features(vectors: np.ndarray, texts: list[str]) -> Any:
    from scipy import sparse

    rows, cols, vals = [], [], []
    for i, text in enumerate(texts):
        for k, v in ngram_counts(normalise(text), HASH_DIMS).items():
            rows.append(i)
            cols.append(k)
            vals.append(v)
    grams = sparse.csr_matrix((vals, (rows, cols)), shape=(len(texts), HASH_DIMS), dtype=np.float32)
    return sparse.hstack([sparse.csr_matrix(vectors * DENSE_WEIGHT), grams]).tocsr()


def fit(x: Any, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=C, class_weight="balanced", max_iter=4000, random_state=SEED)
    clf.fit(x, y)
    coef = clf.coef_[0].astype(np.float32)
    return coef[:512], coef[512:], float(clf.intercept_[0])


def as_model(dense: np.ndarray, grams: np.ndarray, bias: float, meta: dict[str, Any]) -> RiskModel:
    return RiskModel(dense, grams, bias, DENSE_WEIGHT, HASH_DIMS, meta)


class _Precomputed:
    """The encoder's vectors for texts already encoded (cross-validation re-scores the same texts)."""

    def __init__(self, encoder: Any, cache: dict[str, np.ndarray]) -> None:
        self.encoder, self.cache = encoder, cache

    def embed_texts(self, texts: list[str], *, batch_size: int = 32) -> np.ndarray:
        missing = [t for t in texts if t not in self.cache]
        if missing:
            for t, v in zip(missing, self.encoder.embed_texts(missing, batch_size=batch_size), strict=True):
                self.cache[t] = v
        return np.stack([self.cache[t] for t in texts])


def cross_validate(examples: list[Example], vectors: np.ndarray, encoder: Any, folds: int) -> dict[str, Any]:
    """Each fold of the bank is screened (lexicon + model + context) by a model that never saw it."""
    rng = np.random.default_rng(SEED)
    bank = [i for i, e in enumerate(examples) if e.source == "bank"]
    rest = [i for i, e in enumerate(examples) if e.source != "bank"]
    order = rng.permutation(bank)
    fold_of = {int(i): k % folds for k, i in enumerate(order)}
    lexicon, rules = CrisisScreen.load(), ContextRules.load()
    texts = [e.text for e in examples]
    x = features(vectors, texts)
    y = np.array([e.danger for e in examples])
    levels: dict[int, str] = {}
    scores: dict[int, float] = {}
    cache = {standardise(t): v for t, v in zip(texts, vectors, strict=True)}
    for k in range(folds):
        train = rest + [i for i in bank if fold_of[i] != k]
        dense, grams, bias = fit(x[train], y[train])
        screen = SafetyScreen(lexicon, as_model(dense, grams, bias, {}), rules, _Precomputed(encoder, cache))
        for i in (i for i in bank if fold_of[i] == k):
            assessment = screen.assess(examples[i].text)
            levels[i], scores[i] = assessment.level, assessment.score
    if os.environ.get("TONGXIN_CRISIS_SWEEP"):
        for urgent in (2.0, 2.5, 3.0, 3.5, 4.0, 5.0):
            for concern in (-2.0, -1.0, 0.0):
                swept = {
                    i: "urgent" if s >= urgent else "concern" if s >= concern else "none" for i, s in scores.items()
                }
                r = summarise(examples, swept, folds)
                caught, urgent_danger = r["danger_caught"], r["danger_urgent"]
                print(
                    f"urgent {urgent} concern {concern}: caught {caught}/{r['danger']} urgent {urgent_danger} "
                    f"benign urgent {r['benign_urgent']} concern {r['benign_concern']}",
                    file=sys.stderr,
                )
    return summarise(examples, levels, folds)


def summarise(examples: list[Example], levels: dict[int, str], folds: int) -> dict[str, Any]:
    danger = [i for i in levels if examples[i].danger]
    benign = [i for i in levels if not examples[i].danger]
    caught = Counter(examples[i].category for i in danger if levels[i] != "none")
    total = Counter(examples[i].category for i in danger)
    return {
        "folds": folds,
        "danger": len(danger),
        "benign": len(benign),
        "danger_caught": sum(levels[i] != "none" for i in danger),
        "danger_urgent": sum(levels[i] == "urgent" for i in danger),
        "benign_urgent": sum(levels[i] == "urgent" for i in benign),
        "benign_concern": sum(levels[i] == "concern" for i in benign),
        "by_category": {c: [caught[c], total[c]] for c in sorted(total)},
        "missed": [examples[i].text for i in danger if levels[i] == "none"],
        "false_urgent": [examples[i].text for i in benign if levels[i] == "urgent"],
    }


def markdown(report: dict[str, Any]) -> str:
    d, b = report["danger"], report["benign"]

    def share(n: int, of: int) -> str:
        return f"{n}/{of} ({n / of:.1%})"

    lines = [
        "## Crisis screen: cross-validation on the development bank",
        "",
        f"{report['folds']}-fold cross-validation on the development banks `tests/safety/danger_bank.yml` and the "
        f"spent held-out `held_out_v2_bank.yml`, `held_out_v3_bank.yml` ({d} danger messages, {b} near-misses):",
        "each fold is screened by the whole screen (lexicon + learned model + context) with a model trained",
        "without that fold (always with the everyday negatives: NLU examples, retrieval's training questions and the",
        "questions the policy documents answer).",
        "",
        "| measure | value |",
        "|---|---|",
        f"| danger messages at urgent or concern | **{share(report['danger_caught'], d)}** |",
        f"| danger messages at urgent | {share(report['danger_urgent'], d)} |",
        f"| near-misses raising an urgent alarm | **{share(report['benign_urgent'], b)}** |",
        f"| near-misses at concern (staff review, no alarm) | {share(report['benign_concern'], b)} |",
        "",
        "An urgent alarm needs two signals that agree (the model with a lexicon hit or a strong raising marker, or",
        "the model nearly certain); one signal alone is a concern: the answer with a safety check and emergency",
        "lines, and a high-priority ticket for staff review.",
        "",
        "By category (caught / total): " + ", ".join(f"{c} {k}/{n}" for c, (k, n) in report["by_category"].items()),
        "",
        "```",
        ".venv/bin/python -m tools.crisis_train --cv 5 --write",
        "```",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from encoding.encoder import SentenceEncoder

    parser = argparse.ArgumentParser(
        prog="python -m tools.crisis_train", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--cv", type=int, default=5, help="folds for the cross-validation (0: skip)")
    parser.add_argument("--write", action="store_true", help="write the figures into docs/benchmarks.md")
    parser.add_argument("--encoder", type=Path, default=ENCODER)
    args = parser.parse_args(argv)
    started = time.monotonic()
    examples = load_examples()
    encoder = SentenceEncoder.load(args.encoder, threads=os.cpu_count())
    vectors = encoder.embed_texts([standardise(e.text) for e in examples])
    print(f"{len(examples)} examples ({sum(e.danger for e in examples)} danger) encoded", file=sys.stderr)
    report = cross_validate(examples, vectors, encoder, args.cv) if args.cv else None
    dense, grams, bias = fit(features(vectors, [e.text for e in examples]), np.array([e.danger for e in examples]))
    meta = {
        "dense_weight": DENSE_WEIGHT,
        "hash_dims": HASH_DIMS,
        "c": C,
        "examples": len(examples),
        "danger_examples": sum(e.danger for e in examples),
        "cross_validation": {k: v for k, v in (report or {}).items() if k not in ("missed", "false_urgent")},
    }
    np.savez_compressed(WEIGHTS, dense=dense, sparse=grams, bias=np.float32(bias))
    META.write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"model written to {WEIGHTS.name} in {time.monotonic() - started:.0f}s", file=sys.stderr)
    if report:
        print(markdown(report))
        print(
            "\nmissed:\n  "
            + "\n  ".join(report["missed"])
            + "\nfalse urgent:\n  "
            + "\n  ".join(report["false_urgent"])
        )
        if args.write:
            from tools.docs import BENCHMARKS, replace_section

            replace_section(BENCHMARKS, "crisis-cv", markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
