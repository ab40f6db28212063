"""One path for every model call: cache, constrained generation, validation, bounded retries.

The JSON schema handed to the backend comes from the same pydantic model that validates the
reply. A reply that fails validation is sent back with the errors (rendered by the ``retry``
prompt) and the model tries again, a bounded number of times (tenacity); the final failure
raises :class:`ExtractionRetryError` with the last validation error, the raw output and the
attempt count. A reply cut off by the token limit is not invalid output: it is retried once
with a higher limit, and if it is cut off again :class:`TruncatedOutputError` lets the caller
decide (extraction splits the chunk). A choice between a few answers can instead be read as
probabilities where the backend can (``read_choice``), cached the same way.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from .backends import Backend, ChoiceReader, ChoiceReading, Generation, GenerationRequest
from .cache import CallCache, call_key
from .calllog import CallLog
from .errors import ExtractionRetryError, TruncatedOutputError
from .models import Stats
from .templating import PromptSet

log = logging.getLogger(__name__)
T = TypeVar("T", bound=BaseModel)


class _InvalidOutput(Exception):
    def __init__(self, error: ValidationError, raw: str):
        super().__init__(str(error))
        self.error = error
        self.raw = raw


def retrying(max_retries: int | Retrying) -> Retrying:
    """``max_retries`` as a count of extra attempts, or a tenacity ``Retrying`` used as given.
    The last invalid output is re-raised when attempts run out."""
    if isinstance(max_retries, Retrying):
        return max_retries.copy(retry=retry_if_exception_type(_InvalidOutput), reraise=True)
    return Retrying(
        stop=stop_after_attempt(max_retries + 1),
        retry=retry_if_exception_type(_InvalidOutput),
        reraise=True,
        before_sleep=lambda state: log.info("attempt %d gave invalid output; retrying", state.attempt_number),
    )


def stop_key(stop: Any) -> Any:
    """A tenacity stop condition as stable data for cache keys: its kind and settings
    (``stop_after_attempt(3)`` is ``["stop_after_attempt", {"max_attempt_number": 3}]``), never
    its ``repr``, which holds a memory address and so would never match in another process."""
    stops = getattr(stop, "stops", None)
    if stops is not None:  # stop_any, stop_all
        return [type(stop).__name__, [stop_key(inner) for inner in stops]]
    settings = {key: value for key, value in sorted(vars(stop).items()) if isinstance(value, int | float | str)}
    return [type(stop).__name__, settings]


def error_lines(error: ValidationError, limit: int = 8) -> str:
    lines = [f"- {'.'.join(str(p) for p in item['loc']) or 'reply'}: {item['msg']}" for item in error.errors()]
    more = len(lines) - limit
    return "\n".join(lines[:limit] + ([f"- ... and {more} more"] if more > 0 else []))


_STATS = threading.Lock()
"""Calls may run on several threads (a model server); counters are updated one at a time."""


def _record(stats: Stats, stage: str, generation: Generation) -> None:
    with _STATS:
        _add(stats, stage, generation)


def _add(stats: Stats, stage: str, generation: Generation) -> None:
    stage_stats = stats.stage(stage)
    stats.llm_calls += 1
    stats.prompt_tokens_evaluated += generation.prompt_tokens_evaluated
    stats.completion_tokens += generation.completion_tokens
    stage_stats.calls += 1
    stage_stats.prompt_tokens_evaluated += generation.prompt_tokens_evaluated
    stage_stats.completion_tokens += generation.completion_tokens
    stage_stats.seconds += generation.seconds


def _count(stats: Stats, stage: str, counter: str, amount: int = 1) -> None:
    with _STATS:
        setattr(stats, counter, getattr(stats, counter) + amount)
        stage_stats = stats.stage(stage)
        setattr(stage_stats, counter, getattr(stage_stats, counter) + amount)


def generate_whole(backend: Backend, request: GenerationRequest, *, stage: str, stats: Stats,
                   progress: Callable[[int], None] | None = None, call_log: CallLog | None = None) -> Generation:
    """A generation that ended by itself: one that hits the token limit is run again once with
    the limit doubled (as far as the context window allows), then given up as truncated. One the
    backend stopped in a loop is given up at once: more room would only hold more of the loop.
    Each generation is written to ``call_log``."""

    def generated(request: GenerationRequest) -> Generation:
        generation = backend.generate(request, progress)
        _record(stats, stage, generation)
        if call_log is not None:
            call_log.record(stage, backend.name, request, generation)
        return generation

    generation = generated(request)
    if generation.finish_reason == "stop":
        return generation
    _count(stats, stage, "truncated")
    room = backend.context_window - backend.count_prompt_tokens(request.messages)
    larger = min(2 * request.max_tokens, room)
    if generation.finish_reason == "length" and larger > request.max_tokens:
        log.info("a %s reply reached its limit of %d tokens; trying once with %d", stage, request.max_tokens, larger)
        request = request.model_copy(update={"max_tokens": larger})
        generation = generated(request)
        if generation.finish_reason == "stop":
            return generation
        _count(stats, stage, "truncated")
    if generation.finish_reason == "loop":
        message = f"The model's {stage} reply fell into a loop (it ended {generation.text[-24:]!r}) and was stopped."
    else:
        message = f"The model's {stage} reply did not fit in {request.max_tokens} tokens."
    raise TruncatedOutputError(message, raw_output=generation.text, max_tokens=request.max_tokens)


def _from_cache(cache: CallCache, key: str, parse: Callable[[str], T], stage: str, stats: Stats) -> T | None:
    """The cached result under ``key``, parsed and counted as a cache hit; None if there is none
    or it no longer validates."""
    cached = cache.get(key)
    if cached is None:
        return None
    try:
        parsed = parse(cached)
    except ValidationError:
        log.warning("ignoring a cached %s result that no longer validates", stage)
        return None
    _count(stats, stage, "cache_hits")
    return parsed


def _retry_request(backend: Backend, request: GenerationRequest, raw: str, feedback: str) -> GenerationRequest:
    """The request asked again after an invalid reply: the reply and the feedback on it appended,
    or, when that would not leave the reply its tokens in the context window (a long reply to a
    long prompt), the feedback alone, so a retry never overflows a window the first attempt fitted."""
    messages = (*request.messages, ("assistant", raw), ("user", feedback))
    if backend.count_prompt_tokens(messages) + request.max_tokens > backend.context_window:
        messages = (*request.messages, ("user", feedback))
    return request.model_copy(update={"messages": messages})


def structured_call(
    backend: Backend,
    request: GenerationRequest,
    output_type: type[T],
    *,
    stage: str,
    stats: Stats,
    prompts: PromptSet,
    cache: CallCache | None = None,
    cache_extra: dict[str, Any] | None = None,
    max_retries: int | Retrying = 2,
    context: dict[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
    call_log: CallLog | None = None,
) -> T:
    """Run ``request`` (or take its cached result) and return the validated output. ``progress``
    is passed to the backend (tokens generated so far).

    ``cache_extra`` holds what else the result depends on (the retry prompt, the retry count);
    it goes into the cache key with the request. Every generation, and a result the cache gave,
    is written to ``call_log``.
    """
    with _STATS:
        stats.stage(stage)  # listed in the stats even if every result comes from the cache
    key = call_key(backend.identity, request, output_type.__name__, cache_extra) if cache else None
    if cache is not None and key is not None:
        found = _from_cache(cache, key, lambda text: output_type.model_validate_json(text, context=context),
                            stage, stats)
        if found is not None:
            if call_log is not None:
                call_log.record(stage, backend.name, request, cached_reply=found.model_dump_json(by_alias=True))
            return found

    current = request
    attempts = 0
    try:
        for attempt in retrying(max_retries):
            with attempt:
                attempts += 1
                raw = generate_whole(backend, current, stage=stage, stats=stats, progress=progress,
                                     call_log=call_log).text
                try:
                    parsed = output_type.model_validate_json(raw, context=context)
                except ValidationError as error:
                    feedback = prompts.render_text("retry", error=error_lines(error))
                    current = _retry_request(backend, request, raw, feedback)
                    raise _InvalidOutput(error, raw) from error
    except _InvalidOutput as failure:
        _count(stats, stage, "retries", attempts - 1)
        first_problem = error_lines(failure.error, limit=1).removeprefix("- ")
        raise ExtractionRetryError(
            f"The model's {stage} output was invalid after {attempts} attempt(s); the last problem: {first_problem}",
            raw_output=failure.raw, attempts=attempts, last_error=failure.error,
        ) from None
    _count(stats, stage, "retries", attempts - 1)
    if cache is not None and key is not None:
        cache.set(key, parsed.model_dump_json(by_alias=True))
    return parsed


def read_choice(backend: ChoiceReader, messages: tuple[tuple[str, str], ...], reply_start: str,
                answers: tuple[str, ...], *, identity: str, stage: str, stats: Stats,
                cache: CallCache | None = None) -> ChoiceReading:
    """The backend's reading of which answer comes next (or the cached one), counted in ``stats``
    as a call of ``stage`` that generated nothing."""
    with _STATS:
        stats.stage(stage)
    request = GenerationRequest(messages=messages, json_schema={"reply_start": reply_start, "answers": answers},
                                max_tokens=0)
    key = call_key(identity, request, ChoiceReading.__name__) if cache is not None else None
    if cache is not None and key is not None:
        found = _from_cache(cache, key, ChoiceReading.model_validate_json, stage, stats)  # answers are in the key
        if found is not None:
            return found
    reading = backend.read_choice(messages, reply_start, answers)
    _record(stats, stage, reading.as_generation())
    if cache is not None and key is not None:
        cache.set(key, reading.model_dump_json())
    return reading


# --- one object for a run's model calls -----------------------------------------------------------


@dataclass
class RunState:
    """What one run counts and warns about: a new one for each run, so a Result keeps its own."""

    stats: Stats = field(default_factory=Stats)
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        """A warning for the result, logged the moment it happens (the CLI shows it on stderr)."""
        log.warning("warning: %s", message)
        self.warnings.append(message)


@dataclass(frozen=True)
class CallSettings:
    """How a run asks: sampling, retries, how many calls at once, whether to show a bar."""

    temperature: float = 0.0
    seed: int = 0
    max_retries: int | Retrying = 2
    parallel: int | None = None
    progress: bool = False


class ModelCalls:
    """Every model call of a run: the backend (loaded by ``load`` on first use, unless one was
    given), the cache, the prompts, the retry policy and the run's counters (``state``).
    Stages ask through :meth:`call`, :meth:`request` and :meth:`concurrently`; none of them
    knows a backend's own settings. Calls are written to ``call_log`` (``storyline log``)."""

    def __init__(self, load: Callable[[], Backend], prompts: PromptSet, cache: CallCache | None,
                 settings: CallSettings, *, backend: Backend | None = None, call_log: CallLog | None = None):
        self._load, self._backend = load, backend
        self.owns_backend = backend is None
        self.prompts, self.cache, self.settings, self.call_log = prompts, cache, settings, call_log
        self.state = RunState()

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = self._load()
        return self._backend

    @property
    def loaded(self) -> Backend | None:
        """The backend if it is loaded (a dry run and a rerender never load one)."""
        return self._backend

    @property
    def stats(self) -> Stats:
        return self.state.stats

    def warn(self, message: str) -> None:
        self.state.warn(message)

    def cache_extra(self) -> dict[str, Any]:
        """What a result depends on besides the request: the retry prompt and how often it is used."""
        retries = self.settings.max_retries
        return {"retry_prompt": self.prompts.fingerprint("retry"),
                "max_retries": retries if isinstance(retries, int) else stop_key(retries.stop)}

    def request(self, messages: tuple[tuple[str, str], ...], json_schema: dict[str, Any],
                max_tokens: int) -> GenerationRequest:
        return GenerationRequest(messages=messages, json_schema=json_schema, max_tokens=max_tokens,
                                 temperature=self.settings.temperature, seed=self.settings.seed)

    def call(self, request: GenerationRequest, output_type: type[T], stage: str, *,
             context: dict[str, Any] | None = None, progress: Callable[[int], None] | None = None,
             max_retries: int | None = None) -> T:
        """``structured_call`` with this run's backend, cache, prompts, retries (``max_retries``
        for fewer than the run's) and counters."""
        retries = self.settings.max_retries if max_retries is None else max_retries
        extra = self.cache_extra() if max_retries is None else {**self.cache_extra(), "max_retries": max_retries}
        return structured_call(self.backend, request, output_type, stage=stage, stats=self.stats,
                               prompts=self.prompts, cache=self.cache, cache_extra=extra, max_retries=retries,
                               context=context, progress=progress, call_log=self.call_log)

    def concurrently(self, function: Callable[[Any], Any], items: list, label: str,
                     articles: int | None = None) -> list:
        """``function`` of every item, up to ``parallel`` at once (the backend writes several
        replies together, or a server serves several requests), results in the items' order,
        with progress shown (``progress``). Interrupted, the calls not started are cancelled;
        finished calls are cached already."""
        from .progress import Progress

        parallel = self.settings.parallel or self.backend.parallel
        progress = Progress(label, len(items), articles=articles, terminal=self.settings.progress)
        try:
            if parallel <= 1 or len(items) < 2:
                results = []
                for item in items:
                    results.append(function(item))
                    progress.advance()
                return results
            return self._in_pool(function, items, parallel, progress)
        finally:
            progress.close()

    def _in_pool(self, function: Callable[[Any], Any], items: list, parallel: int, progress: Any) -> list:
        from concurrent.futures import ThreadPoolExecutor, as_completed

        pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="storyline")
        futures = {pool.submit(function, item): index for index, item in enumerate(items)}
        results: list = [None] * len(items)
        try:
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                progress.advance()
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            if self.owns_backend:
                self.close_backend()  # ends the calls in flight (a backend passed in is the caller's to close)
            raise
        pool.shutdown()
        return results

    def close(self) -> None:
        """Close the cache and the log, and the backend if it was loaded here (a backend passed
        in belongs to the caller)."""
        if self.cache is not None:
            self.cache.close()
        if self.call_log is not None:
            self.call_log.close()
        if self.owns_backend:
            self.close_backend()

    def close_backend(self) -> None:
        close = getattr(self._backend, "close", None)
        if close is not None:
            close()
