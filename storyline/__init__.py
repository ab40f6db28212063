"""storyline: merge news articles about one story into a dated, sourced timeline and summary.

    from storyline import summarize
    result = summarize(["seeds/"], model="path/to/model.gguf")

Names are loaded lazily so that ``import storyline`` stays fast and never imports llama_cpp.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "summarize": "storyline.pipeline",
    "Pipeline": "storyline.pipeline",
    "Options": "storyline.pipeline",
    "read_mentions": "storyline.mentions",
    "write_mentions": "storyline.mentions",
    "load_backend": "storyline.backends",
    "load_articles": "storyline.ingest",
    "chunk_article": "storyline.chunk",
    "split_sentences": "storyline.chunk",
    "resolve": "storyline.dates",
    "Article": "storyline.models",
    "ArticleInfo": "storyline.models",
    "Chunk": "storyline.models",
    "Conflict": "storyline.models",
    "DateSpan": "storyline.models",
    "Event": "storyline.models",
    "Mention": "storyline.models",
    "Result": "storyline.models",
    "Stats": "storyline.models",
    "StorylineError": "storyline.errors",
    "UnreliableAdjudicatorError": "storyline.errors",
    "ScriptedBackend": "storyline.backends.scripted",
}

if TYPE_CHECKING:
    from .backends import load_backend
    from .backends.scripted import ScriptedBackend
    from .chunk import chunk_article, split_sentences
    from .dates import resolve
    from .errors import StorylineError, UnreliableAdjudicatorError
    from .ingest import load_articles
    from .mentions import read_mentions, write_mentions
    from .models import Article, ArticleInfo, Chunk, Conflict, DateSpan, Event, Mention, Result, Stats
    from .pipeline import Options, Pipeline, summarize


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'storyline' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [  # noqa: RUF022 (kept in the order of _EXPORTS)
    "summarize",
    "Pipeline",
    "Options",
    "read_mentions",
    "write_mentions",
    "load_backend",
    "load_articles",
    "chunk_article",
    "split_sentences",
    "resolve",
    "Article",
    "ArticleInfo",
    "Chunk",
    "Conflict",
    "DateSpan",
    "Event",
    "Mention",
    "Result",
    "Stats",
    "StorylineError",
    "UnreliableAdjudicatorError",
    "ScriptedBackend",
]
