"""The system prompt's evaluated state, saved between runs and checked before use."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

from .llama_engine import LlamaEngine

log = logging.getLogger(__name__)


_MAGIC = b"storyline-prefix-state\x01"


class PrefixStates:
    """Saved KV-cache states of instruction prefixes, one file each, checked before use.

    A file holds a header (the backend identity, the context size, the prefix tokens, the
    state's size and SHA-256) and the sequence state llama.cpp wrote. A file that does not match
    in every field, or that llama.cpp does not accept in full, is ignored with a warning and the
    prefix is evaluated as usual. Files are written under a unique temporary name and renamed
    into place, so runs sharing a cache folder never see half a file.

    Built on llama.cpp's sequence-state functions rather than whole-context states: those copy
    and zero the whole logits buffer, hundreds of megabytes with a 262k-token vocabulary, for
    logits that are recomputed anyway. A state saved from one slot (sequence) restores into any.
    """

    def __init__(self, directory: Path, identity: str, context_window: int):
        self.directory = directory
        self._identity = identity
        self._context = context_window

    def _path(self, prefix: list[int]) -> Path:
        key = hashlib.sha256(f"{self._identity}|{self._context}|{prefix}".encode()).hexdigest()[:32]
        return self.directory / f"{key}.state"

    def restore(self, engine: LlamaEngine, slot: int, prefix: list[int]) -> bool:
        path = self._path(prefix)
        if not path.is_file():
            return False
        state = self._read(path, prefix)
        if state is not None and engine.restore(slot, state):
            return True
        # Whatever was loaded is dropped: the slot is emptied before the prefix is evaluated.
        engine.keep(slot, 0)
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

    def save(self, engine: LlamaEngine, slot: int, prefix: list[int]) -> None:
        state = engine.state(slot)
        if not state:
            return
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

    def width(self, key: str) -> int | None:
        """How many replies an earlier run found could be decoded together (``Scheduler``'s batch
        check), for the machine and settings ``key`` names; None if it was not checked."""
        try:
            record = json.loads(self._width_path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        width = record.get("width") if isinstance(record, dict) and record.get("key") == key else None
        return width if isinstance(width, int) and width >= 1 else None

    def save_width(self, key: str, width: int) -> None:
        path = self._width_path(key)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps({"key": key, "width": width}), encoding="utf-8")
            os.replace(temporary, path)
        except OSError as error:
            log.warning("could not save the batch check in %s: %s", self.directory, error)
            temporary.unlink(missing_ok=True)

    def _width_path(self, key: str) -> Path:
        return self.directory / f"width-{hashlib.sha256(key.encode()).hexdigest()[:24]}.json"

