"""Measure the crisis screen (lexicon + learned model + context) on a bank, in-process.

Usage::

    python -m tools.crisis_bench                                  # the development bank
    python -m tools.crisis_bench --bank tests/safety/held_out_bank.yml
    python -m tools.crisis_bench --write                          # refresh the section in docs/benchmarks.md

Recall is over the ``danger`` messages: caught means ``urgent`` or ``concern`` (both name an emergency line
and open a ticket). The false-alarm rate is over the ``benign`` near-misses: an alarm is ``urgent``
(``concern`` is a staff review without an alarm, counted separately). The figures on the development bank are
in-sample (the model was trained on it); ``tools/crisis_train.py`` gives the cross-validated ones, and
``python -m bot.evaluation crisis`` the figures through ``/api/chat``. ``--write`` replaces only the text
between the ``<!-- crisis-screen:start -->`` and ``<!-- crisis-screen:end -->`` markers.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from channels.safety.screen import Assessment, SafetyScreen, load_screen
from channels.settings import SCREEN_THREADS

ROOT = Path(__file__).resolve().parents[1]
BANK = ROOT / "tests" / "safety" / "danger_bank.yml"
DOCS = ROOT / "docs" / "benchmarks.md"
START = "<!-- crisis-screen:start -->"
END = "<!-- crisis-screen:end -->"
COMMAND = ".venv/bin/python -m tools.crisis_bench --write"
ENCODER = ROOT / ".build" / "encoder" / "m3e-small"


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    category: str  # the bank's label ("benign" for near-misses)


@dataclass
class Report:
    danger_total: int = 0
    benign_total: int = 0
    missed: list[Item] = field(default_factory=list)
    false_alarms: list[tuple[Item, Assessment]] = field(default_factory=list)
    concerns: int = 0  # near-misses sent to staff review (no alarm)
    by_label: dict[str, tuple[int, int]] = field(default_factory=dict)  # bank label -> (caught, total)
    by_category: Counter[str] = field(default_factory=Counter)  # lexicon category -> danger messages it fired on
    seconds: list[float] = field(default_factory=list)  # the screen's own time per message (warm)

    def cost_ms(self) -> tuple[float, float, float]:
        """p50, p95 and max of the screen's time per message, in milliseconds."""
        if len(self.seconds) < 2:
            return (0.0, 0.0, 0.0)
        ms = sorted(s * 1000 for s in self.seconds)
        return statistics.median(ms), statistics.quantiles(ms, n=20)[18], ms[-1]

    @property
    def recall(self) -> float:
        return (self.danger_total - len(self.missed)) / self.danger_total if self.danger_total else 1.0

    @property
    def false_alarm_rate(self) -> float:
        return len(self.false_alarms) / self.benign_total if self.benign_total else 0.0


def load_bank(path: Path = BANK) -> tuple[list[Item], list[Item]]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    danger = [Item(str(d["id"]), str(d["text"]), str(d.get("category", "?"))) for d in data.get("danger") or []]
    benign = [Item(str(b["id"]), str(b["text"]), "benign") for b in data.get("benign") or []]
    return danger, benign


def evaluate(screen: SafetyScreen, danger: list[Item], benign: list[Item]) -> Report:
    report = Report(danger_total=len(danger), benign_total=len(benign))
    caught: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for item in (danger + benign)[:5]:  # load the encoder and warm it: a running gateway has done so at start
        screen.assess(item.text)

    def assess(text: str) -> Assessment:
        start = time.perf_counter()
        assessment = screen.assess(text)
        report.seconds.append(time.perf_counter() - start)
        return assessment

    for item in danger:
        total[item.category] += 1
        assessment = assess(item.text)
        if assessment.level == "none":
            report.missed.append(item)
            continue
        caught[item.category] += 1
        report.by_category.update(assessment.categories)
    for item in benign:
        assessment = assess(item.text)
        if assessment.level == "urgent":
            report.false_alarms.append((item, assessment))
        elif assessment.level == "concern":
            report.concerns += 1
    report.by_label = {label: (caught[label], total[label]) for label in total}
    return report


