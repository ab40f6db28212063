"""The llama.cpp backend: a GGUF model run in-process through llama-cpp-python.

Importing this module imports llama_cpp; the rest of storyline imports it only when a model is
actually needed, so ``import storyline`` and ``storyline --help`` stay fast.

Generation runs its own short loop over llama.cpp's public C API instead of
``Llama.create_completion``, for three reasons:

- **Grammar cost.** llama-cpp-python applies the JSON grammar to the whole vocabulary at every
  token (262,144 entries for Gemma). llama.cpp's own sampler (``common/sampling.cpp``) samples
  first, checks only the chosen token against the grammar, and applies the grammar to the
  whole vocabulary only when that token is rejected. This loop does the same, so the output is
  the same as before at temperature 0 and close to raw llama.cpp speed.
- **Early stop.** The reply ends as soon as the grammar is complete: no trailing white space and
  no end-of-turn token to generate.
- **Prompt reuse.** The instruction prefix (the system prompt and its framing) stays in the KV
  cache from call to call, and its evaluated state is saved between runs (``llama_state``).

Chat formatting and tokenization live in ``llama_chat``; the saved states in ``llama_state``.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import os
import threading
import time
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

from ..errors import ModelUnavailableError
from . import ChoiceReading, Generation, GenerationRequest, repeating
from .llama_chat import ChatPrompt, LlamaTokenizer
from .llama_state import PrefixStates

log = logging.getLogger(__name__)
llama_log = logging.getLogger("storyline.llama_cpp")

DEFAULT_CONTEXT = 8192


# --- llama.cpp's log, routed through Python logging ----------------------------------------------

# ggml's levels: 1 debug, 2 info, 3 warn, 4 error, 5 "continues the previous line".
_LEVELS = {1: logging.DEBUG, 2: logging.INFO, 3: logging.WARNING, 4: logging.ERROR}
_pending: list[str] = []
_pending_level = [logging.DEBUG]


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
        if line and llama_log.isEnabledFor(_pending_level[0]):
            llama_log.log(_pending_level[0], "%s", line)


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
    """A GGUF model loaded once per process. One ``Llama`` is not thread-safe: calls are serialised.

    ``close()`` frees the model and puts llama.cpp's log callback back as it was.
    """

    parallel = 1
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
        try:
            self._llm = _load(path, n_ctx=context_window_for(path, options), n_batch=options.batch_size,
                              n_threads=threads, n_threads_batch=threads)
        except BaseException:
            self.close()
            raise
        self.name = path.name
        self.tokenizer = LlamaTokenizer(self._llm, f"gguf:{path.name}")
        self.chat = ChatPrompt(self._llm, path.name)
        self._vocab = llama_cpp.llama_model_get_vocab(self._llm.model)
        self._n_vocab = self._llm.n_vocab()
        self._lock = threading.Lock()
        # A recurrent or hybrid model (Mamba, RWKV, Jamba, Granite-4-H, LFM2) keeps a state that
        # llama.cpp cannot cut back to a prefix: each call starts from scratch instead.
        self._rewinds = not (llama_cpp.llama_model_is_recurrent(self._llm.model)
                             or llama_cpp.llama_model_is_hybrid(self._llm.model))
        settings = {"model": model_fingerprint(path), "llama_cpp": llama_cpp.__version__,
                    "batch": options.batch_size, "top_k": options.top_k, "top_p": options.top_p,
                    "min_p": options.min_p, "repeat_penalty": 1.0}
        self._identity = "gguf:" + hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:24]
        self._prefixes = PrefixStates(state_dir, self._identity, self.context_window) \
            if state_dir is not None and options.prefix_cache and self._rewinds else None
        self._system_prefixes: dict[tuple[str, str], list[int]] = {}
        self._cached: list[int] = []
        """The tokens in the KV cache, from position 0 (what this backend put there)."""
        self._token_ids = np.arange(self._n_vocab, dtype=np.int32)
        self._candidates = np.zeros(self._n_vocab, dtype=_TOKEN_DATA)

    @property
    def identity(self) -> str:
        return self._identity

    @property
    def context_window(self) -> int:
        return self._llm.n_ctx()

    def count_prompt_tokens(self, messages: tuple[tuple[str, str], ...]) -> int:
        return len(self.chat.tokens(messages))

    def close(self) -> None:
        """Free the model (its memory-mapped weights and KV cache) and stop routing llama.cpp's
        log; the backend cannot be used after this. Closing twice does nothing."""
        if self._closed:
            return
        self._closed = True
        llm = getattr(self, "_llm", None)
        if llm is not None:
            llm.close()
        LOG_ROUTE.release()

    def generate(self, request: GenerationRequest, progress=None) -> Generation:
        gbnf = gbnf_for(json.dumps(request.json_schema, sort_keys=True))
        tokens = self.chat.tokens(request.messages)
        limit = min(request.max_tokens, self.context_window - len(tokens))
        if limit <= 0:
            raise ModelUnavailableError(
                f"the prompt has {len(tokens)} tokens, which leaves no room in the {self.context_window}-token "
                "context window; use a model with a larger context (--ctx)")
        with self._lock:
            started = time.perf_counter()
            evaluated = self._evaluate_prompt(request.messages, tokens)
            reply, finish = self._sample(gbnf, limit, request.temperature, request.seed, progress)
            seconds = time.perf_counter() - started
        text = self._llm.detokenize(reply).decode("utf-8", errors="ignore")
        return Generation(text=text, prompt_tokens=len(tokens), prompt_tokens_evaluated=evaluated,
                          completion_tokens=len(reply), seconds=seconds, finish_reason=finish)

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
            raise ModelUnavailableError(
                f"the prompt has {len(tokens)} tokens, more than the {self.context_window}-token context window; "
                "use a model with a larger context (--ctx)")
        with self._lock:
            started = time.perf_counter()
            evaluated = self._evaluate_prompt(messages, tokens)
            logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self._llm.ctx, -1),
                                           shape=(self._n_vocab,)).astype(np.float64)
            seconds = time.perf_counter() - started
        top = logits.max()
        logprobs = logits[parting] - top - np.log(np.exp(logits - top).sum())
        return ChoiceReading(logprobs=tuple(logprobs.tolist()), prompt_tokens=len(tokens),
                             prompt_tokens_evaluated=evaluated, seconds=seconds)

    def _plain_tokens(self, text: str) -> list[int]:
        return self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    # --- prompt ---------------------------------------------------------------------------------

    def _evaluate_prompt(self, messages: tuple[tuple[str, str], ...], tokens: list[int]) -> int:
        """Bring the KV cache to ``tokens``; return how many tokens were evaluated.

        Only the instruction prefix (the system prompt and its framing) is reused, never a
        longer match with an earlier prompt: the rest is always evaluated from the same position
        in the same batches, so the logits, and with them the output, do not depend on what ran
        before (or on which results came from the cache). The prefix itself is always evaluated
        on its own, or restored from a state saved the same way.
        """
        prefix = self._prefix_tokens(messages, tokens) or []
        evaluated = 0
        if not (prefix and self._cached[: len(prefix)] == prefix):
            self._start_over()
            if prefix and not (self._prefixes is not None and self._prefixes.restore(self._llm, prefix)):
                self._llm.eval(prefix)
                evaluated += len(prefix)
                if self._prefixes is not None:
                    self._prefixes.save(self._llm, prefix)
            self._cached = list(prefix)
        self._rewind(len(prefix))
        self._llm.eval(tokens[len(prefix):])
        self._cached = list(tokens)
        return evaluated + len(tokens) - len(prefix)

    def _start_over(self) -> None:
        self._llm.reset()
        self._cached = []

    def _rewind(self, keep: int) -> None:
        """Keep the first ``keep`` tokens of the KV cache: ``Llama.eval`` evaluates from
        ``n_tokens`` on and drops the cache beyond it, which is how llama-cpp-python itself keeps
        a prompt's prefix (``Llama.generate``). Only a model that can drop part of its state is
        asked to (``_prefix_tokens`` gives a recurrent one no prefix)."""
        if keep == 0:
            self._start_over()
            return
        self._llm.n_tokens = keep
        self._cached = self._cached[:keep]

    def _prefix_tokens(self, messages: tuple[tuple[str, str], ...], tokens: list[int]) -> list[int] | None:
        """Tokens shared by every prompt with this request's system message, if they lead it and
        the model can keep them (not a recurrent one).

        Found as the common start of two probe prompts that differ only in the user's words, so
        it works whatever the chat template does around the turns.
        """
        if not self._rewinds or not messages or messages[0][0] != "system":
            return None
        system = messages[0]
        prefix = self._system_prefixes.get(system)
        if prefix is None:
            first, second = (self.chat.tokens((system, ("user", word))) for word in ("Alpha", "Omega"))
            prefix = self._system_prefixes[system] = first[: _common_prefix(np.asarray(first), second)]
        return prefix if len(prefix) >= 16 and len(prefix) < len(tokens) and tokens[: len(prefix)] == prefix else None

    # --- sampling -------------------------------------------------------------------------------

    def _sample(self, gbnf: str, limit: int, temperature: float, seed: int, progress=None) -> tuple[list[int], str]:
        """Generate up to ``limit`` tokens under the grammar; stop when it is complete, or when the
        reply has fallen into a loop (``repeating``: finish reason "loop").

        Greedy (temperature 0): the best token, checked against the grammar alone (see
        ``_greedy``). Sampling: the grammar is applied to the whole vocabulary first and the
        sampler chain draws from what it allows, as llama-cpp-python does, so the draw follows
        the constrained distribution. Each token is accepted once, by the grammar (and by the
        chain, which keeps no state today but would with penalties).
        """
        grammar = llama_cpp.llama_sampler_init_grammar(self._vocab, gbnf.encode(), b"root")
        if not grammar:
            raise RuntimeError("llama.cpp could not parse the JSON grammar")
        chain = self._chain(temperature, seed) if temperature > 0 else None
        reply: list[int] = []
        try:
            for _ in range(limit):
                logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self._llm.ctx, -1),
                                               shape=(self._n_vocab,))
                token = self._greedy(grammar, logits) if chain is None else self._draw(grammar, chain, logits)
                llama_cpp.llama_sampler_accept(grammar, token)
                if chain is not None:
                    llama_cpp.llama_sampler_accept(chain, token)
                if llama_cpp.llama_vocab_is_eog(self._vocab, token):
                    return reply, "stop"
                reply.append(token)
                if repeating(reply):
                    return reply, "loop"
                if progress is not None:
                    progress(len(reply))
                if self._complete(grammar):
                    return reply, "stop"
                self._llm.eval([token])
                self._cached.append(token)
            return reply, "length"
        finally:
            llama_cpp.llama_sampler_free(grammar)
            if chain is not None:
                llama_cpp.llama_sampler_free(chain)

    def _chain(self, temperature: float, seed: int):
        """top-k, top-p, min-p, temperature, then a seeded draw (llama-cpp-python's order)."""
        chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
        options = self.options
        for sampler in (llama_cpp.llama_sampler_init_top_k(options.top_k),
                        llama_cpp.llama_sampler_init_top_p(options.top_p, 1),
                        llama_cpp.llama_sampler_init_min_p(options.min_p, 1),
                        llama_cpp.llama_sampler_init_temp(temperature),
                        llama_cpp.llama_sampler_init_dist(seed)):
            llama_cpp.llama_sampler_chain_add(chain, sampler)
        return chain

    def _allowed(self, grammar, token: int) -> bool:
        """Whether the grammar accepts ``token`` next (one candidate, not the whole vocabulary)."""
        single = (llama_cpp.llama_token_data * 1)(llama_cpp.llama_token_data(token, 0.0, 0.0))
        candidates = llama_cpp.llama_token_data_array(single, 1, -1, False)
        llama_cpp.llama_sampler_apply(grammar, ctypes.byref(candidates))
        return bool(np.isfinite(candidates.data[0].logit))

    def _complete(self, grammar) -> bool:
        """The grammar is complete when it would accept the end of generation now."""
        end = llama_cpp.llama_vocab_eos(self._vocab)
        return end >= 0 and self._allowed(grammar, end)

    def _greedy(self, grammar, logits: np.ndarray) -> int:
        """The best-scoring token the grammar allows, as llama.cpp's own sampler finds it
        (``common/sampling.cpp``): the best token is checked alone, and only if the grammar
        refuses it are the 64 best checked, in descending order of logit (ties by token id, as
        llama.cpp's greedy sampler breaks them); only if none is allowed is the grammar applied
        to the whole vocabulary. The answer is the same as applying the grammar first."""
        best = int(np.argmax(logits))
        if self._allowed(grammar, best):
            return best
        top = np.argpartition(-logits, 64)[:64] if self._n_vocab > 64 else np.arange(self._n_vocab)
        top = top[np.lexsort((top, -logits[top]))]
        token = self._first_allowed(grammar, top, logits)
        if token is not None:
            return token
        array = self._whole_vocabulary(logits)
        llama_cpp.llama_sampler_apply(grammar, ctypes.byref(array))
        allowed = self._candidates["logit"]
        return int(self._candidates["id"][int(np.argmax(allowed))])

    def _draw(self, grammar, chain, logits: np.ndarray) -> int:
        array = self._whole_vocabulary(logits)
        llama_cpp.llama_sampler_apply(grammar, ctypes.byref(array))
        llama_cpp.llama_sampler_apply(chain, ctypes.byref(array))
        return int(array.data[array.selected].id)

    def _whole_vocabulary(self, logits: np.ndarray):
        """Every token as a candidate (samplers reorder the array in place: every field is
        filled again)."""
        candidates = self._candidates
        candidates["id"] = self._token_ids
        candidates["logit"] = logits
        candidates["p"] = 0.0
        return llama_cpp.llama_token_data_array(
            candidates.ctypes.data_as(llama_cpp.llama_token_data_p), self._n_vocab, -1, False)

    def _first_allowed(self, grammar, ids: np.ndarray, logits: np.ndarray) -> int | None:
        subset = np.zeros(len(ids), dtype=_TOKEN_DATA)
        subset["id"], subset["logit"] = ids, logits[ids]
        array = llama_cpp.llama_token_data_array(
            subset.ctypes.data_as(llama_cpp.llama_token_data_p), len(ids), -1, False)
        llama_cpp.llama_sampler_apply(grammar, ctypes.byref(array))
        allowed = np.flatnonzero(np.isfinite(subset["logit"]))
        return int(subset["id"][allowed[0]]) if len(allowed) else None


_TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)], align=True)


def _common_prefix(cached: np.ndarray, tokens: list[int]) -> int:
    length = min(len(cached), len(tokens))
    if length == 0:
        return 0
    differs = np.flatnonzero(np.asarray(cached[:length]) != np.asarray(tokens[:length], dtype=cached.dtype))
    return int(differs[0]) if len(differs) else length
