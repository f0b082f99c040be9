"""A slice of the answer and conversation evaluation sets, played through the real stack, with a floor.

The full sets run with ``python -m bot.evaluation answers|conversations --write`` (figures in
docs/benchmarks.md); this slice (every fourth development item) keeps a regression from passing ``make test``.
The floors sit below the last full run's figures by a margin for the slice's smaller size.
"""

from __future__ import annotations

import pytest

from bot.evaluation.player import Score, play
from bot.evaluation.sets import load_conversations
from tools.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ANSWER_FLOOR = 0.75  # questions whose first reply holds every key fact and a right citation
CHECK_FLOOR = 0.90  # conversation checks that hold


def _failures(score: Score) -> str:
    lines = []
    for result in score.results:
        for turn in result.turns:
            if turn.failed:
                lines.append(f"{result.conversation.id} {turn.user[:30]}: {', '.join(turn.failed)}")
    return "\n".join(lines)


def test_answers_slice_holds_the_floor(stack: Stack) -> None:
    questions = load_conversations("answers", "dev")[::4]
    score = play(questions, stack.gateway)
    assert score.conversation_rate >= ANSWER_FLOOR, _failures(score)


def test_conversations_slice_holds_the_floor(stack: Stack) -> None:
    conversations = load_conversations("conversations", "dev")[::4]
    score = play(conversations, stack.gateway)
    assert score.check_rate >= CHECK_FLOOR, _failures(score)
