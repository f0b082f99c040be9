"""Typed settings of the retrieval layer (environment variables prefixed ``TONGXIN_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from knowledge_base import KB_ROOT
from retrieval.dense import DEFAULT_HNSW_THRESHOLD
from retrieval.embedder import DEFAULT_MODEL

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class RetrievalSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TONGXIN_", extra="ignore")

    kb_dir: Path = KB_ROOT
    index_dir: Path = PROJECT_ROOT / "var" / "index"
    embedding_model: str = Field(DEFAULT_MODEL, description="'m3e-small' (bundled), a folder, or a hub name")
    # The model exported to ONNX (`make build`: python -m encoding.export); used when it is that model.
    encoder_dir: Path = PROJECT_ROOT / ".build" / "encoder" / "m3e-small"
    hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD
    calibration_file: Path = Path(__file__).resolve().parent / "data" / "calibration.json"
