"""Token counting: the loaded model's own tokenizer, or tiktoken's cl100k_base without a model."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import cached_property
from typing import Protocol, runtime_checkable

from .errors import StorylineError

_CHARS_PER_THREAD = 200_000


def chat_prompt_tokens(count: Callable[[str], int], messages: tuple[tuple[str, str], ...]) -> int:
    """Estimated tokens of chat messages without a model's template: each turn's content plus
    the four tokens of ChatML framing around it, and three for the assistant header."""
    return sum(count(content) + 4 for _, content in messages) + 3


@runtime_checkable
class Tokenizer(Protocol):
    name: str

    def count_many(self, texts: list[str]) -> list[int]:
        """Token counts of each text, without special tokens."""
        ...


class WordTokenizer:
    """Words and single punctuation marks as tokens: a rough count that needs no model and no
    download (the scripted test backend's default; real tokenizers give somewhat more)."""

    name = "words"
    _TOKEN = re.compile(r"\w+|[^\w\s]")

    def count_many(self, texts: list[str]) -> list[int]:
        findall = self._TOKEN.findall
        return [len(findall(text)) for text in texts]

    def count(self, text: str) -> int:
        return len(self._TOKEN.findall(text))


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
        # tiktoken releases the GIL, so large batches are spread over the cores; small ones run
        # in a plain loop, as threads would cost more than they save.
        workers = min(os.cpu_count() or 1, sum(map(len, texts)) // _CHARS_PER_THREAD)
        if workers > 1:
            # One contiguous slice per core (tiktoken's own batch call makes a task per text).
            from concurrent.futures import ThreadPoolExecutor

            size = -(-len(texts) // workers)
            slices = [texts[i : i + size] for i in range(0, len(texts), size)]
            with ThreadPoolExecutor(workers) as pool:
                return [n for part in pool.map(self._count_slice, slices) for n in part]
        return self._count_slice(texts)

    def _count_slice(self, texts: list[str]) -> list[int]:
        encode = self._encoding.encode_ordinary
        return [len(encode(text)) for text in texts]

    def count(self, text: str) -> int:
        return len(self._encoding.encode_ordinary(text))


class EstimateVocabulary:
    """Planning without a model: tiktoken's counts (a plain word count where tiktoken's encoding
    cannot be had offline), ChatML framing and a nominal window."""

    def __init__(self, context_window: int | None = None):
        self.name = "no model"
        tiktoken = TiktokenTokenizer()
        try:
            tiktoken.count("probe")
            self.tokenizer: Tokenizer = tiktoken
        except StorylineError:
            self.tokenizer = WordTokenizer()
        self.context_window = context_window or 8192

    def count_prompt_tokens(self, messages: tuple[tuple[str, str], ...]) -> int:
        return chat_prompt_tokens(lambda text: self.tokenizer.count_many([text])[0], messages)


def estimate_vocabulary(context_window: int | None = None) -> EstimateVocabulary:
    return EstimateVocabulary(context_window)
