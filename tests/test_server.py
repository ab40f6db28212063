"""storyline against a real OpenAI-compatible server on 127.0.0.1: llama-cpp-python's own
(``python -m llama_cpp.server``), on the tiny model and on SmolLM2."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
from conftest import SEEDS
from test_cli import _quote_is_a_sentence_of

from storyline.testing import LlamaCppServer

pytestmark = pytest.mark.slow  # real models, servers or several processes


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def tiny_server(tiny_gguf):
    server = LlamaCppServer(tiny_gguf)
    yield server
    server.stop()


def _storyline(*args, env=None, timeout=900):
    return subprocess.run(["storyline", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def _summarize(url: str, cache: Path, *args: str, inputs=(SEEDS,), env=None):
    return _storyline("summarize", *map(str, inputs), "--model", url, "--format", "json", "-q",
                      "--cache-dir", str(cache), *args, env=env)


def test_end_to_end_through_the_server(tiny_server, tmp_path):
    run = _summarize(tiny_server.url, tmp_path / "cache", "--stats")
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    schema = json.loads(_storyline("schema").stdout)
    import jsonschema

    jsonschema.validate(document, schema)
    texts = {p.stem: p.read_text() for p in SEEDS.glob("*.txt")}
    for event in document["timeline"]:
        for mention in event["mentions"]:
            assert _quote_is_a_sentence_of(mention["quote"], texts[mention["article"]])
    stats = document["meta"]["stats"]
    assert stats["extract_calls"] >= 5 and stats["token_counts"] == "reported by the server"
    assert stats["prompt_tokens_evaluated"] > stats["source_tokens"] > 0
    assert document["meta"]["model"].endswith(f"at {tiny_server.url}")


def test_same_output_with_one_or_four_requests_in_flight(tiny_server, tmp_path):
    one = _summarize(tiny_server.url, tmp_path / "one", "--parallel", "1")
    four = _summarize(tiny_server.url, tmp_path / "four", "--parallel", "4")
    assert one.returncode == 0 and four.returncode == 0, one.stderr + four.stderr
    assert ({k: v for k, v in json.loads(one.stdout).items() if k != "meta"}
            == {k: v for k, v in json.loads(four.stdout).items() if k != "meta"})


def test_a_lost_server_is_a_clear_error_and_the_next_run_resumes(tiny_gguf, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for index in range(30):
        (corpus / f"a{index:02d}.txt").write_text(f"Minister {index} resigned on Monday after the vote.\n"
                                                  f"Talks {index} were held in the capital on Sunday.\n")
    server = LlamaCppServer(tiny_gguf)
    cache = tmp_path / "cache"
    process = subprocess.Popen(
        ["storyline", "summarize", str(corpus), "--model", server.url, "--parallel", "1", "--format", "json",
         "--cache-dir", str(cache), "--published", "2025-03-17"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    import diskcache

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if (cache / "calls").exists():
            with diskcache.Cache(str(cache / "calls")) as store:
                if len(store) >= 5:
                    break
        time.sleep(0.1)
    server.stop()
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 2, stderr
    assert server.url in stderr and "Traceback" not in stderr
    with diskcache.Cache(str(cache / "calls")) as store:
        finished = len(store)
    assert 5 <= finished < 30

    again = LlamaCppServer(tiny_gguf, port=server.port)  # the same address: the cache is kept per server and model
    try:
        resumed = _storyline("summarize", str(corpus), "--model", again.url, "--format", "json", "--stats",
                             "--cache-dir", str(cache), "--published", "2025-03-17", "-q")
    finally:
        again.stop()
    assert resumed.returncode == 0, resumed.stderr
    stats = json.loads(resumed.stdout)["meta"]["stats"]
    assert stats["stages"]["extract"]["cache_hits"] == finished
    extract = stats["stages"]["extract"]
    assert extract["calls"] - extract["retries"] == 30 - finished, extract  # each unfinished chunk asked anew


def test_unreachable_server_wrong_model_and_refused_key_are_clear_errors(tiny_server, tmp_path):
    dead = f"http://127.0.0.1:{_free_port()}/v1"
    run = _summarize(dead, tmp_path / "a")
    assert run.returncode == 2 and "Cannot reach" in run.stderr and dead in run.stderr
    run = _summarize(tiny_server.url, tmp_path / "b", "--server-model", "no-such-model")
    assert run.returncode == 2 and "no-such-model" in run.stderr and "Traceback" not in run.stderr


def test_the_api_key_is_sent_and_never_shown(tiny_gguf, tmp_path):
    server = LlamaCppServer(tiny_gguf, "--api_key", "right-key")
    try:
        wrong = _summarize(server.url, tmp_path / "a", env={"STORYLINE_API_KEY": "wrong-secret-key"})
        right = _summarize(server.url, tmp_path / "b", env={"STORYLINE_API_KEY": "right-key"})
    finally:
        server.stop()
    assert wrong.returncode == 2 and "STORYLINE_API_KEY" in wrong.stderr
    assert "wrong-secret-key" not in wrong.stderr + wrong.stdout
    assert right.returncode == 0, right.stderr
    assert "right-key" not in right.stdout


def test_smollm2_through_the_server(smollm2, tmp_path):
    server = LlamaCppServer(smollm2)
    try:
        run = _summarize(server.url, tmp_path / "cache", inputs=(SEEDS / "002_c924205565333087.txt",),
                         env={})
    finally:
        server.stop()
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    text = (SEEDS / "002_c924205565333087.txt").read_text()
    for event in document["timeline"]:
        for mention in event["mentions"]:
            assert _quote_is_a_sentence_of(mention["quote"], text)
            assert not mention["when"] or mention["when"].lower() in mention["quote"].lower()


def test_token_counts_are_asked_in_parallel_and_each_text_once(tiny_server, tiny_gguf, monkeypatch):
    """Planning a story of thousands of sentences through a server counts them with many requests
    in flight, not one after another; the counts are the server's (its tokenizer is the model's)."""
    import threading

    from conftest import reference_vocabulary

    from storyline.backends.server import ServerBackend

    backend = ServerBackend(tiny_server.url)
    texts = [f"Sentence number {i} says the spill reached the coast." for i in range(40)] * 2
    lock, state = threading.Lock(), {"now": 0, "most": 0, "asked": 0}
    request = backend._request

    def counted(method, url, body=None):
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
            state["asked"] += 1
        try:
            time.sleep(0.05)
            return request(method, url, body)
        finally:
            with lock:
                state["now"] -= 1

    monkeypatch.setattr(backend, "_request", counted)
    counts = backend.tokenizer.count_many(texts)
    vocabulary = reference_vocabulary(tiny_gguf)
    # llama-cpp-python's server counts the start-of-text token too
    assert counts == [len(vocabulary.tokenize(text.encode(), add_bos=True, special=False)) for text in texts]
    assert state["asked"] == 40 and state["most"] > 1
    backend.close()

