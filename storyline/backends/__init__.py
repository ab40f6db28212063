"""The small interface every model backend implements.

A backend turns chat messages plus a JSON schema into constrained JSON text and reports what it
cost. It knows its context window and tokenizer so the pipeline can budget chunks. Keep it small:
an HTTP server backend should need nothing more than these members.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

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
    """What one call produced and cost, by the backend's own counters."""

    text: str
    prompt_tokens: int = 0
    prompt_tokens_evaluated: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    finish_reason: str = "stop"


@runtime_checkable
class Backend(Protocol):
    """A model that produces JSON constrained by a schema."""

    @property
    def identity(self) -> str:
        """Stable, cheap identifier of the model's weights (part of every cache key)."""
        ...

    @property
    def context_window(self) -> int: ...

    @property
    def tokenizer(self) -> Tokenizer: ...

    def count_prompt_tokens(self, messages: tuple[tuple[str, str], ...]) -> int:
        """Exact tokens of the messages once formatted for the model, generation prompt included."""
        ...

    def generate(self, request: GenerationRequest) -> Generation: ...
