from __future__ import annotations

import pytest

from retrieval.fusion import dedupe, reciprocal_rank_fusion


def test_rrf_sums_reciprocal_ranks() -> None:
    fused = dict(reciprocal_rank_fusion({"a": ["x", "y"], "b": ["y", "z"]}, k=60))
    assert fused["y"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["x"] == pytest.approx(1 / 61)
    assert fused["z"] == pytest.approx(1 / 62)


def test_rrf_orders_best_first_and_breaks_ties_deterministically() -> None:
    fused = reciprocal_rank_fusion({"a": ["x", "y"], "b": ["y", "x"]})
    assert [item for item, _ in fused] == ["x", "y"]  # equal scores: stable by name
    assert fused[0][1] == fused[1][1]


def test_an_item_found_by_both_lists_beats_one_found_by_one() -> None:
    fused = reciprocal_rank_fusion({"dense": ["solo", "both"], "sparse": ["both"]})
    assert fused[0][0] == "both"


def test_weights_scale_a_list() -> None:
    fused = reciprocal_rank_fusion({"a": ["x"], "b": ["y"]}, weights={"a": 0.5})
    assert [item for item, _ in fused] == ["y", "x"]


def test_dedupe_keeps_first_occurrence() -> None:
    assert dedupe(["a", "b", "a", "c", "b"]) == ["a", "b", "c"]
