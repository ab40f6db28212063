"""The llama.cpp backend: a GGUF model run in-process through llama-cpp-python's bindings.

Importing this module imports llama_cpp; the rest of storyline imports it only when a model is
actually needed, so ``import storyline`` and ``storyline --help`` stay fast.

Generation runs its own short loop over llama.cpp's public C API instead of
``Llama.create_completion``, for four reasons:

- **Grammar cost.** llama-cpp-python applies the JSON grammar to the whole vocabulary at every
  token (262,144 entries for Gemma); llama.cpp's own sampler checks the chosen token first, and
  so does this loop (``llama_sampling``): the same output at temperature 0, near raw speed.
- **Early stop.** The reply ends as soon as the grammar is complete: no trailing white space and
  no end-of-turn token to generate.
- **Prompt reuse.** The instruction prefix (the system prompt and its framing) stays in the KV
  cache from call to call, and its evaluated state is saved between runs (``llama_state``).
- **Replies written together.** Several replies share each decode (``llama_scheduler``), each in
  its own sequence of one context (``llama_engine``), with the same output as one at a time.

Chat formatting and tokenization live in ``llama_chat``.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import llama_cpp
import numpy as np
from llama_cpp import Llama
from llama_cpp.llama_grammar import json_schema_to_gbnf
from pydantic import BaseModel, ConfigDict, Field

from ..errors import ModelUnavailableError, PromptTooLongError
from . import ChoiceReading, Generation, GenerationRequest
from .llama_chat import ChatPrompt, LlamaTokenizer
from .llama_engine import BackendClosedError, LlamaEngine
from .llama_sampling import ReplySampler
from .llama_scheduler import Reply, Scheduler
from .llama_state import PrefixStates

log = logging.getLogger(__name__)
llama_log = logging.getLogger("storyline.llama_cpp")

DEFAULT_CONTEXT = 8192


# --- llama.cpp's log, routed through Python logging ----------------------------------------------

# ggml's levels: 1 debug, 2 info, 3 warn, 4 error, 5 "continues the previous line".
_LEVELS = {1: logging.DEBUG, 2: logging.INFO, 3: logging.WARNING, 4: logging.ERROR}
_pending: list[str] = []
_pending_level = [logging.DEBUG]
_SETTLED_AT_LOAD = (
    # The model file marks a control token as an ordinary one and llama.cpp fixes its type as it
    # loads (the packaged Qwen models say this of 128247 '</s>' on every load): nothing to do.
    re.compile(r"control-looking token: .* was not control-type"),
)
"""llama.cpp warnings about a model file that llama.cpp settles itself; logged at DEBUG, so a
user's stderr shows only warnings that ask something of them."""


