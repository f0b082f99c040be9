"""Context around danger words, as data (``channels/data/crisis_context.zh.yml``): what lowers the risk of a
message (a past event already handled, news about others, a professional's question about procedure, a
precaution, a parent's status given as a screening answer) and what raises it (the child writing, now, a
plan with a time, a request for secrecy). Each marker that fires is kept as evidence for staff."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from channels.safety.crisis import normalise_pattern

DATA = Path(__file__).resolve().parent.parent / "data" / "crisis_context.zh.yml"


@dataclass(frozen=True)
class Marker:
    name: str
    label: str
    weight: float
    patterns: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class Signal:
    """One piece of evidence: what fired, its weight on the score, and the words it fired on."""

    name: str
    label: str
    weight: float
    evidence: str


@dataclass(frozen=True)
class ContextRules:
    markers: tuple[Marker, ...]
    urgent: float
    concern: float
    lexicon_weight: float
    turns: int
    decay: float
    escalation: float
    escalating_signals: frozenset[str]
    labels: dict[str, str]
    corroborating: frozenset[str] = frozenset()
    model_alone: float = float("inf")
    vetoed_by: frozenset[str] = frozenset()
    veto_unless: frozenset[str] = frozenset()

    @classmethod
    def load(cls, path: Path = DATA) -> ContextRules:
        data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        markers = tuple(
            Marker(
                name,
                spec["label"],
                float(spec["weight"]),
                tuple(re.compile(normalise_pattern(p)) for p in spec["patterns"]),
            )
            for side in ("lowering", "raising")
            for name, spec in data[side].items()
        )
        return cls(
            markers,
            float(data["thresholds"]["urgent"]),
            float(data["thresholds"]["concern"]),
            float(data["lexicon_weight"]),
            int(data["conversation"]["turns"]),
            float(data["conversation"]["decay"]),
            float(data["conversation"]["escalation"]),
            frozenset(data["conversation"]["escalating_signals"]),
            {str(k): str(v) for k, v in data["labels"].items()},
            frozenset(data["urgent_alarm"]["corroborating"]),
            float(data["urgent_alarm"]["model_alone"]),
            frozenset(data["urgent_alarm"]["vetoed_by"]),
            frozenset(data["urgent_alarm"]["unless"]),
        )

    def signals(self, normalised: str) -> list[Signal]:
        out = []
        for marker in self.markers:
            match = next((m for p in marker.patterns if (m := p.search(normalised))), None)
            if match:
                out.append(Signal(marker.name, marker.label, marker.weight, match.group(0)))
        return out

    def label(self, name: str) -> str:
        return self.labels.get(name, name)


@lru_cache(maxsize=1)
def risk_labels() -> dict[str, str]:
    """Chinese names of the screen's categories and signals, for hotline staff."""
    return ContextRules.load().labels
