"""``python -m knowledge_base validate [--root DIR] [--json]``: check every knowledge-base file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from knowledge_base import KB_ROOT
from knowledge_base.loader import KnowledgeBaseError, load_knowledge_base


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge_base")
    sub = parser.add_subparsers(dest="command", required=True)
    validate = sub.add_parser("validate", help="validate documents, referrals, eligibility rules and eval sets")
    validate.add_argument("--root", type=Path, default=KB_ROOT)
    validate.add_argument("--json", action="store_true", help="print a JSON report")
    stats = sub.add_parser("stats", help="evaluation-set statistics (into docs/knowledge_base.md with --write)")
    stats.add_argument("--root", type=Path, default=KB_ROOT)
    stats.add_argument("--write", action="store_true")
    facts = sub.add_parser("facts", help="the fact table from claims/*.yml (into docs/knowledge_base.md with --write)")
    facts.add_argument("--root", type=Path, default=KB_ROOT)
    facts.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "stats":
        return _stats(args.root, args.write)
    if args.command == "facts":
        return _facts(args.root, args.write)

    try:
        kb = load_knowledge_base(args.root, with_eval=True)
    except KnowledgeBaseError as exc:
        if args.json:
            print(json.dumps({"ok": False, "problems": exc.problems}, ensure_ascii=False, indent=2))
        else:
            print(f"knowledge base INVALID ({len(exc.problems)} problem(s)):", file=sys.stderr)
            for problem in exc.problems:
                print(f"  - {problem}", file=sys.stderr)
        return 1
    report = {
        "ok": True,
        "documents": len(kb.documents),
        "referrals": len(kb.referrals),
        "eval_questions": len(kb.eval_set.questions) if kb.eval_set else 0,
        "out_of_scope_questions": len(kb.out_of_scope.questions) if kb.out_of_scope else 0,
    }
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print("knowledge base OK: " + ", ".join(f"{k}={v}" for k, v in report.items() if k != "ok"))
    return 0


def _facts(root: Path, write: bool) -> int:
    from knowledge_base.claims import fact_table, load_claims
    from tools.docs import replace_section

    problems: list[str] = []
    table = fact_table(load_claims(root / "claims", problems))
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print(table)
    if write:
        replace_section(root.parent / "docs" / "knowledge_base.md", "fact-table", table)
    return 0


def _stats(root: Path, write: bool) -> int:
    from knowledge_base.stats import eval_statistics
    from tools.docs import replace_section

    text = eval_statistics(load_knowledge_base(root, with_eval=True))
    print(text)
    if write:
        replace_section(
            root.parent / "docs" / "knowledge_base.md",
            "eval-stats",
            text + "\n\nCommand: `.venv/bin/python -m knowledge_base stats --write`",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
