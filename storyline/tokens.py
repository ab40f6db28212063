"""Token counting: the loaded model's own tokenizer, or tiktoken's cl100k_base without a model."""

from __future__ import annotations

from functools import cached_property
from typing import Protocol, runtime_checkable

from .errors import StorylineError


@runtime_checkable
class Tokenizer(Protocol):
    name: str

    def count_many(self, texts: list[str]) -> list[int]:
        """Token counts of each text, without special tokens."""
        ...


class TiktokenTokenizer:
    """cl100k_base: a close stand-in for a model's tokenizer when no model is loaded.

    tiktoken downloads the encoding on first use and caches it (``TIKTOKEN_CACHE_DIR``).
    """

    name = "tiktoken:cl100k_base"

    @cached_property
    def _encoding(self):
        import tiktoken

        try:
            return tiktoken.get_encoding("cl100k_base")
        except Exception as error:  # network or cache failure surfaces as many exception types
            raise StorylineError(
                "tiktoken could not load its cl100k_base encoding (it downloads it on first use). "
                "Connect to the network once, or point TIKTOKEN_CACHE_DIR at a folder holding the "
                f"cached encoding file. ({error})"
            ) from error

    def count_many(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        return [len(tokens) for tokens in self._encoding.encode_ordinary_batch(texts, num_threads=2)]

    def count(self, text: str) -> int:
        return len(self._encoding.encode_ordinary(text))
