"""The call cache in a folder that runs share: a lock is waited for, and is not damage."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from storyline.cache import CallCache
from storyline.errors import InputError


def _lock(folder: Path) -> sqlite3.Connection:
    """Another run in the middle of a write to the cache in ``folder``."""
    holder = sqlite3.connect(folder / "calls" / "cache.db", isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def _release(holder: sqlite3.Connection) -> None:
    holder.execute("ROLLBACK")
    holder.close()


def _filled(folder: Path) -> None:
    cache = CallCache(folder)
    cache.set("key", "value")
    cache.close()


def test_a_cache_another_run_holds_for_a_moment_is_waited_for(tmp_path):
    _filled(tmp_path)
    holder = _lock(tmp_path)
    threading.Timer(0.5, _release, [holder]).start()
    cache = CallCache(tmp_path)
    assert cache.recovered is None and cache.get("key") == "value"
    assert not list(tmp_path.glob("calls.damaged-*"))
    cache.close()


@pytest.mark.slow  # diskcache waits a minute for a lock before it gives up
def test_a_cache_held_locked_too_long_is_refused_with_a_message_and_never_moved_aside(tmp_path):
    _filled(tmp_path)
    holder = _lock(tmp_path)
    try:
        with pytest.raises(InputError, match="--cache-dir") as refused:
            CallCache(tmp_path)
        assert str(tmp_path / "calls") in str(refused.value)
    finally:
        _release(holder)
    assert not list(tmp_path.glob("calls.damaged-*"))
    cache = CallCache(tmp_path)
    assert cache.get("key") == "value" and cache.recovered is None
    cache.close()


def test_a_damaged_cache_is_moved_aside_and_a_new_one_started(tmp_path):
    CallCache(tmp_path).close()
    (tmp_path / "calls" / "cache.db").write_bytes(b"not a database" * 100)
    cache = CallCache(tmp_path)
    assert cache.recovered and "damaged" in cache.recovered
    assert len(list(tmp_path.glob("calls.damaged-*"))) == 1
    cache.set("key", "value")
    assert cache.get("key") == "value"
    cache.close()
