"""``python -m retrieval``: build | search | eval | calibrate | bench.

``search "<question>" --top-k 5 --json`` prints a JSON array of hits, best first
(``doc_id, doc_no, title, heading, text, score``); ``search - --json`` reads one question per
line on stdin and prints one JSON array per line, in the same order, with the model loaded once.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from retrieval.searcher import Filters, Retriever, SearchResult
from retrieval.settings import RetrievalSettings


def hits_json(result: SearchResult) -> list[dict[str, Any]]:
    """Contract 4: hits best first. An empty array means "not found"."""
    if not result.found:
        return []
    return [
        {
            "doc_id": h.doc.doc_id,
            "doc_no": h.doc.doc_no,
            "title": h.citation.full_title,
            "heading": h.chunk.heading_path,
            "text": h.chunk.text,
            "score": round(h.score, 6),
            "confidence": round(result.confidence, 4),
        }
        for h in result.hits
    ]


def _print_human(result: SearchResult) -> None:
    status = "found" if result.found else "NOT FOUND"
    print(f"{result.query}  [{status}, confidence {result.confidence:.3f}]")
    for i, h in enumerate(result.hits, 1):
        print(f"{i}. {h.citation.label}  {h.doc.doc_id}  score={h.score:.4f} cos={h.cosine:.3f}")
        print(f"   {h.chunk.heading_path}: {h.chunk.text[:120]}")


def _filters(args: argparse.Namespace) -> Filters:
    return Filters(
        scopes=frozenset(args.scope) if args.scope else None,
        audience=args.audience,
        include_superseded=args.include_superseded,
    )


def cmd_search(args: argparse.Namespace, retriever: Retriever) -> int:
    filters = _filters(args)
    queries = sys.stdin if args.question == "-" else [args.question]
    for line in queries:
        question = line.strip()
        if args.question == "-" and not question:
            print("[]" if args.json else "", flush=True)
            continue
        result = retriever.search(question, args.top_k, filters=filters, mode=args.mode)
        if args.json:
            print(json.dumps(hits_json(result), ensure_ascii=False), flush=True)
        else:
            _print_human(result)
    return 0


def cmd_build(args: argparse.Namespace, settings: RetrievalSettings) -> int:
    from tqdm import tqdm

    from retrieval.runtime import build

    with tqdm(desc="embedding", unit="chunk", disable=args.json or not sys.stderr.isatty()) as bar:
        report = build(settings, force=args.force, progress=bar.update)
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    elif report.skipped:
        print(f"index up to date ({report.chunks} units) at {report.folder}")
    else:
        print(
            f"built {report.chunks} units ({report.embedded} embedded, {report.reused} reused) "
            f"in {report.seconds:.1f}s at {report.folder}"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m retrieval")
    sub = parser.add_subparsers(dest="command", required=True)

    p_build = sub.add_parser("build", help="build the index from the knowledge base (incremental)")
    p_build.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    p_build.add_argument("--json", action="store_true")

    p_search = sub.add_parser("search", help="search; '-' reads one question per line from stdin")
    p_search.add_argument("question")
    p_search.add_argument("--top-k", type=int, default=5)
    p_search.add_argument("--json", action="store_true")
    p_search.add_argument("--mode", choices=["hybrid", "dense", "sparse"], default="hybrid")
    p_search.add_argument("--scope", action="append", choices=["national", "hubei", "yichang"])
    p_search.add_argument("--audience", choices=["parent", "child_director", "staff"])
    p_search.add_argument("--include-superseded", action="store_true", help="allow superseded documents")

    p_eval = sub.add_parser("eval", help="hit@1/3/5 and MRR on the evaluation set: dense, BM25, hybrid")
    p_eval.add_argument("--json", action="store_true")
    p_eval.add_argument("--write", action="store_true", help="update the table in docs/benchmarks.md")

    p_cal = sub.add_parser("calibrate", help="fit the confidence on the eval and out-of-scope sets")
    p_cal.add_argument("--json", action="store_true")

    p_bench = sub.add_parser("bench", help="latency, build throughput and memory at 10k/100k chunks")
    p_bench.add_argument("--sizes", default="10000,100000")
    p_bench.add_argument("--queries", type=int, default=200)
    p_bench.add_argument("--json", action="store_true")
    p_bench.add_argument("--write", action="store_true", help="update the section in docs/benchmarks.md")

    args = parser.parse_args(argv)
    settings = RetrievalSettings()
    if args.command == "build":
        return cmd_build(args, settings)
    if args.command == "bench":
        from retrieval.bench import run_bench

        return int(run_bench(settings, args))

    from retrieval.runtime import make_retriever
    from retrieval.store import IndexNotFoundError

    retriever = make_retriever(settings)
    try:
        retriever.warm_up()
    except IndexNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "search":
        return cmd_search(args, retriever)
    from retrieval import evaluation

    if args.command == "eval":
        return evaluation.run_eval(settings, retriever, args)
    return evaluation.run_calibrate(settings, retriever, args)


if __name__ == "__main__":
    sys.exit(main())
