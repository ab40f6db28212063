"""Raw llama.cpp for the benchmarks: its C API alone (llama-cpp-python's bindings), no storyline
code, to time what the model itself costs: reading tokens once (the floor), replaying calls, and
the rates of prompt evaluation and greedy generation without a grammar."""

from __future__ import annotations

import statistics
import time

import llama_cpp


class RawModel:
    """One model and a one-sequence context of ``context`` tokens; ``repack`` is llama.cpp's
    repacked weight layout (``use_extra_bufts``)."""

    def __init__(self, path, *, repack: bool, threads: int, context: int = 8192, batch: int = 512):
        params = llama_cpp.llama_model_default_params()
        params.use_extra_bufts = repack
        self.model = llama_cpp.llama_model_load_from_file(str(path).encode(), params)
        self.vocab = llama_cpp.llama_model_get_vocab(self.model)
        context_params = llama_cpp.llama_context_default_params()
        context_params.n_ctx, context_params.n_batch, context_params.n_ubatch = context, batch, batch
        context_params.n_threads = context_params.n_threads_batch = threads
        self.context = llama_cpp.llama_init_from_model(self.model, context_params)
        self.batch_size = batch
        self.batch = llama_cpp.llama_batch_init(batch, 0, 1)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)

    def tokenize(self, text: str) -> list[int]:
        data = text.encode()
        buffer = (llama_cpp.llama_token * (len(data) + 16))()
        count = llama_cpp.llama_tokenize(self.vocab, data, len(data), buffer, len(buffer), False, False)
        return list(buffer[:count])

    def clear(self) -> None:
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(self.context), True)

    def evaluate(self, tokens: list[int], start: int = 0) -> None:
        """``tokens`` from position ``start``, ``batch`` at a time, logits for the last only."""
        batch = self.batch
        for first in range(0, len(tokens), self.batch_size):
            part = tokens[first:first + self.batch_size]
            batch.n_tokens = len(part)
            for index, token in enumerate(part):
                batch.token[index], batch.pos[index], batch.n_seq_id[index] = token, start + first + index, 1
                batch.seq_id[index][0], batch.logits[index] = 0, first + index == len(tokens) - 1
            llama_cpp.llama_decode(self.context, batch)

    def generate(self, count: int, start: int) -> None:
        """``count`` tokens chosen greedily without a grammar, one decode each, after ``start``."""
        chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
        llama_cpp.llama_sampler_chain_add(chain, llama_cpp.llama_sampler_init_greedy())
        for offset in range(count):
            token = llama_cpp.llama_sampler_sample(chain, self.context, -1)
            self.evaluate([token], start + offset)
        llama_cpp.llama_sampler_free(chain)

    def floor(self, texts: list[str], runs: int = 1) -> float:
        """Seconds to evaluate each text's tokens once, from position 0 (the median of ``runs``)."""
        tokens = [self.tokenize(text)[:8192] for text in texts]
        timings = []
        for _ in range(runs):
            seconds = 0.0
            for own in tokens:
                self.clear()
                started = time.perf_counter()
                self.evaluate(own)
                seconds += time.perf_counter() - started
            timings.append(seconds)
        return statistics.median(timings)

    def rates(self, prompt: list[int], generate: int = 128, runs: int = 3) -> tuple[float, float]:
        """Median tokens a second of prompt evaluation and of greedy generation after it."""
        reading, writing = [], []
        for _ in range(runs):
            self.clear()
            started = time.perf_counter()
            self.evaluate(prompt)
            reading.append(len(prompt) / (time.perf_counter() - started))
            started = time.perf_counter()
            self.generate(generate, len(prompt))
            writing.append(generate / (time.perf_counter() - started))
        self.clear()
        return statistics.median(reading), statistics.median(writing)

    def close(self) -> None:
        llama_cpp.llama_batch_free(self.batch)
        llama_cpp.llama_free(self.context)
        llama_cpp.llama_model_free(self.model)
