"""The small interface every model backend implements, and the factory that picks one.

A backend turns chat messages plus a JSON schema into constrained JSON text and reports what it
cost. It knows its context window and tokenizer so the pipeline can budget chunks. Each backend
declares its own settings as a pydantic model (unknown names are refused); :func:`load_backend`
turns a model spec and a dict of settings into a backend, so the pipeline never knows one
backend's settings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InputError
from ..tokens import Tokenizer


class GenerationRequest(BaseModel):
    """One model call. Everything here goes into the cache key."""

    model_config = ConfigDict(frozen=True)

    messages: tuple[tuple[str, str], ...] = Field(description="(role, content) pairs")
    json_schema: dict[str, Any]
    max_tokens: int
    temperature: float = 0.0
    seed: int = 0


class Generation(BaseModel):
    """What one call produced and cost, by the backend's own counters.

    ``finish_reason`` is ``"stop"`` when the reply ended by itself, ``"length"`` when it hit
    ``max_tokens`` and ``"loop"`` when the backend stopped it for repeating itself
    (``repeating``); in both latter cases the reply is cut off.
    """

    text: str
    prompt_tokens: int = 0
    prompt_tokens_evaluated: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    finish_reason: str = "stop"


class ChoiceReading(BaseModel):
    """A backend's reading of which of a few answers the model would give next (``ChoiceReader``)."""

    logprobs: tuple[float, ...] = Field(description="per answer, the log-probability of the token where it parts "
                                        "from the others")
    prompt_tokens: int = 0
    prompt_tokens_evaluated: int = 0
    seconds: float = 0.0

    def as_generation(self) -> Generation:
        """The reading's cost in the terms of a generation (no tokens generated), for the stats."""
        return Generation(text="", prompt_tokens=self.prompt_tokens,
                          prompt_tokens_evaluated=self.prompt_tokens_evaluated, seconds=self.seconds)


@runtime_checkable
class ChoiceReader(Protocol):
    """A backend that can read a model's answer as probabilities: one forward pass over the
    prompt and the reply's forced opening, then the next token's log-probability for each
    answer. For a yes-or-no question that is the whole decision (the likelier answer is what a
    greedy constrained reply would write), without generating or parsing a reply. Optional: a
    server's chat API cannot begin the reply for the model, so only the in-process backend
    reads choices; callers fall back on ``generate``."""

    def read_choice(self, messages: tuple[tuple[str, str], ...], reply_start: str,
                    answers: tuple[str, ...]) -> ChoiceReading:
        """``answers`` must part at one token (" true", " false"): each one's log-probability is
        that of its own token there."""
        ...


LOOP_TOKENS = 64
LOOP_PERIOD = 4


def repeating(tokens: list[int], window: int = LOOP_TOKENS, period: int = LOOP_PERIOD) -> bool:
    """Whether a reply has fallen into a loop: its last ``window`` tokens are one unit of at most
    ``period`` tokens over and over ("ososos...", "!!!!").

    A greedy small model that loses its place inside a free-text string (the summary's sentences,
    whose length the grammar cannot bound cheaply) can repeat a syllable until the token limit,
    and then again with the limit doubled: on the H1N1 articles the 1.5B model spent five
    minutes writing "os" 1,100 times. No reply the prompts ask for repeats so short a unit so
    often, so the loop is cut at once. Written here because sampling libraries offer penalties,
    which change every reply, not a stop for this one failure.
    """
    if len(tokens) < window + period:
        return False
    tail = tokens[-window:]
    return any(tail == tokens[-window - step:-step] for step in range(1, period + 1))


@runtime_checkable
class Backend(Protocol):
    """A model that produces JSON constrained by a schema."""

    @property
    def identity(self) -> str:
        """Stable, cheap identifier of everything that shapes the output: the weights, the
        engine's version, sampling settings outside the request (part of every cache key)."""
        ...

    @property
    def name(self) -> str:
        """What to call the model in output and messages (a file name, a server's model)."""
        ...

    @property
    def context_window(self) -> int: ...

    @property
    def tokenizer(self) -> Tokenizer: ...

    parallel: int
    """How many calls the backend serves at once (1: calls are serialised)."""

    counts: str
    """Where its token counts come from, for ``meta.stats`` ("counted by llama.cpp",
    "reported by the server", "estimated ...")."""

    def count_prompt_tokens(self, messages: tuple[tuple[str, str], ...]) -> int:
        """Exact tokens of the messages once formatted for the model, generation prompt included."""
        ...

    def generate(self, request: GenerationRequest, progress: Callable[[int], None] | None = None) -> Generation:
        """The reply to ``request``. ``progress``, if given, may be called with the number of tokens
        generated so far (backends that cannot tell ignore it)."""
        ...


class Vocabulary(Protocol):
    """What planning needs without loading a model: the tokenizer, prompt counts and the window."""

    name: str
    context_window: int
    tokenizer: Tokenizer

    def count_prompt_tokens(self, messages: tuple[tuple[str, str], ...]) -> int: ...


OptionsModel = TypeVar("OptionsModel", bound=BaseModel)


def parse_options(model: type[OptionsModel], options: Mapping[str, Any] | None, backend: str) -> OptionsModel:
    """A backend's settings from a dict, or an :class:`InputError` naming the valid ones."""
    try:
        return model.model_validate(dict(options or {}))
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'options'}: {e['msg']}" for e in error.errors())
        known = ", ".join(model.model_fields)
        raise InputError(f"Invalid option for the {backend} backend ({problems}). Its options are: {known}.") from None


def is_server(spec: str | None) -> bool:
    """Whether a model spec is the address of an OpenAI-compatible server."""
    return bool(spec) and spec.startswith(("http://", "https://"))  # type: ignore[union-attr]


def load_backend(spec: str | None, options: Mapping[str, Any] | None = None, *,
                 cache_dir: Path | None = None) -> Backend:
    """The backend for a model spec: a ``.gguf`` path, a Hugging Face reference
    ``owner/repo:file.gguf``, or the ``http(s)://HOST:PORT/v1`` address of an OpenAI-compatible
    server (default: ``$STORYLINE_MODEL``, else the default model). ``options`` are the
    backend's own settings. ``cache_dir`` is where a backend may keep state between runs (None:
    keep nothing)."""
    from ..modelref import describe_choice, resolve_model

    choice = describe_choice(spec)
    if is_server(choice):
        from .server import ServerBackend, ServerOptions

        return ServerBackend(choice, parse_options(ServerOptions, options, "server"))
    from .llama import LlamaCppBackend, LlamaOptions

    settings = parse_options(LlamaOptions, options, "llama.cpp")
    return LlamaCppBackend(resolve_model(spec), settings, state_dir=cache_dir / "prefix" if cache_dir else None)


def load_vocabulary(spec: str, options: Mapping[str, Any] | None = None) -> Vocabulary:
    """A model's tokenizer and window without its weights (for ``--dry-run``); a server is asked."""
    if is_server(spec):
        return load_backend(spec, options)
    from ..modelref import resolve_model
    from .llama import LlamaOptions, LlamaVocabulary

    return LlamaVocabulary(resolve_model(spec), parse_options(LlamaOptions, options, "llama.cpp"))
