"""Replies written together (``storyline.backends.llama_scheduler``): the same replies as one at a
time, a batch check that finds how many rows the kernels keep exact, and a close that never frees
the model under a caller."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import SEEDS

from storyline.backends.llama import LlamaCppBackend, LlamaOptions, fixed_opening
from storyline.backends.llama_engine import BackendClosedError, LlamaEngine
from storyline.backends.llama_scheduler import Scheduler
from storyline.extract import extraction_schema
from storyline.headlines import headline_schema
from storyline.ingest import load_articles
from storyline.pipeline import Pipeline


def _requests(backend, count: int):
    return [call.request for call in Pipeline(backend, use_cache=False).plan(load_articles([SEEDS]))][:count]


@pytest.mark.slow
def test_replies_written_together_are_byte_identical_to_replies_written_one_at_a_time(qwen05, monkeypatch):
    """On the real 0.5B model (the same Q4_K_M kernels as the default model): the seeds'
    extraction calls decoded four at a time give exactly the replies they give alone."""
    alone = LlamaCppBackend(qwen05, LlamaOptions(parallel=1))
    requests = _requests(alone, 8)
    expected = [alone.generate(request).text for request in requests]
    alone.close()
    rows: list[int] = []
    step = LlamaEngine.step
    monkeypatch.setattr(LlamaEngine, "step", lambda engine, batch: (rows.append(len(batch)), step(engine, batch))[1])
    together = LlamaCppBackend(qwen05, LlamaOptions(parallel=4))
    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda request: together.generate(request).text, requests))
    together.close()
    assert together.batch_width == 4, "the batch check found this machine's kernels inexact for 4 rows"
    assert max(rows) == 4 and sum(rows) > len(rows)  # replies really were decoded together
    assert replies == expected


class _ExactUpTo:
    """An engine whose logits depend only on each slot's own tokens, except that a decode of
    more than ``exact`` rows perturbs them, as kernels that change with the row count do."""

    keeps_prefixes = True

    def __init__(self, slots: int, exact: int):
        self.slots, self.exact = slots, exact
        self.held: dict[int, list[int]] = {slot: [] for slot in range(slots)}
        self.rows: list[np.ndarray] = []

    def tokenize(self, text: bytes, add_bos: bool = True, special: bool = False) -> list[int]:
        return list(text[:40])

    def _logits(self, slot: int, noisy: bool) -> np.ndarray:
        values = np.sin(np.arange(64, dtype=np.float32) * (1 + sum(self.held[slot]) % 97))
        return values + np.float32(1e-6) if noisy else values

    def evaluate(self, slot: int, tokens, start: int) -> None:
        self.held[slot] = self.held[slot][:start] + list(tokens)
        self.rows = [self._logits(slot, False)]

    def step(self, rows) -> None:
        for slot, token, position in rows:
            self.held[slot] = [*self.held[slot][:position], token]
        self.rows = [self._logits(slot, len(rows) > self.exact) for slot, _, _ in rows]

    def logits(self, row: int) -> np.ndarray:
        return self.rows[row]

    def keep(self, slot: int, count: int) -> None:
        self.held[slot] = self.held[slot][:count]


@pytest.mark.parametrize(("exact", "expected"), [(1, 1), (2, 2), (3, 3), (4, 4), (9, 4)])
def test_the_batch_check_finds_how_many_rows_decode_exactly(exact, expected):
    engine = _ExactUpTo(4, exact)
    assert Scheduler(engine)._invariant_width() == expected  # type: ignore[arg-type]
    assert all(held == [] for held in engine.held.values())  # and it leaves every slot empty


def test_a_reply_of_one_required_property_opens_with_it():
    assert fixed_opening(extraction_schema(10, 3)) == '{"events":'
    assert fixed_opening(headline_schema(2)) == '{"headlines":'
    two = {"type": "object", "properties": {"a": {}, "b": {}}, "required": ["a", "b"]}
    assert fixed_opening(two) == "" and fixed_opening({"type": "array"}) == ""


@pytest.mark.slow
def test_the_opening_is_read_with_the_prompt_not_written(qwen05):
    backend = LlamaCppBackend(qwen05, LlamaOptions(parallel=1))
    (request,) = _requests(backend, 1)
    generation = backend.generate(request)
    backend.close()
    from conftest import reference_vocabulary

    opening = reference_vocabulary(qwen05).tokenize(b'{"events":', add_bos=False, special=False)
    assert generation.text.startswith('{"events":')
    # all but its last token, which the model writes run into what follows ('":[["')
    assert generation.prompt_tokens == backend_prompt_tokens(qwen05, request) + len(opening) - 1


def backend_prompt_tokens(path, request) -> int:
    """The prompt's tokens as llama-cpp-python's own chat formatter and tokenizer give them."""
    from conftest import reference_vocabulary
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    vocabulary = reference_vocabulary(path)
    formatter = Jinja2ChatFormatter(template=vocabulary.metadata["tokenizer.chat_template"],
                                    eos_token="<|im_end|>", bos_token="<|endoftext|>")
    prompt = formatter(messages=[{"role": r, "content": c} for r, c in request.messages]).prompt
    return len(vocabulary.tokenize(prompt.encode(), add_bos=False, special=True))


@pytest.mark.slow
def test_closing_while_replies_are_written_frees_nothing_under_them(tiny_gguf):
    """A Ctrl-C closes the backend while worker threads wait for replies or are tokenizing: each
    caller gets its reply or a BackendClosedError, nothing crashes, and later calls are refused."""
    backend = LlamaCppBackend(tiny_gguf, LlamaOptions(parallel=4))
    requests = _requests(backend, 5) * 4
    outcomes: list[object] = []
    started = threading.Event()

    def call(request):
        started.set()
        try:
            outcomes.append(backend.generate(request))
        except BackendClosedError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=call, args=(request,)) for request in requests]
    for thread in threads:
        thread.start()
    started.wait()
    backend.close()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert len(outcomes) == len(requests)
    assert any(isinstance(outcome, BackendClosedError) for outcome in outcomes)
    with pytest.raises(BackendClosedError):
        backend.generate(requests[0])
    with pytest.raises(BackendClosedError):
        backend.count_prompt_tokens(requests[0].messages)
