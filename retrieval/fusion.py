"""Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009).

https://plg.uwaterloo.ca/~gvcormac/cormacksigir09-rrf.pdf — each ranked list contributes
``weight / (k + rank)`` to an item; items are returned by total, best first.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def reciprocal_rank_fusion(
    rankings: Mapping[str, Sequence[K]],
    *,
    k: int = 60,
    weights: Mapping[str, float] | None = None,
) -> list[tuple[K, float]]:
    """Fuse named rankings (best first, no duplicates inside one list) into ``(item, score)`` pairs."""
    totals: dict[K, float] = {}
    for name, ranking in rankings.items():
        weight = 1.0 if weights is None else weights.get(name, 1.0)
        for rank, item in enumerate(ranking, start=1):
            totals[item] = totals.get(item, 0.0) + weight / (k + rank)
    return sorted(totals.items(), key=lambda pair: (-pair[1], str(pair[0])))


def dedupe(items: Sequence[K]) -> list[K]:
    """First occurrence of each item, order kept (collapse chunk rankings to document rankings)."""
    seen: set[K] = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out
