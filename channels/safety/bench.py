"""Benchmark the crisis screen on the development bank (``tests/safety/danger_bank.yml``).

Usage::

    python -m channels.safety.bench            # print recall, false alarms, per-category counts
    python -m channels.safety.bench --write    # also refresh the section in docs/benchmarks.md

Recall is over the ``danger`` messages (every one must trigger); the false-alarm rate is over the
``benign`` near-misses (none should). ``--write`` replaces only the text between the
``<!-- crisis-screen:start -->`` and ``<!-- crisis-screen:end -->`` markers, appending them at the end of
the file if they are absent.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from channels.safety.crisis import DATA, CrisisHit, CrisisScreen

ROOT = Path(__file__).resolve().parents[2]
BANK = ROOT / "tests" / "safety" / "danger_bank.yml"
DOCS = ROOT / "docs" / "benchmarks.md"
START = "<!-- crisis-screen:start -->"
END = "<!-- crisis-screen:end -->"
COMMAND = ".venv/bin/python -m channels.safety.bench --write"


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
    false_alarms: list[tuple[Item, CrisisHit]] = field(default_factory=list)
    by_label: dict[str, tuple[int, int]] = field(default_factory=dict)  # bank label -> (caught, total)
    by_category: Counter[str] = field(default_factory=Counter)  # screen category -> danger messages it fired on

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


def evaluate(screen: CrisisScreen, danger: list[Item], benign: list[Item]) -> Report:
    report = Report(danger_total=len(danger), benign_total=len(benign))
    caught: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for item in danger:
        total[item.category] += 1
        hit = screen.check(item.text)
        if hit is None:
            report.missed.append(item)
            continue
        caught[item.category] += 1
        report.by_category.update(hit.categories)
    for item in benign:
        hit = screen.check(item.text)
        if hit is not None:
            report.false_alarms.append((item, hit))
    report.by_label = {label: (caught[label], total[label]) for label in total}
    return report


def render_text(report: Report) -> str:
    caught = report.danger_total - len(report.missed)
    lines = [
        f"recall      {report.recall:6.1%}  ({caught}/{report.danger_total} danger messages trigger)",
        f"false alarm {report.false_alarm_rate:6.1%}  ({len(report.false_alarms)}/{report.benign_total} benign)",
        "",
        "by bank label (caught/total):",
    ]
    lines += [f"  {label:<20} {c}/{t}" for label, (c, t) in sorted(report.by_label.items())]
    lines += ["", "screen categories firing on danger messages:"]
    lines += [f"  {name:<20} {n}" for name, n in sorted(report.by_category.items())]
    lines += ["", f"missed ({len(report.missed)}):"]
    lines += [f"  {i.id} [{i.category}] {i.text}" for i in report.missed] or ["  -"]
    lines += ["", f"false alarms ({len(report.false_alarms)}):"]
    lines += [
        f"  {i.id} {i.text}  -> {', '.join(hit.categories)} ({' | '.join(hit.evidence)})"
        for i, hit in report.false_alarms
    ] or ["  -"]
    return "\n".join(lines)


def render_markdown(report: Report) -> str:
    caught = report.danger_total - len(report.missed)
    rows = [
        "## Crisis screen",
        "",
        "Lexicon `channels/data/crisis.zh.yml` on the development bank `tests/safety/danger_bank.yml`.",
        "",
        "| metric | value |",
        "| --- | --- |",
        f"| recall (danger messages that trigger) | {report.recall:.1%} ({caught}/{report.danger_total}) |",
        f"| false alarms (benign near-misses that trigger) | {report.false_alarm_rate:.1%} "
        f"({len(report.false_alarms)}/{report.benign_total}) |",
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
        prog="python -m channels.safety.bench", description="Benchmark the crisis screen on the development bank."
    )
    parser.add_argument("--write", action="store_true", help=f"refresh the crisis-screen section of {DOCS.name}")
    parser.add_argument("--bank", type=Path, default=BANK, help="bank file (default: the development bank)")
    parser.add_argument("--lexicon", type=Path, default=DATA, help="lexicon file (default: crisis.zh.yml)")
    args = parser.parse_args(argv)
    danger, benign = load_bank(args.bank)
    report = evaluate(CrisisScreen.load(args.lexicon), danger, benign)
    print(render_text(report))
    if args.write:
        write_section(render_markdown(report))
        print(f"\nwrote the crisis-screen section of {DOCS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
