"""A persistent cache of validated model outputs, keyed by everything that can change them.

Each result is written (and committed by SQLite, through diskcache) as soon as its call finishes,
so an interrupted run loses nothing and the next run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .backends import GenerationRequest
from .models import SCHEMA_VERSION


def default_cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("storyline"))


def call_key(model_identity: str, request: GenerationRequest, output_name: str) -> str:
    """Hash of the model's identity, the rendered prompt, the decoding parameters and schema."""
    material = json.dumps(
        {
            "schema_version": SCHEMA_VERSION,
            "output": output_name,
            "model": model_identity,
            "messages": request.messages,
            "json_schema": request.json_schema,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "seed": request.seed,
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class CallCache:
    """Validated JSON text of model calls, stored under ``directory/calls``."""

    def __init__(self, directory: str | Path):
        import diskcache

        self.directory = Path(directory)
        self._store = diskcache.Cache(str(self.directory / "calls"))

    def get(self, key: str) -> str | None:
        value = self._store.get(key)
        return value if isinstance(value, str) else None

    def set(self, key: str, text: str) -> None:
        self._store.set(key, text)

    def close(self) -> None:
        self._store.close()
