"""The crisis screen on the held-out bank ``tests/safety/held_out_bank.yml`` (143 danger, 60 benign).

The bank was written in one go before the lexicon was widened for it. The first run, on the unchanged
lexicon, is the honest estimate of how the screen does on unseen wording:

    first run (before any change)   recall 90/143 (62.9%)   false alarms 8/60 (13.3%)
    weakest labels                  suicide_implicit 7/16, abduction 4/9, drowning 4/8, sexual_abuse 6/12,
                                    neglect_alone 5/10

Then the lexicon was widened with general patterns per category (never the sentences), so from here on
this is a regression set, not an unbiased estimate, now for the whole screen (lexicon, learned model,
context): a danger message is caught at ``urgent`` or ``concern``, a false alarm is ``urgent``. The new
held-out bank (``held_out_v4_bank.yml``; v2 and v3 are spent) is measured only through
/api/chat (docs/benchmarks.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from channels.safety.context import ContextRules
from channels.safety.crisis import CrisisScreen, normalise
from channels.safety.model import RiskModel
from channels.safety.screen import SafetyScreen
from tests.safety import test_crisis
from tools.crisis_bench import Report, evaluate, load_bank

HELD_OUT = Path(__file__).parent / "held_out_bank.yml"
MIN_RECALL = 0.97
MAX_FALSE_ALARM_RATE = 0.10
LABELS = {
    "suicide",
    "suicide_implicit",
    "self_harm",
    "physical_abuse",
    "sexual_abuse",
    "domestic_violence",
    "neglect_alone",
    "missing",
    "abduction",
    "fire",
    "drowning",
    "poisoning",
    "bullying_threat",
    "medical_emergency",
}


def shortfalls(report: Report) -> list[str]:
    """What keeps ``report`` below the held-out floors; empty when it passes."""
    problems = []
    if report.recall < MIN_RECALL:
        missed = "\n".join(f"    {i.id} [{i.category}] {i.text}" for i in report.missed)
        problems.append(f"recall {report.recall:.1%} < {MIN_RECALL:.0%}; missed:\n{missed}")
    if report.false_alarm_rate > MAX_FALSE_ALARM_RATE:
        alarms = "\n".join(
            f"    {i.id} {i.text} -> {a.score:.1f} ({' | '.join(s.label for s in a.signals)})"
            for i, a in report.false_alarms
        )
        problems.append(f"false alarms {report.false_alarm_rate:.1%} > {MAX_FALSE_ALARM_RATE:.0%}:\n{alarms}")
    return problems


def test_held_out_bank_is_fresh_and_well_formed() -> None:
    danger, benign = load_bank(HELD_OUT)
    assert len(danger) >= 100 and len(benign) >= 50
    assert {i.category for i in danger} == LABELS, "every label needs held-out messages"
    ids = [i.id for i in danger + benign]
    assert len(ids) == len(set(ids)), "duplicate ids"
    texts = [normalise(i.text) for i in danger + benign]
    assert len(texts) == len(set(texts)), "duplicate messages"
    dev_danger, dev_benign = load_bank()
    seen = {normalise(i.text) for i in dev_danger + dev_benign}
    seen |= {
        normalise(t)
        for t in test_crisis.HELD_OUT_DANGER
        + test_crisis.HELD_OUT_BENIGN
        + test_crisis.EXTRA_DANGER
        + test_crisis.EXTRA_BENIGN
    }
    reused = [t for t in texts if t in seen]
    assert not reused, f"held-out messages already used elsewhere: {reused}"


def test_held_out_recall_and_false_alarms(safety_screen: SafetyScreen) -> None:
    danger, benign = load_bank(HELD_OUT)
    problems = shortfalls(evaluate(safety_screen, danger, benign))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("lexicon", "bias"), [("categories: {}\n", -30.0), ("categories: {}\n", 30.0)])
def test_the_floors_reject_a_screen_that_sees_nothing_or_everything(
    tmp_path: Path, safety_screen: SafetyScreen, lexicon: str, bias: float
) -> None:
    path = tmp_path / "lexicon.yml"
    path.write_text(lexicon, encoding="utf-8")
    blind = RiskModel(np.zeros(512, np.float32), np.zeros(1 << 15, np.float32), bias, 1.0, 1 << 15, {})
    screen = SafetyScreen(CrisisScreen.load(path), blind, ContextRules.load(), safety_screen.encoder)
    danger, benign = load_bank(HELD_OUT)
    assert shortfalls(evaluate(screen, danger, benign))