@llama_cpp.llama_log_callback
def _route_llama_log(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    """llama.cpp writes its log in pieces (level 5 continues the previous line); whole lines go
    to the ``storyline.llama_cpp`` logger, so ``--quiet`` and ``--verbose`` govern them."""
    if level != 5:
        _pending_level[0] = _LEVELS.get(level, logging.DEBUG)
    _pending.append(text.decode("utf-8", errors="replace"))
    if _pending[-1].endswith("\n"):
        line = "".join(_pending).rstrip()
        _pending.clear()
        level = logging.DEBUG if any(pattern.search(line) for pattern in _SETTLED_AT_LOAD) else _pending_level[0]
        if line and llama_log.isEnabledFor(level):
            llama_log.log(level, "%s", line)


class _LogRoute:
    """llama.cpp has one log callback per process; llama-cpp-python's prints to stderr whatever
    the caller's logging configuration. While a storyline backend is open, its log goes through
    ``_route_llama_log`` instead; when the last one closes, the callback that was there before is
    put back (``llama_log_get``), so storyline changes nothing once it is done."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._previous: tuple[Any, ctypes.c_void_p] | None = None

    def acquire(self) -> None:
        with self._lock:
            if self._users == 0:
                callback, user_data = llama_cpp.llama_log_callback(), ctypes.c_void_p()
                llama_cpp.llama_log_get(ctypes.byref(callback), ctypes.byref(user_data))
                self._previous = (callback, user_data)
                llama_cpp.llama_log_set(_route_llama_log, ctypes.c_void_p(0))
            self._users += 1

    def release(self) -> None:
        with self._lock:
            self._users -= 1
            if self._users == 0 and self._previous is not None:
                llama_cpp.llama_log_set(*self._previous)
                self._previous = None

    @contextmanager
    def routed(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()


LOG_ROUTE = _LogRoute()


# --- options and identity --------------------------------------------------------------------------


class LlamaOptions(BaseModel):
    """Settings of the llama.cpp backend (``--ctx``, ``--threads``, ``--batch-size``, or
    ``-o NAME VALUE``). Unknown names are refused."""

    model_config = ConfigDict(extra="forbid")

    context_window: int | None = Field(None, ge=512, le=1 << 20, description="tokens; default: the "
                                       "model's trained context, at most 8192")
    threads: int | None = Field(None, ge=1, le=1024, description="CPU threads; default: the cores this "
                                "process may use")
    batch_size: int = Field(512, ge=8, le=1 << 16, description="prompt tokens per llama.cpp batch")
    top_k: int = Field(40, ge=0, description="sampling at temperature > 0 only")
    top_p: float = Field(0.95, gt=0, le=1, description="sampling at temperature > 0 only")
    min_p: float = Field(0.05, ge=0, lt=1, description="sampling at temperature > 0 only")
    prefix_cache: bool = Field(True, description="save the evaluated system prompt between runs")
    parallel: int = Field(4, ge=1, le=64, description="replies written together, each in a sequence of its own "
                          "(1: one at a time; the output is the same)")
    repack: bool = Field(False, description="llama.cpp's repacked weight layout: writes faster, reads slower on "
                         "CPUs with AVX-512 (changes the output a little)")


def model_fingerprint(path: Path, blocks: int = 64, block_size: int = 1 << 16) -> str:
    """Cheap identity of a multi-gigabyte file: its size, its first MiB (the GGUF header and
    metadata) and ``blocks`` evenly spaced blocks of the rest, so two fine-tunes of one size
    that share their header still differ."""
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with path.open("rb") as handle:
        digest.update(handle.read(1 << 20))
        for index in range(blocks):
            handle.seek((size - block_size) * index // max(blocks - 1, 1))
            digest.update(handle.read(block_size))
    return digest.hexdigest()[:24]


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Neighbours:
    """The storyline processes sharing a cache folder, counted through one locked file each.

    llama.cpp's threads wait for each other by spinning: two runs that each start a thread per
    core on the same cores slow each other down several times over. A run that sees others
    running takes its share of the cores instead (with ``threads`` unset). Files of processes
    that ended hold no lock and are removed by the next run that counts.
    """

    def __init__(self, folder: Path):
        import fcntl

        self.folder = folder
        self._handle = None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handle = (folder / f"{os.getpid()}.lock").open("w")
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._handle = handle
        except OSError:
            pass  # no count: the run takes all cores, as without a cache folder

    def others(self) -> int:
        import fcntl

        if self._handle is None:
            return 0
        running = 0
        for path in self.folder.glob("*.lock"):
            if path.name == f"{os.getpid()}.lock":
                continue
            try:
                with path.open("a") as other:
                    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                path.unlink(missing_ok=True)  # its process has ended
            except BlockingIOError:
                running += 1
            except OSError:
                continue
        return running


def default_threads(state_dir: Path | None) -> int:
    """The cores this process may use, shared with the other runs on the same cache folder."""
    cores = _available_cores()
    if state_dir is None:
        return cores
    global _NEIGHBOURS
    if _NEIGHBOURS is None:
        _NEIGHBOURS = Neighbours(state_dir.parent / "running")
    return max(1, cores // (1 + _NEIGHBOURS.others()))


_NEIGHBOURS: Neighbours | None = None
"""This process's registration (one per process: the lock lives as long as the process)."""


# --- grammar ----------------------------------------------------------------------------------------

_LOOSE_CHAR = 'char ::= [^"\\\\] |'
_STRICT_CHAR = 'char ::= [^"\\\\\\x7F\\x00-\\x1F] |'


@lru_cache(maxsize=64)
def gbnf_for(schema_json: str) -> str:
    """The GBNF grammar for a JSON schema.

    Built here rather than through ``response_format``, which silently falls back to a generic
    JSON grammar when a schema cannot be converted (this raises instead). The Python converter
    lets raw control characters into strings, which strict JSON (and pydantic) rejects; its
    string character rule is narrowed to llama.cpp's own, which excludes them.
    """
    gbnf = json_schema_to_gbnf(schema_json)
    if _LOOSE_CHAR not in gbnf and "char ::=" in gbnf:
        raise RuntimeError("unexpected grammar from llama_cpp's JSON-schema converter: " + gbnf[:200])
    return gbnf.replace(_LOOSE_CHAR, _STRICT_CHAR)


def fixed_opening(schema: dict) -> str:
    """What every reply to ``schema`` begins with, if it is an object of one required property:
    ``{"events":``. Evaluated with the prompt instead of generated, it costs a read token's time
    rather than a written one's (a tenth), and the grammar still guards the rest."""
    properties = list(schema.get("properties") or {})
    if schema.get("type") == "object" and len(properties) == 1 and schema.get("required") == properties:
        return "{" + json.dumps(properties[0]) + ":"
    return ""


def trained_context(path: Path) -> int:
    """The context length the model was trained with (0 if its metadata does not say), read
    with llama.cpp's vocabulary-only loader: no weights, no context."""
    with LOG_ROUTE.routed():
        return _trained_context(path)


def _trained_context(path: Path) -> int:
    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    model = llama_cpp.llama_model_load_from_file(str(path).encode(), params)
    if not model:
        raise ModelUnavailableError(f"llama.cpp could not read {path}. Check that it is a complete GGUF file.")
    try:
        buffer = ctypes.create_string_buffer(256)

        def value(key: str) -> str:
            found = llama_cpp.llama_model_meta_val_str(model, key.encode(), buffer, len(buffer))
            return buffer.value.decode() if found >= 0 else ""

        length = value(f"{value('general.architecture')}.context_length")
        return int(length) if length.isdigit() else 0
    finally:
        llama_cpp.llama_model_free(model)


def context_window_for(path: Path, options: LlamaOptions) -> int:
    """The window to use: the option, else the trained context up to ``DEFAULT_CONTEXT``."""
    return options.context_window or min(trained_context(path) or DEFAULT_CONTEXT, DEFAULT_CONTEXT)


def _load(path: Path, **params: Any) -> Llama:
    try:
        return Llama(str(path), verbose=False, **params)
    except (ValueError, RuntimeError, OSError) as error:
        raise ModelUnavailableError(
            f"llama.cpp could not load {path}: {error}. Check that it is a complete GGUF file "
            "(re-download it if in doubt) and that it fits in memory."
        ) from error


class LlamaVocabulary:
    """A GGUF's tokenizer, chat template and context size without its weights (``--dry-run``)."""

    def __init__(self, model_path: str | Path, options: LlamaOptions | None = None):
        path = Path(model_path)
        if not path.is_file():
            raise ModelUnavailableError(f"Model file {path} does not exist.")
        self.options = options or LlamaOptions()
        with LOG_ROUTE.routed():
            self._llm = _load(path, vocab_only=True)
            self.context_window = context_window_for(path, self.options)
        self.name = path.name
        self.tokenizer = LlamaTokenizer(self._llm, f"gguf:{path.name}")
        self.chat = ChatPrompt(self._llm, path.name)

    def count_prompt_tokens(self, messages: tuple[tuple[str, str], ...]) -> int:
        return len(self.chat.tokens(messages))


class LlamaCppBackend:
    """A GGUF model loaded once per process, writing up to ``parallel`` replies together
    (``llama_scheduler``): ``generate`` may be called from several threads at once, and each
    caller waits for its own reply.

    ``close()`` stops the scheduler after its current decode, then frees the model and puts
    llama.cpp's log callback back as it was.
    """

    counts = "counted by llama.cpp"

    def __init__(self, model_path: str | Path, options: LlamaOptions | None = None, *,
                 state_dir: Path | None = None):
        path = Path(model_path)
        if not path.is_file():
            raise ModelUnavailableError(f"Model file {path} does not exist.")
        self.options = options = options or LlamaOptions()
        self.path = path
        threads = options.threads or default_threads(state_dir)
        LOG_ROUTE.acquire()
        self._closed = False
        self._engine: LlamaEngine | None = None
        self._scheduler: Scheduler | None = None
        try:
            self._engine = LlamaEngine(path, context_window=context_window_for(path, options), slots=options.parallel,
                                       batch_size=options.batch_size, threads=threads, repack=options.repack)
        except BaseException:
            self.close()
            raise
        engine = self._engine
        self.name = path.name
        self.parallel = options.parallel
        self.tokenizer = LlamaTokenizer(engine, f"gguf:{path.name}")
        self.chat = ChatPrompt(engine, path.name)
        settings = {"model": model_fingerprint(path), "llama_cpp": llama_cpp.__version__,
                    "batch": options.batch_size, "repack": options.repack, "context": engine.context_window,
                    "top_k": options.top_k,
                    "top_p": options.top_p, "min_p": options.min_p, "repeat_penalty": 1.0}
        self._identity = "gguf:" + hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:24]
        prefixes = PrefixStates(state_dir, self._identity, self.context_window) \
            if state_dir is not None and options.prefix_cache and engine.keeps_prefixes else None
        # The batch check's verdict holds for this model, these settings, this build and CPU.
        width_key = json.dumps([self._identity, options.parallel, threads,
                                llama_cpp.llama_print_system_info().decode(errors="replace")])
        self._scheduler = Scheduler(engine, prefixes, width_key)
        self._system_prefixes: dict[tuple[str, str], list[int]] = {}
        self._openings: dict[str, tuple[str, list[int]]] = {}

    @property
    def identity(self) -> str:
        return self._identity

    @property
    def context_window(self) -> int:
        assert self._engine is not None
        return self._engine.context_window

    @property
    def batch_width(self) -> int | None:
        """How many replies are decoded together, once the scheduler has checked (None before)."""
        return self._scheduler.width if self._scheduler is not None else None

    def count_prompt_tokens(self, messages: tuple[tuple[str, str], ...]) -> int:
        return len(self.chat.tokens(messages))

    def close(self) -> None:
        """Stop the scheduler, free the model (its memory-mapped weights and KV cache) and stop
        routing llama.cpp's log; the backend cannot be used after this. Closing twice does
        nothing. Replies still waiting fail with ``BackendClosedError``."""
        if self._closed:
            return
        self._closed = True
        if self._scheduler is not None:
            self._scheduler.close()
        if self._engine is not None:
            self._engine.close()
        LOG_ROUTE.release()

    def generate(self, request: GenerationRequest, progress=None) -> Generation:
        gbnf = gbnf_for(json.dumps(request.json_schema, sort_keys=True))
        opening, forced = self._opening(request.json_schema, gbnf)
        tokens = self.chat.tokens(request.messages) + forced
        limit = min(request.max_tokens - len(forced), self.context_window - len(tokens))
        if limit <= 0:
            raise PromptTooLongError(
                f"The prompt has {len(tokens)} tokens, which leaves no room for a reply in the "
                f"{self.context_window}-token context window; use a larger window (--ctx) or smaller chunks.",
                prompt_tokens=len(tokens), context_window=self.context_window)
        engine, options = self._open()

        def sampler() -> ReplySampler:
            made = ReplySampler(engine.vocab, engine.n_vocab, gbnf, temperature=request.temperature, seed=request.seed,
                                top_k=options.top_k, top_p=options.top_p, min_p=options.min_p)
            for token in forced:
                made.accept(token)
            return made

        reply = Reply(tokens=tokens, prefix=self._prefix_tokens(request.messages, tokens) or [], limit=limit,
                      progress=progress, make_sampler=sampler)
        generation = self._run(reply)
        return generation.model_copy(update={"text": opening + generation.text})  # type: ignore[union-attr]

    def _opening(self, schema: dict, gbnf: str) -> tuple[str, list[int]]:
        """The part of the reply's fixed opening (``fixed_opening``) read with the prompt, and its
        tokens, as far as the grammar takes them one by one (a tokenizer that writes a space before
        the first word gives none)."""
        if gbnf not in self._openings:
            opening = fixed_opening(schema)
            engine = self._open()[0]
            # Its last token is left to the model: the way the model writes the opening runs it
            # into what follows ('":[["'), and a reply begun with other tokens than the model's own
            # reads differently (forced to '":', the 1.5B model numbered the seeds' longest
            # article's sentences 1, 2, 3 ... and lost four of its happenings).
            tokens = self._plain_tokens(opening)[:-1] if opening else []
            sampler = ReplySampler(engine.vocab, engine.n_vocab, gbnf)
            try:
                taken: list[int] = []
                for token in tokens:
                    if not sampler.allows(token):
                        break
                    sampler.accept(token)
                    taken.append(token)
            finally:
                sampler.free()
            text = engine.detokenize(taken).decode("utf-8", errors="replace")
            self._openings[gbnf] = (text, taken) if opening.startswith(text) else ("", [])
        return self._openings[gbnf]

    def read_choice(self, messages: tuple[tuple[str, str], ...], reply_start: str,
                    answers: tuple[str, ...]) -> ChoiceReading:
        """Each answer's log-probability once the reply has begun with ``reply_start`` (see
        ``backends.ChoiceReader``): the prompt evaluated as for a generation, the opening after it
        with the tokens all answers share (a tokenizer may write the space alone), then the
        log-softmax of the last logits over the whole vocabulary, at the token where the answers
        part."""
        spelled = [self._plain_tokens(answer) for answer in answers]
        shared = min((_common_prefix(np.asarray(spelled[0]), other) for other in spelled[1:]), default=0)
        parting = [tokens[shared] if len(tokens) > shared else -1 for tokens in spelled]
        if -1 in parting or len(set(parting)) != len(parting):
            raise ValueError(f"the answers {answers!r} do not part at one token")
        tokens = self.chat.tokens(messages) + self._plain_tokens(reply_start) + spelled[0][:shared]
        if len(tokens) >= self.context_window:
            raise PromptTooLongError(
                f"The prompt has {len(tokens)} tokens, more than the {self.context_window}-token context window; "
                "use a larger window (--ctx).", prompt_tokens=len(tokens), context_window=self.context_window)
        self._open()
        reply = Reply(tokens=tokens, prefix=self._prefix_tokens(messages, tokens) or [], parting=parting)
        return self._run(reply)  # type: ignore[return-value]

    def _open(self) -> tuple[LlamaEngine, LlamaOptions]:
        if self._closed or self._engine is None:
            raise BackendClosedError(f"the model {self.name} was closed")
        return self._engine, self.options

    def _run(self, reply: Reply) -> Generation | ChoiceReading:
        assert self._scheduler is not None
        return self._scheduler.run(reply)

    def _plain_tokens(self, text: str) -> list[int]:
        assert self._engine is not None
        return self._engine.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    def _prefix_tokens(self, messages: tuple[tuple[str, str], ...], tokens: list[int]) -> list[int] | None:
        """Tokens shared by every prompt with this request's system message, if they lead it and
        the model can keep them (not a recurrent one).

        Found as the common start of two probe prompts that differ only in the user's words, so
        it works whatever the chat template does around the turns.
        """
        assert self._engine is not None
        if not self._engine.keeps_prefixes or not messages or messages[0][0] != "system":
            return None
        system = messages[0]
        prefix = self._system_prefixes.get(system)
        if prefix is None:
            first, second = (self.chat.tokens((system, ("user", word))) for word in ("Alpha", "Omega"))
            prefix = self._system_prefixes[system] = first[: _common_prefix(np.asarray(first), second)]
        return prefix if len(prefix) >= 16 and len(prefix) < len(tokens) and tokens[: len(prefix)] == prefix else None


def _common_prefix(cached: np.ndarray, tokens: list[int]) -> int:
    length = min(len(cached), len(tokens))
    if length == 0:
        return 0
    differs = np.flatnonzero(np.asarray(cached[:length]) != np.asarray(tokens[:length], dtype=cached.dtype))
    return int(differs[0]) if len(differs) else length
