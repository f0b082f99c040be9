"""``python -m bot.evaluation``: the answer and conversation evaluations, and Rasa's own test reports.

    python -m bot.evaluation answers --write       # starts the real stack; plays knowledge_base/eval/answers*.yml
    python -m bot.evaluation conversations --url http://127.0.0.1:8000 --failures
    python -m bot.evaluation crisis --bank tests/safety/held_out_v4_bank.yml --url http://127.0.0.1:8000
    python -m bot.evaluation nlu-cv .build/nlu-cv --folds 5 --write
    python -m bot.evaluation core .build/rasa-test --write

Held-out parts are scored but their failing turns are never printed: nobody tunes on them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bot.evaluation import rasa_reports as reports
from bot.evaluation.player import ConversationResult, Score, play
from bot.evaluation.report import crisis_markdown, dialogue_markdown, fixed_since, score_json
from bot.evaluation.sets import Part, load_bank, load_conversations
from tools.docs import BENCHMARKS, replace_section


@contextmanager
def _gateway(url: str | None) -> Iterator[str]:
    if url:
        yield url.rstrip("/")
        return
    from tools.stack import Stack  # only when no running stack is given: it starts three processes

    with tempfile.TemporaryDirectory(prefix="tongxin-eval-") as workdir:
        stack = Stack(Path(workdir))
        try:
            stack.start()
            yield stack.gateway
        finally:
            stack.stop_all()


def _progress(result: ConversationResult) -> None:
    print("." if result.passed else "F", end="", file=sys.stderr, flush=True)


def run_dialogue(args: argparse.Namespace) -> int:
    parts: list[Part] = ["dev", "held_out"] if args.part == "all" else [args.part]
    sets = {part: load_conversations(args.command, part) for part in parts}
    if args.limit:
        sets = {part: items[: args.limit] for part, items in sets.items()}
    scores: dict[str, Score] = {}
    with _gateway(args.url) as base:
        for part, conversations in sets.items():
            scores[part] = play(conversations, base, progress=_progress)
            print(file=sys.stderr)
    if args.json:
        print(json.dumps({p: score_json(s) for p, s in scores.items()}, ensure_ascii=False, indent=1))
    if args.save:
        args.save.write_text(json.dumps({p: score_json(s) for p, s in scores.items()}, ensure_ascii=False, indent=1))
    fixed = None
    if args.compare:
        earlier = json.loads(args.compare.read_text(encoding="utf-8"))
        fixed = {p: fixed_since(s, earlier[p]) for p, s in scores.items() if p in earlier}
    markdown = dialogue_markdown(args.command, scores, args.label, fixed, _command_line(args))
    if not args.json:
        print(markdown)
    if args.failures and "dev" in scores:
        _print_failures(scores["dev"])
    if args.write:
        marker = f"{args.command}-eval" + ("-first-run" if args.first_run else "")
        replace_section(BENCHMARKS, marker, markdown)
    return 0


def _command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this run; a given --url is a stack started the same way as the default."""
    words = [".venv/bin/python -m bot.evaluation", args.command, "--part", args.part]
    if args.label:
        words += ["--label", repr(args.label)]
    for flag in ("save", "compare"):
        if getattr(args, flag):
            words += [f"--{flag}", str(getattr(args, flag))]
    words += ["--first-run"] if args.first_run else []
    note = "   # against the stack at the commit named in the label" if args.url else "   # starts the real stack"
    return " ".join(words) + " --write" + note


def run_crisis(args: argparse.Namespace) -> int:
    danger, benign = load_bank(args.bank)
    with _gateway(args.url) as base:
        scores = {"danger": play(danger, base, progress=_progress), "benign": play(benign, base, progress=_progress)}
    print(file=sys.stderr)
    markdown = crisis_markdown(args.bank, scores, args.label)
    print(json.dumps({p: score_json(s) for p, s in scores.items()}, indent=1) if args.json else markdown)
    if args.failures and "held_out" not in args.bank.name:
        for score in scores.values():
            _print_failures(score)
    if args.write:
        replace_section(BENCHMARKS, args.marker, markdown)
    return 0


