"""Judge one bot turn (the ``/api/chat`` response body) against a turn's checks. Pure functions.

Wordings match after folding both sides the same way (NFKC, simplified script, no spaces), so a set never has
to spell out script or spacing variants. A verdict is read from the lines the user sees: a programme's name
beside ✅ (符合), ❓ (可能符合) or ✖ (不符合).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot.evaluation.sets import Expect
from knowledge_base import KB_ROOT
from knowledge_base.eligibility import Verdict, load_rulebook
from textnorm import to_simplified

MARKERS: dict[str, Verdict] = {"✅": "eligible", "❓": "possibly", "✖": "not_eligible"}
# What a question about each screening fact mentions (the bot may word its questions in many ways).
FACT_WORDS: dict[str, tuple[str, ...]] = {
    "child_age": ("几岁", "多大", "年龄", "年纪", "周岁"),
    "father": ("爸爸", "父亲"),
    "mother": ("妈妈", "母亲"),
    "hukou": ("户口",),
    "in_school": ("上学", "在校", "读书"),
    "family_low_income": ("低保", "特困", "经济"),
    "child_disability": ("残疾",),
    "guardianship_harm": ("打骂", "虐待", "遗弃", "没人照看"),
}
_SPACE = re.compile(r"[\s“”‘’「」『』\"']+")
_QUESTION = re.compile(r"[^。！!？?\n]*[？?]")


def fold(text: str) -> str:
    return _SPACE.sub("", to_simplified(unicodedata.normalize("NFKC", text)).lower())


@lru_cache(maxsize=1)
def program_names() -> dict[str, tuple[str, ...]]:
    """Each programme's name and the shorter ways it is written (事实无人抚养儿童保障 → 事实无人抚养)."""
    names: dict[str, tuple[str, ...]] = {}
    for program in load_rulebook(KB_ROOT / "eligibility").programs:
        short = re.sub(r"(基本生活保障|关爱保护|保障)$", "", program.name)
        names[program.id] = tuple(dict.fromkeys((fold(program.name), fold(short))))
    return names


@dataclass(frozen=True)
class TurnView:
    """What one response shows: the bot's and the system's texts, every citation, the ticket."""

    texts: tuple[str, ...]
    bot_texts: tuple[str, ...]
    citations: tuple[dict[str, Any], ...]
    handoff: dict[str, Any] | None

    @classmethod
    def of(cls, body: dict[str, Any]) -> TurnView:
        replies = body.get("replies") or []
        return cls(
            texts=tuple(str(r.get("text", "")) for r in replies),
            # The first-contact notice ("【使用须知】…") is the gateway's, not an answer; its other replies
            # (the emergency reply, the deletion question) are.
            bot_texts=tuple(
                str(r.get("text", "")) for r in replies if not str(r.get("text", "")).startswith("【使用须知】")
            ),
            citations=tuple(c for r in replies for c in r.get("citations") or []),
            handoff=body.get("handoff"),
        )

    @property
    def text(self) -> str:
        return "\n".join(self.texts)


def verdicts(view: TurnView) -> dict[str, Verdict]:
    """The first verdict shown for each programme in this turn."""
    found: dict[str, Verdict] = {}
    for line in fold_lines(view.text):
        marker = next((m for m in MARKERS if m in line), None)
        if marker is None:
            continue
        for program, names in program_names().items():
            if program not in found and any(name in line for name in names):
                found[program] = MARKERS[marker]
    return found


def fold_lines(text: str) -> list[str]:
    return [fold(line) for line in text.splitlines() if line.strip()]


def asked_facts(view: TurnView) -> set[str]:
    """Facts the turn asks about: a question sentence of the bot that mentions the fact."""
    asked = set()
    for sentence in _QUESTION.findall("\n".join(view.bot_texts)):
        folded = fold(sentence)
        asked |= {fact for fact, words in FACT_WORDS.items() if any(w in folded for w in words)}
    return asked


def has_answer(view: TurnView) -> bool:
    """An answer or a verdict, not only a question: a citation, a verdict, or statements beside the questions."""
    if view.citations or verdicts(view):
        return True
    statements = _QUESTION.sub("", "\n".join(view.bot_texts))
    return len(fold(re.sub(r"[\W_]+", "", statements))) >= 20


def _cited(view: TurnView, sources: list[str]) -> bool:
    wanted = [fold(s) for s in sources]
    for citation in view.citations:
        label = fold(" ".join(str(citation.get(k) or "") for k in ("doc_no", "title", "doc_id")))
        if any(w in label for w in wanted) or ("宜昌" in wanted and "yichang" in label):
            return True
    return False


def failures(expect: Expect, body: dict[str, Any]) -> list[str]:
    """The checks of ``expect`` that ``body`` fails, each as a short label (empty: the turn passes)."""
    view = TurnView.of(body)
    text = fold(view.text)
    failed = []
    for group in expect.contains:
        if not any(fold(w) in text for w in group):
            failed.append(f"contains {'/'.join(group)}")
    failed += [f"not_contains {w}" for w in expect.not_contains if fold(w) in text]
    if expect.cites and not _cited(view, expect.cites):
        failed.append(f"cites {'/'.join(expect.cites)}")
    if expect.no_citation and view.citations:
        failed.append("no_citation")
    if expect.verdict is not None:
        got = verdicts(view).get(expect.verdict.program)
        if got not in expect.verdict.is_:
            failed.append(f"verdict {expect.verdict.program}={'/'.join(expect.verdict.is_)} got {got}")
    asked = asked_facts(view) & set(expect.not_asked)
    if asked:
        failed.append(f"not_asked {','.join(sorted(asked))}")
    if expect.answers_first and not has_answer(view):
        failed.append("answers_first")
    if expect.asks_question and not _QUESTION.search("\n".join(view.bot_texts)):
        failed.append("asks_question")
    if expect.handoff is not None and not _handoff_ok(expect.handoff, view.handoff):
        got_priority = view.handoff.get("priority") if view.handoff else "none"
        failed.append(f"handoff {expect.handoff} got {got_priority}")
    return failed


def _handoff_ok(expected: str, handoff: dict[str, Any] | None) -> bool:
    if expected == "none":
        return handoff is None
    if expected == "not_urgent":
        return handoff is None or handoff.get("priority") != "urgent"
    if handoff is None:
        return False
    priority = handoff.get("priority")
    return (
        expected == "any" or priority == expected or (expected == "urgent_or_high" and priority in ("urgent", "high"))
    )


def check_count(expect: Expect) -> int:
    """How many checks a turn holds (the unit of the conversation figure)."""
    return (
        len(expect.contains)
        + len(expect.not_contains)
        + bool(expect.cites)
        + expect.no_citation
        + (expect.verdict is not None)
        + bool(expect.not_asked)
        + expect.answers_first
        + expect.asks_question
        + (expect.handoff is not None)
    )
