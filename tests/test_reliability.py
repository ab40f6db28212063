"""Promises that need real processes: a killed run resumes without redoing finished work,
concurrent runs share a cache folder safely, a damaged cache does not stop a run, and one bad
article never loses the others (the full bad-input corpus is benchmarks/bad_inputs.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SEEDS

pytestmark = pytest.mark.slow  # real models, servers or several processes

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


def _storyline(*args, **kwargs):
    return subprocess.run(["storyline", *args], capture_output=True, text=True, timeout=600, **kwargs)


def _corpus(folder: Path, count: int) -> Path:
    folder.mkdir()
    for index in range(count):
        lines = [f"Minister {index} resigned on Monday after vote number {index}.",
                 f"Talks {index} were held in city {index} on Sunday.", f"A report {index} was published."]
        (folder / f"a{index:03d}.txt").write_text("\n".join(lines) + "\n")
    return folder


def _cached_calls(cache: Path) -> int:
    import diskcache

    if not (cache / "calls").exists():
        return 0
    with diskcache.Cache(str(cache / "calls")) as store:
        return len(store)


def test_kill_9_then_resume_redoes_no_finished_chunk_and_gives_the_same_output(tiny_gguf, tmp_path):
    corpus = _corpus(tmp_path / "corpus", 40)
    args = ["extract", str(corpus), "--model", str(tiny_gguf), "--published", "2025-03-17", "-q"]
    reference = _storyline(*args, "-o", str(tmp_path / "reference.jsonl"), "--cache-dir", str(tmp_path / "ref"))
    assert reference.returncode == 0, reference.stderr

    cache = tmp_path / "cache"
    process = subprocess.Popen(["storyline", *args, "-o", str(tmp_path / "out.jsonl"), "--cache-dir", str(cache)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while _cached_calls(cache) < 10 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished = _cached_calls(cache)
    assert 10 <= finished < 40, "the run was not interrupted mid-extraction"
    assert not (tmp_path / "out.jsonl").exists()  # nothing half-written

    resumed = _storyline(*args, "-o", str(tmp_path / "out.jsonl"), "--cache-dir", str(cache), "--stats")
    assert resumed.returncode == 0, resumed.stderr
    calls = next(line for line in resumed.stderr.splitlines() if line.startswith("extract"))
    made, cached = (int(x) for x in calls.split()[1:3])
    assert cached == finished and made == 40 - finished  # no finished chunk was redone
    assert (tmp_path / "out.jsonl").read_text() == (tmp_path / "reference.jsonl").read_text()


def test_four_concurrent_runs_share_one_cache_folder(tiny_gguf, tmp_path):
    cache = tmp_path / "cache"
    outputs = []
    for round_ in range(2):  # the second round starts from saved instruction states and cached calls
        processes = [subprocess.Popen(
            ["storyline", "summarize", str(SEEDS), "--model", str(tiny_gguf), "--format", "json", "-q",
             "--cache-dir", str(cache), "-o", str(tmp_path / f"out-{round_}-{i}.json")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(4)]
        for process in processes:
            _, stderr = process.communicate(timeout=600)
            assert process.returncode == 0, stderr
            assert stderr == ""
        outputs += [json.loads((tmp_path / f"out-{round_}-{i}.json").read_text()) for i in range(4)]
    bodies = [{k: v for k, v in document.items() if k != "meta"} for document in outputs]
    assert all(body == bodies[0] for body in bodies)
    assert len(list((cache / "prefix").glob("*.state"))) == 3  # the extraction, headline and summary instructions
    assert not list((cache / "prefix").glob("*.tmp"))


@pytest.mark.parametrize("damage", ["truncated", "overwritten"])
def test_a_damaged_cache_is_moved_aside_and_the_run_goes_on(tiny_gguf, tmp_path, damage):
    cache = tmp_path / "cache"
    args = ["summarize", str(SEEDS), "--model", str(tiny_gguf), "--cache-dir", str(cache), "--format", "json"]
    first = _storyline(*args, "-q")
    assert first.returncode == 0, first.stderr
    database = cache / "calls" / "cache.db"
    data = database.read_bytes()
    database.write_bytes(data[: len(data) // 3] if damage == "truncated" else b"not a database" * 100)
    again = _storyline(*args)
    assert again.returncode == 0, again.stderr
    assert "damaged" in again.stderr and "Traceback" not in again.stderr
    assert list(cache.glob("calls.damaged-*"))
    before, after = json.loads(first.stdout), json.loads(again.stdout)
    assert (after["timeline"], after["summary"]) == (before["timeline"], before["summary"])
    assert any("damaged" in w for w in after["meta"]["warnings"])


@pytest.mark.parametrize("where", ["a file", "/proc"])
def test_an_unusable_cache_folder_is_a_clear_error(tiny_gguf, tmp_path, where):
    target = tmp_path / "file"
    target.write_text("x")
    folder = str(target) if where == "a file" else "/proc/storyline-cache"
    run = _storyline("summarize", str(SEEDS), "--model", str(tiny_gguf), "--cache-dir", folder)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "--no-cache" in run.stderr or "--cache-dir" in run.stderr


def test_a_stale_cache_entry_is_computed_again(tmp_path):
    from conftest import oracle

    from storyline import summarize
    from storyline.backends.scripted import ScriptedBackend
    from storyline.cache import CallCache

    cache = tmp_path / "cache"
    summarize([SEEDS], backend=ScriptedBackend(responder=oracle, identity="o"), cache_dir=cache)
    store = CallCache(cache)
    for key in list(store._store.iterkeys()):
        store.set(key, '{"stale": true}')  # a result from an older schema
    store.close()
    stats = summarize([SEEDS], backend=ScriptedBackend(responder=oracle, identity="o"), cache_dir=cache).meta.stats
    assert stats.cache_hits == 0 and stats.extract_calls == 5


@pytest.mark.parametrize("kind", ["empty file", "invalid UTF-8", "NUL bytes", "front matter: table as title",
                                  "front matter: impossible date", "manifest: top-level keys", "symlink loop",
                                  "20,000 characters without a space", "chat control tokens",
                                  "impossible dates in the text", "the same article twice", "HTML file"])
def test_one_bad_input_never_loses_the_good_articles(tiny_gguf, tmp_path, kind):
    from bad_inputs import KINDS, SEED_IDS

    make, _ = KINDS[kind]
    folder = tmp_path / "bad"
    folder.mkdir()
    bad = make(folder)
    inputs = [str(bad)] if kind == "symlink loop" else [str(folder)]
    run = _storyline("summarize", str(SEEDS), *inputs, "--model", str(tiny_gguf), "--format", "json",
                     "--cache-dir", str(tmp_path / "cache"), "--published", "2025-03-17")
    assert "Traceback" not in run.stderr
    if kind == "symlink loop":  # a mistake on the command line: refused at once, by name
        assert run.returncode == 2 and "loop.txt" in run.stderr
        return
    assert run.returncode == 0, run.stderr
    ids = {a["id"] for a in json.loads(run.stdout)["articles"]}
    assert set(SEED_IDS) <= ids


def test_the_tests_need_no_network_and_no_tiktoken_download(tmp_path):
    """The suite is hermetic: no test asks tiktoken for its encoding."""
    code = ("import tiktoken\n"
            "def refuse(*a, **k): raise SystemExit('tiktoken was asked for an encoding')\n"
            "tiktoken.get_encoding = refuse\n"
            "from storyline.backends.scripted import ScriptedBackend\n"
            "from storyline import summarize\n"
            "import sys; sys.path.insert(0, 'tests')\n"
            "from conftest import oracle\n"
            f"summarize([{str(SEEDS)!r}], backend=ScriptedBackend(responder=oracle), use_cache=False)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1],
                         env={**os.environ, "TIKTOKEN_CACHE_DIR": str(tmp_path)})
    assert run.returncode == 0, run.stderr