def render_text(report: Report) -> str:
    caught = report.danger_total - len(report.missed)
    lines = [
        f"recall      {report.recall:6.1%}  ({caught}/{report.danger_total} danger messages at urgent or concern)",
        f"false alarm {report.false_alarm_rate:6.1%}  ({len(report.false_alarms)}/{report.benign_total} urgent)",
        f"concern     {report.concerns}/{report.benign_total} near-misses sent to staff review",
        "cost        p50 {:.1f} ms, p95 {:.1f} ms, max {:.1f} ms per message".format(*report.cost_ms()),
        "",
        "by bank label (caught/total):",
    ]
    lines += [f"  {label:<20} {c}/{t}" for label, (c, t) in sorted(report.by_label.items())]
    lines += ["", "lexicon categories firing on danger messages:"]
    lines += [f"  {name:<20} {n}" for name, n in sorted(report.by_category.items())]
    lines += ["", f"missed ({len(report.missed)}):"]
    lines += [f"  {i.id} [{i.category}] {i.text}" for i in report.missed] or ["  -"]
    lines += ["", f"false alarms ({len(report.false_alarms)}):"]
    lines += [
        f"  {i.id} {i.text}  -> {a.score:.1f} ({' | '.join(s.label + ':' + s.evidence for s in a.signals)})"
        for i, a in report.false_alarms
    ] or ["  -"]
    return "\n".join(lines)


def render_markdown(report: Report) -> str:
    caught = report.danger_total - len(report.missed)
    rows = [
        "## Crisis screen",
        "",
        "The whole screen (lexicon `channels/data/crisis.zh.yml`, learned model, context) on the development bank",
        "`tests/safety/danger_bank.yml`, in-process. In-sample: the model was trained on this bank (the",
        "cross-validated figures are in the next section).",
        "",
        "| metric | value |",
        "| --- | --- |",
        f"| danger messages at urgent or concern | {report.recall:.1%} ({caught}/{report.danger_total}) |",
        f"| near-misses raising an urgent alarm | {report.false_alarm_rate:.1%} "
        f"({len(report.false_alarms)}/{report.benign_total}) |",
        f"| near-misses at concern (staff review) | {report.concerns}/{report.benign_total} |",
        "| the screen's time per message, p50 / p95 / max (warm, one process, {} messages) | "
        "{:.1f} / {:.1f} / {:.1f} ms |".format(len(report.seconds), *report.cost_ms()),
        "",
        "The screen runs in the gateway for every message before the message reaches Rasa; the whole turn it",
        "sits in is in the gateway-overhead section below (`tools.gateway_bench`).",
        "",
        "| bank label | caught / total |",
        "| --- | --- |",
    ]
    rows += [f"| {label} | {c}/{t} |" for label, (c, t) in sorted(report.by_label.items())]
    if report.false_alarms:
        rows += ["", "False alarms: " + ", ".join(f"`{i.id}`" for i, _ in report.false_alarms) + "."]
    if report.missed:
        rows += ["", "Missed: " + ", ".join(f"`{i.id}`" for i in report.missed) + "."]
    rows += ["", "Reproduce from the repository root:", "", "```", COMMAND, "```"]
    return "\n".join(rows)


def write_section(markdown: str, path: Path = DOCS) -> None:
    """Replace the text between the crisis-screen markers in ``path`` (append the markers if absent).

    Same convention as ``retrieval.evaluation.replace_section``, kept local so that the gateway's safety
    package does not import the retrieval stack (numpy, the index) just to write a table.
    """
    section = f"{START}\n{markdown}\n{END}"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        text = (text.rstrip("\n") + "\n\n" if text.strip() else "") + section + "\n"
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.crisis_bench", description="Benchmark the crisis screen on the development bank."
    )
    parser.add_argument("--write", action="store_true", help=f"refresh the crisis-screen section of {DOCS.name}")
    parser.add_argument("--bank", type=Path, default=BANK, help="bank file (default: the development bank)")
    parser.add_argument("--encoder", type=Path, default=ENCODER, help="the exported encoder (make build)")
    parser.add_argument("--threads", type=int, default=SCREEN_THREADS, help="onnxruntime threads, as the gateway")
    args = parser.parse_args(argv)
    danger, benign = load_bank(args.bank)
    report = evaluate(load_screen(args.encoder, args.threads), danger, benign)
    print(render_text(report))
    if args.write:
        write_section(render_markdown(report))
        print(f"\nwrote the crisis-screen section of {DOCS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
