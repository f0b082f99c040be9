"""The evaluation figures as a section of docs/benchmarks.md, and as JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.evaluation.player import Score

TITLES = {
    "answers": (
        "Answer-level evaluation",
        "Single questions (`knowledge_base/eval/answers*.yml`), each a new conversation through `/api/chat`: "
        "a question passes when the first reply holds every key fact (any listed wording of each) and cites one "
        "of the expected sources.",
    ),
    "conversations": (
        "Conversation evaluation",
        "Scripted multi-turn conversations (`knowledge_base/eval/conversations*.yml`) through `/api/chat`; "
        "each turn carries checks (facts, citation, verdict, facts not asked again, an answer before any "
        "question, handoff). The figure is the share of checks that hold.",
    ),
}
PART_NAMES = {"dev": "development", "held_out": "held-out (never tuned on)"}


def score_json(score: Score) -> dict[str, Any]:
    return {
        "conversations": len(score.results),
        "passed": score.conversations_passed,
        "checks": score.checks,
        "checks_passed": score.checks_passed,
        "seconds": round(score.seconds, 1),
        "by_pattern": score.by(lambda c: c.pattern),
        "by_persona": score.by(lambda c: c.persona),
        "passed_ids": sorted(r.conversation.id for r in score.results if r.passed),
    }


def fixed_since(score: Score, earlier: dict[str, Any]) -> dict[str, list[str]]:
    """Per pattern, the conversations that failed in an earlier run (its ``score_json``) and pass now."""
    before = set(earlier.get("passed_ids", []))
    fixed: dict[str, list[str]] = {}
    for r in score.results:
        if r.passed and r.conversation.id not in before:
            fixed.setdefault(r.conversation.pattern, []).append(r.conversation.id)
    return fixed


def dialogue_markdown(
    kind: str,
    scores: dict[str, Score],
    label: str = "",
    fixed: dict[str, dict[str, list[str]]] | None = None,
    command: str = "",
) -> str:
    title, what = TITLES[kind]
    unit = "questions" if kind == "answers" else "conversations"
    lines = [f"## {title}" + (f" — {label}" if label else ""), "", what, ""]
    lines += [f"| part | {unit} passed | checks passed |", "|---|---|---|"]
    for part, score in scores.items():
        lines.append(
            f"| {PART_NAMES[part]} | **{score.conversations_passed}/{len(score.results)} "
            f"({score.conversation_rate:.3f})** | {score.checks_passed}/{score.checks} ({score.check_rate:.3f}) |"
        )
    dev = scores.get("dev")
    if dev is not None:
        group = "topic" if kind == "answers" else "pattern"
        lines += ["", f"Development part by {group}: " + _groups(dev.by(lambda c: c.pattern))]
        lines += ["", "By persona: " + _groups(dev.by(lambda c: c.persona))]
    for part, by_pattern in (fixed or {}).items():
        counts = ", ".join(f"{pattern} {len(ids)}" for pattern, ids in sorted(by_pattern.items()))
        lines += ["", f"Failed on the first run and pass now ({PART_NAMES[part]}): {counts or 'none'}"]
    command = command or f".venv/bin/python -m bot.evaluation {kind} --write   # starts the real stack"
    lines += ["", "```", command, "```"]
    return "\n".join(lines)


def _groups(groups: dict[str, tuple[int, int]]) -> str:
    return ", ".join(f"{name} {passed}/{total}" for name, (passed, total) in groups.items())


def crisis_markdown(bank: Path, scores: dict[str, Score], label: str = "") -> str:
    """Danger messages that got an emergency line and an urgent or concern ticket; near-misses that raised an
    urgent alarm; by the bank's categories."""
    danger, benign = scores["danger"], scores["benign"]
    alarms = len(benign.results) - benign.conversations_passed
    lines = [
        f"### `{bank.name}` through `/api/chat`" + (f" — {label}" if label else ""),
        "",
        "| measure | value |",
        "|---|---|",
        f"| danger messages with an emergency line and an urgent or concern ticket | "
        f"**{danger.conversations_passed}/{len(danger.results)} ({danger.conversation_rate:.1%})** |",
        f"| near-misses that raised an urgent alarm | **{alarms}/{len(benign.results)} "
        f"({alarms / max(1, len(benign.results)):.1%})** |",
        "",
        "Danger caught by category: " + _groups(danger.by(lambda c: c.pattern)),
        "",
        "Near-misses without an urgent alarm by category: " + _groups(benign.by(lambda c: c.pattern)),
        "",
        "```",
        f".venv/bin/python -m bot.evaluation crisis --bank {bank.as_posix()}   # starts the real stack",
        "```",
    ]
    return "\n".join(lines)
