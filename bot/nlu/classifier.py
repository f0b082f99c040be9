"""Rasa graph component: the intent classifier of ``bot.nlu.linear`` (Rasa environment only).

It reads the sentence-level features every featurizer before it left on the message (character
and word counts, regexes, the m3e sentence vector), so DIET runs for entities only.

In ``config.yml``::

    - name: bot.nlu.classifier.LinearIntentClassifier
      c: 20
      dense_weight: 2.0
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy import sparse

from bot.nlu.linear import LinearIntentModel, LinearIntentParams, Matrix

RANKING_LENGTH = "ranking_length"


def _features(messages: list[Message]) -> tuple[sparse.csr_matrix | None, Matrix | None]:
    """Sentence-level counts and vectors of the messages (None when a featurizer left none)."""
    sentences = [(message.get_sparse_features(TEXT)[1], message.get_dense_features(TEXT)[1]) for message in messages]
    counts = [s.features for s, _ in sentences if s is not None]
    dense = [d.features for _, d in sentences if d is not None]
    return (
        sparse.csr_matrix(sparse.vstack(counts)) if len(counts) == len(messages) else None,
        np.vstack(dense).astype(np.float32) if len(dense) == len(messages) else None,
    )


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(IntentClassifier, GraphComponent):  # type: ignore[misc]
    @classmethod
    def required_components(cls) -> list[type]:
        return [Featurizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**asdict(LinearIntentParams()), RANKING_LENGTH: 10}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: LinearIntentModel | None = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        counts, dense = _features(examples)
        params = LinearIntentParams(**{k: self._config[k] for k in asdict(LinearIntentParams())})
        self._model = LinearIntentModel.fit(counts, dense, [e.get(INTENT) for e in examples], params)
        with self._model_storage.write_to(self._resource) as directory:
            self._model.save(Path(directory))
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        with model_storage.read_from(resource) as directory:
            model = LinearIntentModel.load(Path(directory))
        return cls(config, model_storage, resource, model)

    def process(self, messages: list[Message]) -> list[Message]:
        todo = [m for m in messages if m.get(TEXT) and m.features_present(TEXT)]
        if self._model is None or not todo:
            return messages
        probs = self._model.predict_proba(*_features(todo))
        labels = self._model.labels
        for message, row in zip(todo, probs, strict=True):
            order = np.argsort(-row)[: self._config[RANKING_LENGTH] or len(labels)]
            ranking = [{"name": labels[i], "confidence": float(row[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
