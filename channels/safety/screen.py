"""The crisis screen: two independent signals combined, with context and the conversation's recent risk.

1. The lexicon (``crisis.py``): explains itself, catches the wordings it knows.
2. The learned model (``model.py``): the m3e sentence vector and character n-grams, for wordings no
   lexicon lists (dialect, English, pinyin, indirect).
A message is screened whole and clause by clause (a danger sentence after an ordinary policy question is
judged on its own); context markers move each clause's score; the strongest score of the last few user
messages, decayed, adds to the current one (earlier hopelessness plus a plan now).

Levels: ``urgent`` (emergency lines first, urgent ticket, console alert), ``concern`` (the answer plus a
gentle safety check, a high-priority ticket for staff review), ``none``. Every decision keeps its evidence.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from channels.safety.context import ContextRules, Signal
from channels.safety.crisis import CrisisScreen, normalise
from channels.safety.model import RiskModel, TextEncoder
from channels.settings import SCREEN_THREADS
from textnorm import standardise

Level = Literal["urgent", "concern", "none"]
_CLAUSES = re.compile(r"[。！？!?；;\n]+|(?:另外|还有|顺便|对了|其实|但是|可是)")
MIN_CLAUSE = 4


@dataclass(frozen=True)
class Assessment:
    level: Level
    score: float  # combined log-odds of the message (before the conversation's share)
    signals: tuple[Signal, ...] = field(default=())
    categories: tuple[str, ...] = field(default=())

    @property
    def probability(self) -> float:
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, self.score))))

    def evidence(self) -> list[dict[str, object]]:
        return [
            {"name": s.name, "label": s.label, "weight": round(s.weight, 2), "evidence": s.evidence}
            for s in self.signals
        ]


class SafetyScreen:
    """Usage example::

    screen = SafetyScreen(CrisisScreen.load(), RiskModel.load(), ContextRules.load(), encoder)
    screen.assess("他把自己关在房间两天了 饭也不吃")     # Assessment(level="urgent", ...)
    screen.assess("上个月有个伢溺水了 派出所已经处理了")   # Assessment(level="none", ...)
    """

    def __init__(self, lexicon: CrisisScreen, model: RiskModel, rules: ContextRules, encoder: TextEncoder) -> None:
        self.lexicon, self.model, self.rules, self.encoder = lexicon, model, rules, encoder

    def clauses(self, text: str) -> list[str]:
        parts = [p for p in _CLAUSES.split(text) if len(normalise(p)) >= MIN_CLAUSE]
        return [text, *parts] if len(parts) > 1 else [text]

    def assess(self, text: str, recent: list[float] | None = None) -> Assessment:
        """``recent``: the scores of the conversation's last user messages, newest first."""
        pieces = self.clauses(text)
        # One pass per piece: a batch would pad every clause to the whole message's length.
        vectors = self.encoder.embed_texts([standardise(p) for p in pieces], batch_size=1)
        logits = self.model.logits(vectors, [normalise(p) for p in pieces])
        best: tuple[float, list[Signal], tuple[str, ...]] | None = None
        for piece, logit in zip(pieces, logits, strict=True):
            score, signals, categories = self._score(piece, logit)
            if best is None or score > best[0]:
                best = (score, signals, categories)
        assert best is not None
        score, signals, categories = best
        total = score
        earlier = recent[: self.rules.turns] if recent else []
        if earlier and score >= self.rules.concern:
            carried = max(max(r * self.rules.decay ** (i + 1) for i, r in enumerate(earlier)), 0.0)
            if max(earlier) >= self.rules.concern and any(s.name in self.rules.escalating_signals for s in signals):
                carried += self.rules.escalation
            if carried > 0:
                total += carried
                signals = [*signals, Signal("conversation", self.rules.label("conversation"), round(carried, 2), "")]
        level: Level = "urgent" if total >= self.rules.urgent else "concern" if total >= self.rules.concern else "none"
        if level == "urgent" and not self._corroborated(signals, categories):
            level = "concern"
            signals = [*signals, Signal("single_signal", self.rules.label("single_signal"), 0.0, "")]
        return Assessment(level, score, tuple(signals), categories)

    def _corroborated(self, signals: list[Signal], categories: tuple[str, ...]) -> bool:
        """Two signals agree (the model and a lexicon hit or a strong raising marker), the model alone is nearly
        certain, or the conversation already carried risk; and no context says it is not happening now (unless a
        plan or a secret does)."""
        names = {s.name for s in signals}
        if names & self.rules.vetoed_by and not names & self.rules.veto_unless:
            return False
        model = next((s.weight for s in signals if s.name == "model"), 0.0)
        return (
            (bool(categories) and "lexicon" in self.rules.corroborating)
            or bool(names & self.rules.corroborating)
            or "conversation" in names
            or model >= self.rules.model_alone
        )

    def _score(self, piece: str, logit: float) -> tuple[float, list[Signal], tuple[str, ...]]:
        signals = [Signal("model", self.rules.label("model"), round(logit, 2), f"p={1 / (1 + math.exp(-logit)):.2f}")]
        hit = self.lexicon.check(piece)
        categories: tuple[str, ...] = ()
        score = logit
        if hit is not None:
            categories = hit.categories
            score += self.rules.lexicon_weight
            signals += [
                Signal(c, self.rules.label(c), self.rules.lexicon_weight, e)
                for c, e in zip(hit.categories, hit.evidence, strict=True)
            ]
        for signal in self.rules.signals(normalise(piece)):
            score += signal.weight
            signals.append(signal)
        return score, signals, categories


@lru_cache(maxsize=2)
def load_screen(encoder_dir: Path, threads: int = SCREEN_THREADS) -> SafetyScreen:
    """The screen with its encoder, loaded once per process (the gateway and its tests share it)."""
    from encoding.encoder import SentenceEncoder

    encoder = SentenceEncoder.load(encoder_dir, threads=threads)
    return SafetyScreen(CrisisScreen.load(), RiskModel.load(), ContextRules.load(), encoder)
