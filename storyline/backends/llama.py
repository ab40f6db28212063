"""The llama.cpp backend: a GGUF model run in-process through llama-cpp-python.

Importing this module imports llama_cpp; the rest of storyline imports it only when a model is
actually needed, so ``import storyline`` and ``storyline --help`` stay fast.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from functools import lru_cache
from pathlib import Path

import llama_cpp
from llama_cpp import Llama, LlamaGrammar
from llama_cpp.llama_chat_format import Jinja2ChatFormatter
from llama_cpp.llama_grammar import json_schema_to_gbnf

from ..errors import ModelUnavailableError
from . import Generation, GenerationRequest

log = logging.getLogger(__name__)

DEFAULT_CONTEXT = 8192
_CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


_LOOSE_CHAR = 'char ::= [^"\\\\] |'
_STRICT_CHAR = 'char ::= [^"\\\\\\x7F\\x00-\\x1F] |'


@lru_cache(maxsize=64)
def _grammar(schema_json: str) -> LlamaGrammar:
    """The GBNF grammar for a JSON schema.

    Built here rather than through ``response_format``, which silently falls back to a generic
    JSON grammar when a schema cannot be converted (this raises instead). The Python converter
    lets raw control characters into strings, which strict JSON (and pydantic) rejects; its
    string character rule is narrowed to llama.cpp's own, which excludes them.
    """
    gbnf = json_schema_to_gbnf(schema_json)
    if _LOOSE_CHAR not in gbnf and "char ::=" in gbnf:
        raise RuntimeError("unexpected grammar from llama_cpp's JSON-schema converter: " + gbnf[:200])
    return LlamaGrammar.from_string(gbnf.replace(_LOOSE_CHAR, _STRICT_CHAR), verbose=False)


def _trained_context(path: Path) -> int:
    """The context length the model was trained with, read without creating a context."""
    # llama-cpp-python prints llama.cpp's log unless its logger is quieter than the message.
    logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)
    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    model = llama_cpp.llama_model_load_from_file(str(path).encode(), params)
    if not model:
        raise ModelUnavailableError(
            f"llama.cpp could not read {path}. Check that it is a complete GGUF file (re-download "
            "it if in doubt)."
        )
    try:
        return int(llama_cpp.llama_model_n_ctx_train(model))
    finally:
        llama_cpp.llama_model_free(model)


def model_identity(path: Path) -> str:
    """Cheap identity of a multi-gigabyte file: its size and hashes of its first and last MiB."""
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with path.open("rb") as handle:
        digest.update(handle.read(1 << 20))
        if size > 2 << 20:
            handle.seek(-(1 << 20), os.SEEK_END)
            digest.update(handle.read(1 << 20))
    return f"gguf:{digest.hexdigest()[:24]}"


class LlamaTokenizer:
    """The loaded model's own tokenizer."""

    def __init__(self, llm: Llama, name: str):
        self._llm = llm
        self.name = name

    def count_many(self, texts: list[str]) -> list[int]:
        tokenize = self._llm.tokenize
        return [len(tokenize(text.encode("utf-8"), add_bos=False, special=False)) for text in texts]


