"""One GGUF model and one llama.cpp context, driven through llama.cpp's public C API (the
bindings ``llama_cpp`` exposes), with several sequences decoded together.

Written on the C API rather than ``llama_cpp.Llama`` because ``Llama`` holds one sequence in its
context and loads the weights with llama.cpp's defaults. storyline needs:

- **Several sequences, each in its own KV stream** (``kv_unified = False``): each sequence's
  cache starts at cell 0 as if it were alone, so a reply's arithmetic does not depend on which
  other replies are decoded beside it (see ``LlamaCppBackend``'s batch check).
- **The weights' layout as a setting** (``use_extra_bufts``, llama.cpp's "repack"): on this
  project's 2-core AVX-512 machine the repacked layout read prompts 1.4 times slower and wrote
  1.3 times faster; reading dominates storyline's work (``models/README.md``).

Each sequence is a *slot*: the backend gives one to each reply it is writing. This module knows
nothing of prompts or grammars; it evaluates tokens and hands back logits.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import llama_cpp
import numpy as np

from ..errors import ModelUnavailableError


class BackendClosedError(RuntimeError):
    """The model was closed while a caller still wanted it."""


class LlamaEngine:
    """The model, a context of ``slots`` sequences of ``context_window`` tokens each, and a batch.

    Offers the part of ``llama_cpp.Llama``'s interface that chat formatting and token counting
    use (``tokenize``, ``detokenize``, ``metadata``, ``token_bos``, ``token_eos``, ``model``), so
    ``llama_chat`` serves both. One thread evaluates (the backend's scheduler); any thread may
    tokenize. ``close()`` waits for the calls in progress, and later calls raise
    ``BackendClosedError``, so the model is never freed under a caller.
    """

    def __init__(self, path: Path, *, context_window: int, slots: int = 1, batch_size: int = 512,
                 threads: int = 1, repack: bool = False):
        self.path = path
        self.slots = slots
        self.batch_size = batch_size
        self._context = None
        self._batch = None
        self._guard = threading.Condition()
        self._users = 0
        self._closed = False
        params = llama_cpp.llama_model_default_params()
        params.use_extra_bufts = repack
        model = llama_cpp.llama_model_load_from_file(str(path).encode(), params)
        if not model:
            raise ModelUnavailableError(
                f"llama.cpp could not load {path}. Check that it is a complete GGUF file (re-download it if in "
                "doubt) and that it fits in memory.")
        self.model = model
        try:
            self.vocab = llama_cpp.llama_model_get_vocab(model)
            self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)
            self.metadata = _metadata(model)
            # A recurrent or hybrid model (Mamba, RWKV, Jamba, Granite-4-H, LFM2) keeps a state that
            # llama.cpp cannot cut back to a prefix.
            self.keeps_prefixes = not (llama_cpp.llama_model_is_recurrent(model)
                                       or llama_cpp.llama_model_is_hybrid(model))
            """Whether a sequence's cache can be cut back to a prefix."""
            self._context = self._new_context(context_window, slots, batch_size, threads)
            self._batch = llama_cpp.llama_batch_init(max(batch_size, slots), 0, 1)
            self._memory = llama_cpp.llama_get_memory(self._context)
        except BaseException:
            self.close()
            raise
        self.context_window = llama_cpp.llama_n_ctx_seq(self._context)

    def _new_context(self, window: int, slots: int, batch_size: int, threads: int):
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = window * slots
        params.n_batch = params.n_ubatch = batch_size
        params.n_seq_max = slots
        params.kv_unified = False
        params.n_threads = params.n_threads_batch = threads
        params.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
        context = llama_cpp.llama_init_from_model(self.model, params)
        if not context:
            raise ModelUnavailableError(
                f"llama.cpp could not make a context of {slots} x {window} tokens for {self.path.name}; there may "
                "not be enough memory (try a smaller --ctx or --parallel).")
        return context

    @property
    def ctx(self):
        return self._context

    # --- vocabulary --------------------------------------------------------------------------

    @contextmanager
    def _in_use(self) -> Iterator[None]:
        with self._guard:
            if self._closed:
                raise BackendClosedError(f"the model {self.path.name} was closed")
            self._users += 1
        try:
            yield
        finally:
            with self._guard:
                self._users -= 1
                self._guard.notify_all()

    def tokenize(self, text: bytes, add_bos: bool = True, special: bool = False) -> list[int]:
        room = len(text) + 16
        with self._in_use():
            while True:
                buffer = (llama_cpp.llama_token * room)()
                count = llama_cpp.llama_tokenize(self.vocab, text, len(text), buffer, room, add_bos, special)
                if count >= 0:
                    return list(buffer[:count])
                room = -count

    def detokenize(self, tokens: Sequence[int], special: bool = False) -> bytes:
        """The tokens' pieces joined, as ``Llama.detokenize`` joins them."""
        pieces = []
        buffer = ctypes.create_string_buffer(64)
        with self._in_use():
            for token in tokens:
                count = llama_cpp.llama_token_to_piece(self.vocab, token, buffer, len(buffer), 0, special)
                if count < 0:
                    buffer = ctypes.create_string_buffer(-count)
                    count = llama_cpp.llama_token_to_piece(self.vocab, token, buffer, len(buffer), 0, special)
                pieces.append(buffer.raw[:count])
        return b"".join(pieces)

    def token_bos(self) -> int:
        return llama_cpp.llama_vocab_bos(self.vocab)

    def token_eos(self) -> int:
        return llama_cpp.llama_vocab_eos(self.vocab)

    # --- evaluation --------------------------------------------------------------------------

    def evaluate(self, slot: int, tokens: Sequence[int], start: int) -> None:
        """Evaluate ``tokens`` in ``slot`` from position ``start``, in batches of ``batch_size``;
        afterwards ``logits(-1)`` holds the last token's logits."""
        for first in range(0, len(tokens), self.batch_size):
            part = tokens[first:first + self.batch_size]
            last = first + len(part) == len(tokens)
            self._decode([(slot, token, start + first + offset, last and offset == len(part) - 1)
                          for offset, token in enumerate(part)])

    def step(self, rows: Sequence[tuple[int, int, int]]) -> None:
        """One token for each of several slots, (slot, token, position), in one decode; row i's
        logits are ``logits(i)`` afterwards."""
        self._decode([(slot, token, position, True) for slot, token, position in rows])

    def _decode(self, rows: list[tuple[int, int, int, bool]]) -> None:
        with self._in_use():
            batch = self._batch
            batch.n_tokens = len(rows)
            for index, (slot, token, position, wanted) in enumerate(rows):
                batch.token[index] = token
                batch.pos[index] = position
                batch.n_seq_id[index] = 1
                batch.seq_id[index][0] = slot
                batch.logits[index] = wanted
            status = llama_cpp.llama_decode(self._context, batch)
        if status != 0:
            raise RuntimeError(f"llama.cpp could not evaluate a batch of {len(rows)} tokens (llama_decode: {status})")

    def logits(self, row: int) -> np.ndarray:
        """A row's logits from the last evaluation (a view: read it before the next one)."""
        return np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self._context, row), shape=(self.n_vocab,))

    def keep(self, slot: int, count: int) -> None:
        """Drop everything of ``slot`` from position ``count`` on (0: empty it)."""
        with self._in_use():
            start = count if count and self.keeps_prefixes else -1
            llama_cpp.llama_memory_seq_rm(self._memory, slot, start, -1)

    def state(self, slot: int) -> bytes:
        with self._in_use():
            size = llama_cpp.llama_state_seq_get_size(self._context, slot)
            buffer = (ctypes.c_uint8 * size)()
            written = llama_cpp.llama_state_seq_get_data(self._context, buffer, size, slot)
        return bytes(buffer)[:written] if written > 0 else b""

    def restore(self, slot: int, state: bytes) -> bool:
        """Load a slot's state saved by ``state``; False if llama.cpp does not take all of it."""
        buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
        with self._in_use():
            return llama_cpp.llama_state_seq_set_data(self._context, buffer, len(state), slot) == len(state)

    def close(self) -> None:
        """Wait for the calls in progress, then free the batch, the context and the model."""
        with self._guard:
            self._closed = True
            while self._users:
                self._guard.wait()
        if self._batch is not None:
            llama_cpp.llama_batch_free(self._batch)
            self._batch = None
        if self._context is not None:
            llama_cpp.llama_free(self._context)
            self._context = None
        if self.model is not None:
            llama_cpp.llama_model_free(self.model)
            self.model = None


def _metadata(model) -> dict[str, str]:
    """The GGUF's metadata as text (the chat template among it)."""
    found: dict[str, str] = {}
    for index in range(llama_cpp.llama_model_meta_count(model)):
        key = _read_string(llama_cpp.llama_model_meta_key_by_index, model, index)
        found[key] = _read_string(llama_cpp.llama_model_meta_val_str_by_index, model, index)
    return found


def _read_string(read, model, index: int) -> str:
    """One metadata string, read into a buffer as large as it needs."""
    size = 256
    while True:
        buffer = ctypes.create_string_buffer(size)
        needed = read(model, index, buffer, size)
        if needed < size:
            return buffer.value.decode("utf-8", errors="replace")
        size = needed + 1
