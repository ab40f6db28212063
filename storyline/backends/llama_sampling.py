"""Choosing each token of one reply under a JSON grammar, with llama.cpp's samplers.

At temperature 0 the best token is checked against the grammar alone, as llama.cpp's own
sampler does (``common/sampling.cpp``): llama-cpp-python applies the grammar to the whole
vocabulary at every token (262,144 entries for Gemma), which costs more than the model. At a
higher temperature the grammar is applied to the whole vocabulary first and the sampler chain
draws from what it allows, as llama-cpp-python does, so the draw follows the constrained
distribution.
"""

from __future__ import annotations

import ctypes

import llama_cpp
import numpy as np

_TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)], align=True)


class ReplySampler:
    """The grammar (and, above temperature 0, the sampler chain) of one reply. Each token is
    accepted once, by the grammar and by the chain (which keeps no state today but would with
    penalties): never through ``llama_sampler_sample``, which accepts on its own."""

    def __init__(self, vocab, n_vocab: int, gbnf: str, *, temperature: float = 0.0, seed: int = 0,
                 top_k: int = 40, top_p: float = 0.95, min_p: float = 0.05):
        self._vocab = vocab
        self._n_vocab = n_vocab
        self._grammar = llama_cpp.llama_sampler_init_grammar(vocab, gbnf.encode(), b"root")
        if not self._grammar:
            raise RuntimeError("llama.cpp could not parse the JSON grammar")
        self._chain = _chain(temperature, seed, top_k, top_p, min_p) if temperature > 0 else None
        self._candidates: np.ndarray | None = None

    def choose(self, logits: np.ndarray) -> int:
        """The next token, given the logits after the reply so far."""
        if self._chain is None:
            return self._greedy(logits)
        array = self._whole_vocabulary(logits)
        llama_cpp.llama_sampler_apply(self._grammar, ctypes.byref(array))
        llama_cpp.llama_sampler_apply(self._chain, ctypes.byref(array))
        return int(array.data[array.selected].id)

    def accept(self, token: int) -> None:
        llama_cpp.llama_sampler_accept(self._grammar, token)
        if self._chain is not None:
            llama_cpp.llama_sampler_accept(self._chain, token)

    def is_end(self, token: int) -> bool:
        return bool(llama_cpp.llama_vocab_is_eog(self._vocab, token))

    def complete(self) -> bool:
        """The grammar is complete when it would accept the end of generation now."""
        end = llama_cpp.llama_vocab_eos(self._vocab)
        return end >= 0 and self.allows(end)

    def free(self) -> None:
        if self._grammar is not None:
            llama_cpp.llama_sampler_free(self._grammar)
            self._grammar = None
        if self._chain is not None:
            llama_cpp.llama_sampler_free(self._chain)
            self._chain = None

    def allows(self, token: int) -> bool:
        """Whether the grammar accepts ``token`` next (one candidate, not the whole vocabulary)."""
        single = (llama_cpp.llama_token_data * 1)(llama_cpp.llama_token_data(token, 0.0, 0.0))
        candidates = llama_cpp.llama_token_data_array(single, 1, -1, False)
        llama_cpp.llama_sampler_apply(self._grammar, ctypes.byref(candidates))
        return bool(np.isfinite(candidates.data[0].logit))

    def _greedy(self, logits: np.ndarray) -> int:
        """The best-scoring token the grammar allows, as llama.cpp's own sampler finds it: the
        best token is checked alone, and only if the grammar refuses it are the 64 best checked,
        in descending order of logit (ties by token id, as llama.cpp's greedy sampler breaks
        them); only if none is allowed is the grammar applied to the whole vocabulary. The answer
        is the same as applying the grammar first."""
        best = int(np.argmax(logits))
        if self.allows(best):
            return best
        top = np.argpartition(-logits, 64)[:64] if self._n_vocab > 64 else np.arange(self._n_vocab)
        top = top[np.lexsort((top, -logits[top]))]
        token = self._first_allowed(top, logits)
        if token is not None:
            return token
        array = self._whole_vocabulary(logits)
        llama_cpp.llama_sampler_apply(self._grammar, ctypes.byref(array))
        candidates = self._candidates
        assert candidates is not None
        return int(candidates["id"][int(np.argmax(candidates["logit"]))])

    def _whole_vocabulary(self, logits: np.ndarray):
        """Every token as a candidate (samplers reorder the array in place: every field is
        filled again)."""
        if self._candidates is None:
            self._candidates = np.zeros(self._n_vocab, dtype=_TOKEN_DATA)
        candidates = self._candidates
        candidates["id"] = np.arange(self._n_vocab, dtype=np.int32)
        candidates["logit"] = logits
        candidates["p"] = 0.0
        return llama_cpp.llama_token_data_array(
            candidates.ctypes.data_as(llama_cpp.llama_token_data_p), self._n_vocab, -1, False)

    def _first_allowed(self, ids: np.ndarray, logits: np.ndarray) -> int | None:
        subset = np.zeros(len(ids), dtype=_TOKEN_DATA)
        subset["id"], subset["logit"] = ids, logits[ids]
        array = llama_cpp.llama_token_data_array(
            subset.ctypes.data_as(llama_cpp.llama_token_data_p), len(ids), -1, False)
        llama_cpp.llama_sampler_apply(self._grammar, ctypes.byref(array))
        allowed = np.flatnonzero(np.isfinite(subset["logit"]))
        return int(subset["id"][allowed[0]]) if len(allowed) else None


def _chain(temperature: float, seed: int, top_k: int, top_p: float, min_p: float):
    """top-k, top-p, min-p, temperature, then a seeded draw (llama-cpp-python's order)."""
    chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
    for sampler in (llama_cpp.llama_sampler_init_top_k(top_k),
                    llama_cpp.llama_sampler_init_top_p(top_p, 1),
                    llama_cpp.llama_sampler_init_min_p(min_p, 1),
                    llama_cpp.llama_sampler_init_temp(temperature),
                    llama_cpp.llama_sampler_init_dist(seed)):
        llama_cpp.llama_sampler_chain_add(chain, sampler)
    return chain
