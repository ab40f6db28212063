"""One path for every model call: cache, constrained generation, validation, bounded retries.

The JSON schema handed to the backend comes from the same pydantic model that validates the
reply. A reply that fails validation is sent back with the errors (rendered by the ``retry``
prompt) and the model tries again, a bounded number of times (tenacity); the final failure
raises :class:`ExtractionRetryError` with the raw output and the attempt count.
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt

from .backends import Backend, GenerationRequest
from .cache import CallCache, call_key
from .errors import ExtractionRetryError
from .models import Stats
from .templating import PromptSet

log = logging.getLogger(__name__)
T = TypeVar("T", bound=BaseModel)


class _InvalidOutput(Exception):
    pass


def retrying(max_retries: int | Retrying) -> Retrying:
    """``max_retries`` as a count of extra attempts, or a tenacity ``Retrying`` used as given."""
    if isinstance(max_retries, Retrying):
        return max_retries.copy(retry=retry_if_exception_type(_InvalidOutput))
    return Retrying(
        stop=stop_after_attempt(max_retries + 1),
        retry=retry_if_exception_type(_InvalidOutput),
        before_sleep=lambda state: log.warning(
            "attempt %d gave invalid output; retrying", state.attempt_number
        ),
    )


def _error_lines(error: ValidationError) -> str:
    return "\n".join(
        f"- {'.'.join(str(p) for p in item['loc']) or 'reply'}: {item['msg']}" for item in error.errors()
    )


def structured_call(
    backend: Backend,
    request: GenerationRequest,
    output_type: type[T],
    *,
    stage: str,
    stats: Stats,
    prompts: PromptSet,
    cache: CallCache | None = None,
    max_retries: int | Retrying = 2,
    context: dict[str, Any] | None = None,
) -> T:
    """Run ``request`` (or take its cached result) and return the validated output."""
    stage_stats = stats.stage(stage)
    key = call_key(backend.identity, request, output_type.__name__) if cache else None
    if cache is not None and key is not None:
        cached = cache.get(key)
        if cached is not None:
            try:
                parsed = output_type.model_validate_json(cached, context=context)
            except ValidationError:
                log.warning("ignoring a cached %s result that no longer validates", stage)
            else:
                stats.cache_hits += 1
                stage_stats.cache_hits += 1
                return parsed

    current = request
    attempts = 0
    raw = ""
    parsed: T | None = None
    try:
        for attempt in retrying(max_retries):
            with attempt:
                attempts += 1
                generation = backend.generate(current)
                raw = generation.text
                stats.llm_calls += 1
                stats.prompt_tokens_evaluated += generation.prompt_tokens_evaluated
                stats.completion_tokens += generation.completion_tokens
                stage_stats.calls += 1
                stage_stats.prompt_tokens_evaluated += generation.prompt_tokens_evaluated
                stage_stats.completion_tokens += generation.completion_tokens
                stage_stats.seconds += generation.seconds
                try:
                    parsed = output_type.model_validate_json(raw, context=context)
                except ValidationError as error:
                    feedback = prompts.render_text("retry", error=_error_lines(error))
                    current = request.model_copy(
                        update={"messages": (*request.messages, ("assistant", raw), ("user", feedback))}
                    )
                    raise _InvalidOutput(str(error)) from error
    except (RetryError, _InvalidOutput) as failure:
        stats.retries += attempts - 1
        stage_stats.retries += attempts - 1
        raise ExtractionRetryError(
            f"The model's {stage} output was invalid after {attempts} attempt(s): {failure}",
            raw_output=raw,
            attempts=attempts,
        ) from None
    stats.retries += attempts - 1
    stage_stats.retries += attempts - 1
    assert parsed is not None
    if cache is not None and key is not None:
        cache.set(key, parsed.model_dump_json())
    return parsed
