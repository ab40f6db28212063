"""The system prompt's evaluated state, saved between runs and checked before use."""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

import llama_cpp
from llama_cpp import Llama

log = logging.getLogger(__name__)


_MAGIC = b"storyline-prefix-state\x01"


class PrefixStates:
    """Saved KV-cache states of instruction prefixes, one file each, checked before use.

    A file holds a header (the backend identity, the context size, the prefix tokens, the
    state's size and SHA-256) and the sequence state llama.cpp wrote. A file that does not match
    in every field, or that llama.cpp does not accept in full, is ignored with a warning and the
    prefix is evaluated as usual. Files are written under a unique temporary name and renamed
    into place, so runs sharing a cache folder never see half a file.

    Built on llama.cpp's sequence-state functions rather than ``Llama.save_state()``/
    ``load_state()``: those copy and zero the whole logits buffer, hundreds of megabytes with a
    262k-token vocabulary, for logits that are recomputed anyway. The backend sets the position
    after a restore (``LlamaCppBackend._rewind``).
    """

    def __init__(self, directory: Path, identity: str, context_window: int):
        self.directory = directory
        self._identity = identity
        self._context = context_window

    def _path(self, prefix: list[int]) -> Path:
        key = hashlib.sha256(f"{self._identity}|{self._context}|{prefix}".encode()).hexdigest()[:32]
        return self.directory / f"{key}.state"

    def restore(self, llm: Llama, prefix: list[int]) -> bool:
        path = self._path(prefix)
        if not path.is_file():
            return False
        state = self._read(path, prefix)
        if state is not None:
            buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
            if llama_cpp.llama_state_seq_set_data(llm.ctx, buffer, len(state), 0) == len(state):
                return True
        # Whatever was loaded is dropped by the next evaluation, which starts at position 0.
        log.warning("the saved instruction state %s could not be used; evaluating the instructions again", path)
        return False

    def _read(self, path: Path, prefix: list[int]) -> bytes | None:
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if not data.startswith(_MAGIC) or b"\n" not in data:
            return None
        header_line, _, state = data[len(_MAGIC):].partition(b"\n")
        try:
            header = json.loads(header_line)
        except ValueError:
            return None
        expected = {"identity": self._identity, "context": self._context, "tokens": prefix,
                    "size": len(state), "sha256": hashlib.sha256(state).hexdigest()}
        return state if header == expected and len(state) > 0 else None

    def save(self, llm: Llama, prefix: list[int]) -> None:
        size = llama_cpp.llama_state_seq_get_size(llm.ctx, 0)
        buffer = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_seq_get_data(llm.ctx, buffer, size, 0)
        if written <= 0:
            return
        state = bytes(buffer)[:written]
        header = {"identity": self._identity, "context": self._context, "tokens": prefix,
                  "size": len(state), "sha256": hashlib.sha256(state).hexdigest()}
        temporary: Path | None = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.directory, prefix=".", suffix=".tmp", delete=False) as handle:
                temporary = Path(handle.name)
                handle.write(_MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + state)
            os.replace(temporary, self._path(prefix))
        except OSError as error:
            log.warning("could not save the instruction state in %s: %s", self.directory, error)
            if temporary is not None:
                temporary.unlink(missing_ok=True)
