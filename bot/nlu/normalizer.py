"""Rasa graph component: standardise the user's text before tokenising (Rasa environment).

Traditional script, full-width characters, Hubei / south-western Mandarin words and voice-typing errors are
rewritten into the standard words the training data and the documents use (``textnorm``), so that
"伢他爸服行三年 克哪里申请" reaches the classifiers as "孩子他爸服刑三年去哪里申请". The same rewrite runs
before the fact reader and retrieval in the action server.

In ``config.yml``, first in the pipeline::

    - name: bot.nlu.normalizer.TextNormalizer
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from textnorm import standardise


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class TextNormalizer(GraphComponent):  # type: ignore[misc]
    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TextNormalizer:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            if message.get(TEXT):
                message.set(TEXT, standardise(message.get(TEXT)))
                # Entity offsets point into the original text; no entity extractor runs in this pipeline.
                message.set(ENTITIES, [])
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if message.get(TEXT):
                message.set(TEXT, standardise(message.get(TEXT)))
        return messages