def _print_failures(score: Score) -> None:
    for result in score.results:
        if result.passed:
            continue
        print(f"\n### {result.conversation.id} ({result.conversation.pattern}, {result.conversation.persona})")
        for turn in result.turns:
            mark = "FAIL " + "; ".join(turn.failed) if turn.failed else "ok"
            print(f"> {turn.user}\n  [{mark}]\n  " + turn.reply.replace("\n", "\n  ")[:600])


def run_reports(args: argparse.Namespace) -> int:
    try:
        if args.command == "nlu-cv":
            intents = reports.summarise_classification(reports._read_json(args.folder / "intent_report.json"))
            entities = reports.entity_reports(args.folder)
            payload: dict[str, Any] = {
                "intents": asdict(intents),
                "entities": {k: asdict(v) for k, v in entities.items()},
            }
            pipeline = reports.pipeline_names(args.config) if args.config.is_file() else None
            markdown = reports.nlu_markdown(intents, entities, args.folds, pipeline)
            marker = reports.NLU_MARKER
        else:
            core = reports.summarise_core(args.folder)
            payload = asdict(core)
            markdown, marker = reports.core_markdown(core), reports.CORE_MARKER
    except reports.ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(payload, ensure_ascii=False, indent=1) if args.json else markdown)
    if args.write:
        replace_section(BENCHMARKS, marker, markdown)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.evaluation", description=(__doc__ or "").split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_nlu = sub.add_parser("nlu-cv", help="summarise a `rasa test nlu --cross-validation --out DIR` run")
    p_nlu.add_argument("folder", type=Path)
    p_nlu.add_argument("--folds", type=int, default=5)
    p_nlu.add_argument("--config", type=Path, default=Path("config.yml"), help="the Rasa config that was tested")
    p_core = sub.add_parser("core", help="summarise a `rasa test core --out DIR` run")
    p_core.add_argument("folder", type=Path)
    dialogue = []
    for name, what in (("answers", "single questions"), ("conversations", "scripted conversations")):
        p = sub.add_parser(name, help=f"play the {what} of knowledge_base/eval/ through /api/chat")
        p.add_argument("--url", help="a running gateway (default: start the real stack on free ports)")
        p.add_argument("--part", choices=["dev", "held_out", "all"], default="all")
        p.add_argument("--limit", type=int, default=0, help="only the first N of each part")
        p.add_argument("--failures", action="store_true", help="print the failing turns of the development part")
        p.add_argument("--label", default="", help="what was measured, e.g. 'main at 7d8fc4e'")
        p.add_argument("--first-run", action="store_true", help="write to the first-run section instead")
        p.add_argument("--save", type=Path, help="also write the result as JSON to this file")
        p.add_argument("--compare", type=Path, help="an earlier run's --save file: what it failed that passes now")
        dialogue.append(p)
    p_crisis = sub.add_parser("crisis", help="play a crisis bank through /api/chat")
    p_crisis.add_argument("--bank", type=Path, required=True)
    p_crisis.add_argument("--url", help="a running gateway (default: start the real stack on free ports)")
    p_crisis.add_argument("--label", default="")
    p_crisis.add_argument("--marker", default="crisis-api", help="the section of docs/benchmarks.md to write")
    p_crisis.add_argument("--failures", action="store_true", help="print misses (never for a held-out bank)")
    for p in (p_nlu, p_core, p_crisis, *dialogue):
        p.add_argument("--json", action="store_true", help="print the result as JSON")
        p.add_argument("--write", action="store_true", help="update the section in docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.command in ("answers", "conversations"):
        return run_dialogue(args)
    if args.command == "crisis":
        return run_crisis(args)
    return run_reports(args)


if __name__ == "__main__":
    raise SystemExit(main())