class LlamaCppBackend:
    """A GGUF model loaded once per process. One ``Llama`` is not thread-safe: calls are serialised."""

    def __init__(
        self,
        model_path: str | Path,
        *,
        n_ctx: int | None = None,
        n_threads: int | None = None,
        n_batch: int = 512,
        prefix_state_dir: Path | None = None,
    ):
        path = Path(model_path)
        if not path.is_file():
            raise ModelUnavailableError(f"Model file {path} does not exist.")
        self.path = path
        self._identity = model_identity(path)
        threads = n_threads or os.cpu_count() or 1
        try:
            context = n_ctx or min(_trained_context(path) or DEFAULT_CONTEXT, DEFAULT_CONTEXT)
            self._llm = Llama(
                str(path),
                n_ctx=context,
                n_batch=n_batch,
                n_threads=threads,
                n_threads_batch=threads,
                verbose=False,
            )
        except (ValueError, RuntimeError) as error:
            raise ModelUnavailableError(
                f"llama.cpp could not load {path}: {error}. Check that it is a complete GGUF file "
                "(re-download it if in doubt) and that it fits in memory."
            ) from error
        self._lock = threading.Lock()
        self._prefix_state_dir = prefix_state_dir
        self._primed: set[str] = set()
        self.tokenizer = LlamaTokenizer(self._llm, f"gguf:{path.name}")
        metadata = self._llm.metadata
        model = self._llm._model
        eos_id, bos_id = self._llm.token_eos(), self._llm.token_bos()
        self._eos_text = model.token_get_text(eos_id) if eos_id != -1 else ""
        bos_text = model.token_get_text(bos_id) if bos_id != -1 else ""
        template = metadata.get("tokenizer.chat_template")
        if not template:
            log.warning("%s has no chat template; using ChatML", path.name)
            template = _CHATML
        self._formatter = Jinja2ChatFormatter(template=template, eos_token=self._eos_text, bos_token=bos_text)

    @property
    def identity(self) -> str:
        return self._identity

    @property
    def context_window(self) -> int:
        return self._llm.n_ctx()

    def _format(self, messages: tuple[tuple[str, str], ...]) -> str:
        return self._formatter(messages=[{"role": role, "content": content} for role, content in messages]).prompt

    def _tokens(self, text: str) -> list[int]:
        # Chat templates write their own BOS, so none is added here (as llama-cpp-python does).
        return self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def count_prompt_tokens(self, messages: tuple[tuple[str, str], ...]) -> int:
        return len(self._tokens(self._format(messages)))

    def generate(self, request: GenerationRequest) -> Generation:
        grammar = _grammar(json.dumps(request.json_schema, sort_keys=True))
        tokens = self._tokens(self._format(request.messages))
        with self._lock:
            ctx = self._llm._ctx.ctx
            # Reset before restoring so a prefix evaluated for the state file is counted too.
            llama_cpp.llama_perf_context_reset(ctx)
            self._restore_prefix(request, tokens)
            started = time.perf_counter()
            output = self._llm.create_completion(
                prompt=tokens,
                grammar=grammar,
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                seed=request.seed,
                repeat_penalty=1.0,
                stop=[self._eos_text] if self._eos_text else None,
            )
            seconds = time.perf_counter() - started
            perf = llama_cpp.llama_perf_context(ctx)
        choice = output["choices"][0]
        return Generation(
            text=choice["text"],
            prompt_tokens=len(tokens),
            prompt_tokens_evaluated=int(perf.n_p_eval),
            completion_tokens=int(output["usage"]["completion_tokens"]),
            seconds=seconds,
            finish_reason=choice.get("finish_reason") or "stop",
        )

    # --- prefix state between runs -----------------------------------------------------------

    def _prefix_tokens(self, request: GenerationRequest, tokens: list[int]) -> list[int] | None:
        """Tokens shared by every prompt with this request's system message, if they lead it.

        Found as the common start of two probe prompts that differ only in the user's words, so
        it works whatever the chat template does around the turns.
        """
        if not request.messages or request.messages[0][0] != "system":
            return None
        system = request.messages[0]
        probes = [self._tokens(self._format((system, ("user", word)))) for word in ("Alpha", "Omega")]
        shared = 0
        for a, b in zip(*probes, strict=False):
            if a != b:
                break
            shared += 1
        prefix = probes[0][:shared]
        return prefix if tokens[:shared] == prefix else None

    def _restore_prefix(self, request: GenerationRequest, tokens: list[int]) -> None:
        """Load (or create and save) the evaluated state of the system prompt for a new context.

        Within a process llama.cpp already reuses a shared prefix; this carries it across runs.
        """
        if self._prefix_state_dir is None or self._llm.n_tokens > 0:
            return
        prefix = self._prefix_tokens(request, tokens)
        if not prefix or len(prefix) < 16:
            return
        key = hashlib.sha256(
            f"{self._identity}|{self.context_window}|{prefix}".encode()
        ).hexdigest()[:32]
        if key in self._primed:
            return
        self._primed.add(key)
        path = self._prefix_state_dir / f"{key}.state"
        ctx = self._llm._ctx.ctx
        if path.is_file():
            data = path.read_bytes()
            buffer = (llama_cpp.ctypes.c_uint8 * len(data)).from_buffer_copy(data)
            if llama_cpp.llama_state_set_data(ctx, buffer, len(data)) == len(data):
                self._llm.input_ids[: len(prefix)] = prefix
                self._llm.n_tokens = len(prefix)
                self._llm._requires_eval = True  # logits are refreshed by the next decode
                return
            log.warning("prefix state %s did not load; evaluating the prefix again", path)
            self._llm.reset()
        self._llm.eval(prefix)
        size = llama_cpp.llama_state_get_size(ctx)
        buffer = (llama_cpp.ctypes.c_uint8 * int(size))()
        written = llama_cpp.llama_state_get_data(ctx, buffer, size)
        self._prefix_state_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        partial.write_bytes(bytes(buffer)[: int(written)])
        partial.replace(path)
