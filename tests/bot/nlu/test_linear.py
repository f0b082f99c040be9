"""bot/nlu/linear.py: fit, predict, and a round trip through files without pickle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from bot.nlu.linear import ARRAYS_FILE, LinearIntentModel, LinearIntentParams, design_matrix

LABELS = ["greet", "greet", "deny", "deny", "thank", "thank"]
COUNTS = sparse.csr_matrix(
    np.array([[3, 0, 0, 0], [1, 0, 0, 0], [0, 2, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 4, 0]], dtype=np.float64)
)
DENSE = np.eye(6, 3, dtype=np.float32)[[0, 0, 1, 1, 2, 2]]


def test_counts_are_log_scaled_and_unit_length_next_to_the_weighted_vector() -> None:
    x = design_matrix(sparse.csr_matrix([[4.0, 0.0, 1.0]]), np.array([[0.6, 0.8]], np.float32), 2.0).toarray()[0]
    counts = np.log1p([4.0, 0.0, 1.0])
    np.testing.assert_allclose(x[:3], counts / np.linalg.norm(counts))
    np.testing.assert_allclose(x[3:], [1.2, 1.6])


def test_an_empty_message_does_not_divide_by_zero() -> None:
    x = design_matrix(sparse.csr_matrix((1, 3)), None, 2.0)
    assert not np.isnan(x.toarray()).any()


def test_without_any_features_it_says_what_is_missing() -> None:
    with pytest.raises(ValueError, match="featurizer"):
        design_matrix(None, None, 1.0)


def test_learns_and_ranks_the_training_intents() -> None:
    model = LinearIntentModel.fit(COUNTS, DENSE, LABELS)
    probs = model.predict_proba(COUNTS, DENSE)
    assert [model.labels[i] for i in probs.argmax(1)] == LABELS
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    assert probs.max(1).min() > 0.45  # above the FallbackClassifier threshold in config.yml


def test_two_intents_still_give_a_distribution_over_both() -> None:
    model = LinearIntentModel.fit(COUNTS[:4], DENSE[:4], LABELS[:4])
    probs = model.predict_proba(COUNTS[:4], DENSE[:4])
    assert probs.shape == (4, 2) and [model.labels[i] for i in probs.argmax(1)] == LABELS[:4]


def test_a_single_intent_is_refused() -> None:
    with pytest.raises(ValueError, match="two intents"):
        LinearIntentModel.fit(COUNTS[:2], DENSE[:2], LABELS[:2])


def test_features_of_another_shape_are_refused() -> None:
    model = LinearIntentModel.fit(COUNTS, DENSE, LABELS)
    with pytest.raises(ValueError, match="columns"):
        model.predict_proba(COUNTS[:, :3], DENSE)


def test_save_and_load_give_the_same_predictions_without_pickle(tmp_path: Path) -> None:
    model = LinearIntentModel.fit(COUNTS, DENSE, LABELS, LinearIntentParams(c=5.0, dense_weight=1.5))
    model.save(tmp_path)
    loaded = LinearIntentModel.load(tmp_path)
    assert loaded.labels == model.labels and loaded.params == model.params
    np.testing.assert_allclose(loaded.predict_proba(COUNTS, DENSE), model.predict_proba(COUNTS, DENSE))
    with np.load(tmp_path / ARRAYS_FILE, allow_pickle=False) as arrays:
        assert sorted(arrays.files) == ["coef", "intercept"]
