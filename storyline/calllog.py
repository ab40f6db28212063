"""A log of the model calls of runs, kept beside the cache: what the model was asked, what it
answered, at what cost, and whether the cache answered instead (``storyline log``).

The cache keeps only a hash of each request and the validated output, so someone who edits the
prompts cannot see what was sent or what came back before validation; this log can. It is
bounded: the newest ``LIMIT`` calls are kept (a few megabytes), older ones dropped as new ones
come. Writing it never stops a run: a log that cannot be written is reported once and left alone.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import threading
from pathlib import Path

from pydantic import BaseModel

from .backends import Generation, GenerationRequest

log = logging.getLogger(__name__)

LIMIT = 2000
"""Calls kept; at a few kilobytes a call (the prompt and the reply), a few megabytes."""

_SCHEMA = """CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, stage TEXT NOT NULL, model TEXT NOT NULL,
    messages TEXT NOT NULL, reply TEXT NOT NULL, prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL, seconds REAL NOT NULL, cached INTEGER NOT NULL, finish TEXT NOT NULL)"""


class LoggedCall(BaseModel):
    id: int
    at: str
    stage: str
    model: str
    messages: list[tuple[str, str]]
    reply: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    cached: bool
    finish: str


class CallLog:
    """The log in ``directory / "log.db"`` (SQLite: several runs may share a cache folder)."""

    def __init__(self, directory: str | Path, *, limit: int = LIMIT):
        self.path = Path(directory) / "log.db"
        self.limit = limit
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._broken = False

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(_SCHEMA)
            self._connection = connection
        return self._connection

    def record(self, stage: str, model: str, request: GenerationRequest, generation: Generation | None = None,
               *, cached_reply: str | None = None) -> None:
        """One call: a generation, or (``cached_reply``) a result the cache gave instead."""
        if self._broken:
            return
        reply = cached_reply if generation is None else generation.text
        row = (dt.datetime.now().isoformat(timespec="seconds"), stage, model, json.dumps(request.messages),
               reply or "", generation.prompt_tokens if generation else 0,
               generation.completion_tokens if generation else 0, generation.seconds if generation else 0.0,
               int(generation is None), generation.finish_reason if generation else "cache")
        try:
            with self._lock:
                connection = self._connect()
                newest = connection.execute(
                    "INSERT INTO calls (at, stage, model, messages, reply, prompt_tokens, completion_tokens, "
                    "seconds, cached, finish) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row).lastrowid
                connection.execute("DELETE FROM calls WHERE id <= ?", ((newest or 0) - self.limit,))
        except (sqlite3.Error, OSError) as error:
            self._broken = True
            log.warning("warning: the call log %s cannot be written (%s); this run is not logged", self.path, error)

    def newest(self, count: int, stage: str | None = None) -> list[LoggedCall]:
        """The ``count`` newest calls (of ``stage``), newest first."""
        where, values = ("WHERE stage = ?", (stage, count)) if stage else ("", (count,))
        return self._read(f"SELECT * FROM calls {where} ORDER BY id DESC LIMIT ?", values)

    def get(self, call_id: int) -> LoggedCall | None:
        found = self._read("SELECT * FROM calls WHERE id = ?", (call_id,))
        return found[0] if found else None

    def _read(self, query: str, values: tuple) -> list[LoggedCall]:
        if not self.path.exists():
            return []
        with self._lock:
            cursor = self._connect().execute(query, values)
            names = [column[0] for column in cursor.description]
            rows = cursor.fetchall()
        return [LoggedCall.model_validate({**dict(zip(names, row, strict=True)),
                                           "messages": json.loads(row[names.index("messages")])}) for row in rows]

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
