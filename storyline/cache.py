"""A persistent cache of validated model outputs, keyed by everything that can change them.

Each result is written (and committed by SQLite, through diskcache) as soon as its call finishes,
so an interrupted run loses nothing and the next run resumes where it stopped. A damaged cache
is moved aside (and the run says so) instead of stopping the run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

from .backends import GenerationRequest
from .errors import InputError
from .models import SCHEMA_VERSION

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("storyline"))


def call_key(model_identity: str, request: GenerationRequest, output_name: str,
             extra: dict[str, Any] | None = None) -> str:
    """Hash of the model's identity (weights, engine version, sampling settings), the rendered
    prompt, the decoding parameters and schema, and ``extra`` (what else the result depends on,
    such as the retry prompt and the number of retries). At temperature 0 decoding is greedy and
    the seed changes nothing, so it is left out: runs with another seed reuse the results."""
    material = json.dumps(
        {
            "schema_version": SCHEMA_VERSION,
            "output": output_name,
            "model": model_identity,
            "messages": request.messages,
            "json_schema": request.json_schema,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "seed": request.seed if request.temperature > 0 else None,
            "extra": extra or {},
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class CallCache:
    """Validated JSON text of model calls, stored under ``directory/calls``.

    ``recovered`` is a message for the user when a damaged cache was moved aside. Runs may share
    a cache folder: a database another run holds locked is waited for (diskcache retries for a
    minute), then refused with a message; it is never taken for a damaged one.
    """

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.recovered: str | None = None
        store = self.directory / "calls"
        try:
            self._store = self._open(store)
            self._store.get("")  # reads the database: a damaged file fails here, not mid-run
        except sqlite3.OperationalError as error:  # locked, busy, unreadable: the file may be sound
            raise InputError(
                f"The cache in {store} cannot be opened ({error}); another storyline run may be writing to "
                "it and held it for more than a minute. Run again when it has finished, or give "
                "another folder with --cache-dir, or run with --no-cache."
            ) from None
        except (sqlite3.DatabaseError, ValueError):
            aside = store.with_name(f"calls.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
            store.rename(aside)
            self.recovered = (f"The cache in {store} was damaged; it was moved to {aside} and a new one started "
                              "(earlier results will be computed again). Delete the old one when you like.")
            log.warning("%s", self.recovered)
            self._store = self._open(store)

    def _open(self, store: Path):
        import diskcache

        try:
            return diskcache.Cache(str(store))
        except (sqlite3.DatabaseError, ValueError):
            raise
        except OSError as error:
            raise InputError(
                f"The cache folder {self.directory} cannot be used ({error.strerror or error}). Give another "
                "one with --cache-dir, or run with --no-cache."
            ) from None

    def get(self, key: str) -> str | None:
        try:
            value = self._store.get(key)
        except sqlite3.DatabaseError as error:
            log.warning("could not read the cache (%s); computing the result again", error)
            return None
        return value if isinstance(value, str) else None

    def set(self, key: str, text: str) -> None:
        try:
            self._store.set(key, text)
        except sqlite3.DatabaseError as error:
            log.warning("could not write to the cache (%s); the result is not kept", error)

    def close(self) -> None:
        self._store.close()
