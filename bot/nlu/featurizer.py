"""Rasa graph component: dense m3e-small features for the user's text (Rasa environment only).

Character n-grams alone cannot tell "孩子喝了农药" (danger) from "种子化肥哪里买" (out of
scope) or "补贴从什么时候开始发" (a policy question) when the words were never seen in
training; a sentence encoder trained on Chinese paraphrases can. Training copies the exported
encoder (ONNX, ``encoding/``) into the model archive, so a trained model needs nothing outside itself to run.

In ``config.yml``::

    - name: bot.nlu.featurizer.EncoderFeaturizer
      model_dir: .build/encoder/m3e-small   # written by `python -m encoding.export`
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from encoding.encoder import FILES, SentenceEncoder, check_files

MODEL_DIR = "model_dir"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class EncoderFeaturizer(DenseFeaturizer, GraphComponent):  # type: ignore[misc]
    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), MODEL_DIR: None}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        pass

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
        encoder: SentenceEncoder | None = None,
    ) -> None:
        super().__init__(name, config)
        self._model_storage = model_storage
        self._resource = resource
        self._encoder = encoder

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EncoderFeaturizer:
        return cls(config, execution_context.node_name, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        if not self._config[MODEL_DIR]:
            raise InvalidConfigException(f"{type(self).__name__} needs '{MODEL_DIR}' (see bot/nlu/featurizer.py)")
        source = Path(self._config[MODEL_DIR])
        check_files(source)  # fail here, with the fix in the message, not at serving time
        with self._model_storage.write_to(self._resource) as target:
            for name in FILES:
                shutil.copyfile(source / name, Path(target) / name)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> EncoderFeaturizer:
        with model_storage.read_from(resource) as directory:
            encoder = SentenceEncoder.load(directory)
        return cls(config, execution_context.node_name, model_storage, resource, encoder)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        if self._encoder is None:
            raise RuntimeError(f"{type(self).__name__} was used before it was trained or loaded")
        todo = [(m, tokens) for m in messages if (tokens := m.get(TOKENS_NAMES[TEXT]))]
        vectors = self._encoder.embed_token_batches([[t.text for t in tokens] for _, tokens in todo])
        for (message, _), (sequence, sentence) in zip(todo, vectors, strict=True):
            self.add_features_to_message(sequence, sentence, TEXT, message)
        return messages
