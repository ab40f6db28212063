"""Several replies written together on one llama.cpp model: a queue, a slot per reply, and one
thread that drives the engine.

A generated token costs a CPU far more than a token read (on this project's 2-core machine the
1.5B model reads about 200 tokens a second and writes about 30), and most of a token's cost is
the same whether one sequence or several are decoded: several replies written together share it
(``models/README.md`` has the figures). Callers (the pipeline's worker threads) each submit a
reply and wait; the scheduler thread evaluates each new prompt on its own, in its own slot, then
advances every reply in progress by one token per ``llama_decode``, and starts the next reply in
the queue as soon as a slot frees.

**The same reply whatever is decoded beside it.** A reply must not depend on which other replies
share its decodes: the cache would then hold results that depend on timing and on what was
cached before. Each slot has its own KV stream (``LlamaEngine``), so its cells are laid out as if
alone; whether llama.cpp's matrix kernels compute each row of a batch exactly as they compute a
row alone depends on the CPU, the build and the number of rows (on this project's machine they do
up to seven rows with the plain weight layout, and up to three with the repacked one). So before
the first reply, the scheduler checks it (``_invariant_width``): a few tokens are decoded alone
and then together, two rows at a time, three, and so on, and the logits compared bit for bit;
replies are then decoded at most as many together as matched. A mismatch costs speed, never
output.

Only the instruction prefix (the system prompt and its framing) is kept from one reply to the
next in a slot, never a longer match with an earlier prompt: the rest is always evaluated from
the same position in the same batches, so the output does not depend on what ran before. The
prefix itself is evaluated on its own, or restored from a state saved the same way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import ChoiceReading, Generation, repeating
from .llama_engine import BackendClosedError, LlamaEngine
from .llama_sampling import ReplySampler
from .llama_state import PrefixStates

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Reply:
    """One prompt to evaluate and, unless it is a reading (``parting`` given), a reply to write."""

    tokens: list[int]
    prefix: list[int]
    limit: int = 0
    make_sampler: Callable[[], ReplySampler] | None = None
    parting: list[int] | None = None
    """For a reading: the tokens whose log-probabilities are wanted after the prompt."""
    progress: Callable[[int], None] | None = None
    result: Generation | ChoiceReading | None = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)
    # while it is being written
    slot: int = -1
    sampler: ReplySampler | None = None
    written: list[int] = field(default_factory=list)
    next_token: int = -1
    evaluated: int = 0
    seconds: float = 0.0


PROBE_TEXT = (b"The city council approved the budget on Monday after a long debate, and the mayor said the "
              b"vote was a good day for the city. Teachers went on strike on Tuesday over pay.")
PROBE_STEPS = 1


class Scheduler:
    """Runs replies on ``engine``, up to ``engine.slots`` at once (see the module's docstring).

    ``prefixes`` saves and restores evaluated instruction prefixes between runs. ``close()``
    stops the thread after its current decode, fails the replies still waiting, and only then
    lets the caller free the engine: a reply is never decoded on a freed model.
    """

    def __init__(self, engine: LlamaEngine, prefixes: PrefixStates | None = None, width_key: str = ""):
        self._engine = engine
        self._prefixes = prefixes
        self._width_key = width_key
        self._queue: deque[Reply] = deque()
        self._active: list[Reply] = []
        self._free = list(range(engine.slots))
        self._held: dict[int, list[int]] = {slot: [] for slot in range(engine.slots)}
        """The tokens each slot's cache holds from position 0 (what a prompt put there)."""
        self._states: dict[tuple[int, ...], bytes] = {}
        """Evaluated instruction prefixes, to copy into the other slots rather than evaluate again."""
        self._wake = threading.Condition()
        self._closing = False
        self._thread: threading.Thread | None = None
        self.width: int | None = None
        """How many replies are decoded together (checked on first use; see the module)."""

    # --- the callers' side -------------------------------------------------------------------

    def run(self, reply: Reply) -> Generation | ChoiceReading:
        """Queue ``reply``, wait for it, and return its result (or raise its error)."""
        with self._wake:
            if self._closing:
                raise BackendClosedError("the model was closed")
            self._queue.append(reply)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="storyline-llama", daemon=True)
                self._thread.start()
            self._wake.notify()
        reply.done.wait()
        if reply.error is not None:
            raise reply.error
        assert reply.result is not None
        return reply.result

    def close(self) -> None:
        """Stop after the decode in progress; replies not finished fail with BackendClosedError."""
        with self._wake:
            self._closing = True
            self._wake.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        for reply in [*self._queue, *self._active]:
            self._fail(reply, BackendClosedError("the model was closed before this reply was finished"))
        self._queue.clear()
        self._active.clear()

    # --- the scheduler thread ----------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self._closing and not self._queue and not self._active:
                    self._wake.wait()
                if self._closing:
                    return
                width = self.width or 1
                starting = []
                while self._queue and self._free and len(self._active) + len(starting) < width:
                    starting.append(self._queue.popleft())
                    starting[-1].slot = self._free.pop(0)
            if self.width is None:
                self.width = self._checked_width()
                self._requeue(starting[1:])
                starting = starting[:1]
            for reply in starting:
                self._start(reply)
            if self._active:
                self._advance()

    def _requeue(self, replies: list[Reply]) -> None:
        with self._wake:
            for reply in reversed(replies):
                self._free.insert(0, reply.slot)
                self._queue.appendleft(reply)
            self._free.sort()

    def _start(self, reply: Reply) -> None:
        """Evaluate a reply's prompt in its slot and choose its first token (or read it)."""
        started = time.perf_counter()
        try:
            reply.evaluated = self._evaluate_prompt(reply.slot, reply.tokens, reply.prefix)
            logits = self._engine.logits(-1)
            if reply.parting is not None:
                reply.seconds = time.perf_counter() - started
                self._finish_reading(reply, logits)
                return
            assert reply.make_sampler is not None
            reply.sampler = reply.make_sampler()
            reply.seconds = time.perf_counter() - started
            self._active.append(reply)
            self._take(reply, logits)
        except Exception as error:  # one reply's failure is reported to its caller alone
            self._forget(reply.slot)
            self._fail(reply, error)

    def _advance(self) -> None:
        """One token for every reply in progress, in one decode; its time shared among them."""
        active = list(self._active)
        started = time.perf_counter()
        try:
            self._engine.step([(r.slot, r.next_token, len(r.tokens) + len(r.written) - 1) for r in active])
        except Exception as error:
            for reply in active:
                self._forget(reply.slot)
                self._fail(reply, error)
            return
        share = (time.perf_counter() - started) / len(active)
        for row, reply in enumerate(active):
            reply.seconds += share
            self._take(reply, self._engine.logits(row))

    def _take(self, reply: Reply, logits: np.ndarray) -> None:
        """Choose the reply's next token; finish it when the grammar is complete, it falls into a
        loop (``repeating``) or reaches its limit."""
        sampler = reply.sampler
        assert sampler is not None
        token = sampler.choose(logits)
        sampler.accept(token)
        if sampler.is_end(token):
            self._finish(reply, "stop")
            return
        reply.written.append(token)
        if repeating(reply.written):
            self._finish(reply, "loop")
            return
        if reply.progress is not None:
            reply.progress(len(reply.written))
        if sampler.complete():
            self._finish(reply, "stop")
        elif len(reply.written) >= reply.limit:
            self._finish(reply, "length")
        else:
            reply.next_token = token

    def _finish(self, reply: Reply, reason: str) -> None:
        self._active.remove(reply)
        if reply.sampler is not None:
            reply.sampler.free()
        text = self._engine.detokenize(reply.written).decode("utf-8", errors="ignore")
        reply.result = Generation(text=text, prompt_tokens=len(reply.tokens), prompt_tokens_evaluated=reply.evaluated,
                                  completion_tokens=len(reply.written), seconds=reply.seconds, finish_reason=reason)
        self._release(reply)

    def _finish_reading(self, reply: Reply, logits: np.ndarray) -> None:
        values = logits.astype(np.float64)
        top = values.max()
        logprobs = values[reply.parting] - top - np.log(np.exp(values - top).sum())
        reply.result = ChoiceReading(logprobs=tuple(logprobs.tolist()), prompt_tokens=len(reply.tokens),
                                     prompt_tokens_evaluated=reply.evaluated, seconds=reply.seconds)
        self._release(reply)

    def _fail(self, reply: Reply, error: BaseException) -> None:
        if reply in self._active:
            self._active.remove(reply)
        if reply.sampler is not None:
            reply.sampler.free()
            reply.sampler = None
        reply.error = error
        self._release(reply)

    def _release(self, reply: Reply) -> None:
        if reply.slot >= 0:
            with self._wake:
                self._free.append(reply.slot)
                self._free.sort()
            reply.slot = -1
        reply.done.set()

    def _forget(self, slot: int) -> None:
        """After a failure, nothing of a slot's cache is trusted."""
        if slot >= 0:
            self._held[slot] = []

    # --- prompts -------------------------------------------------------------------------------

    def _evaluate_prompt(self, slot: int, tokens: list[int], prefix: list[int]) -> int:
        """Bring the slot's cache to ``tokens``; return how many tokens were evaluated. The
        instruction prefix is kept if the slot holds it, else restored from a saved state or
        evaluated on its own (and saved); the rest is always evaluated afresh."""
        engine = self._engine
        held = self._held[slot]
        evaluated = 0
        if not (prefix and held[:len(prefix)] == prefix):
            engine.keep(slot, 0)
            self._held[slot] = []
            if prefix and not self._restore(slot, prefix):
                engine.evaluate(slot, prefix, 0)
                evaluated += len(prefix)
                self._states[tuple(prefix)] = engine.state(slot)
                if self._prefixes is not None:
                    self._prefixes.save(engine, slot, prefix)
        engine.keep(slot, len(prefix))
        self._held[slot] = list(prefix)
        engine.evaluate(slot, tokens[len(prefix):], len(prefix))
        self._held[slot] = list(tokens)
        return evaluated + len(tokens) - len(prefix)

    def _restore(self, slot: int, prefix: list[int]) -> bool:
        """Put an instruction prefix another slot evaluated (or an earlier run saved) into ``slot``."""
        key = tuple(prefix)
        state = self._states.get(key)
        if state is not None and self._engine.restore(slot, state):
            return True
        if self._prefixes is not None and self._prefixes.restore(self._engine, slot, prefix):
            self._states[key] = self._engine.state(slot)
            return True
        return False

    # --- the batch check -------------------------------------------------------------------------

    def _checked_width(self) -> int:
        """The batch check's verdict: saved by an earlier run on this machine, or checked now."""
        saved = self._prefixes.width(self._width_key) if self._prefixes is not None else None
        if saved is not None:
            return min(saved, self._engine.slots)
        width = self._invariant_width()
        if self._prefixes is not None:
            self._prefixes.save_width(self._width_key, width)
        return width

    def _invariant_width(self) -> int:
        """The most rows decoded together that give every row exactly the logits it gets alone
        (see the module's docstring): short prompts, one per slot, are decoded ``PROBE_STEPS``
        tokens alone, then two together, three, and so on, and compared bit for bit."""
        engine = self._engine
        if engine.slots == 1 or not engine.keeps_prefixes:
            return 1
        started = time.perf_counter()
        text = engine.tokenize(PROBE_TEXT, add_bos=False, special=False) * (2 + engine.slots)
        prompts = [text[index:index + 4 + index % 4] for index in range(engine.slots)]
        alone = [self._probe([slot], prompts)[0] for slot in range(engine.slots)]
        width = 1
        for count in range(2, engine.slots + 1):
            together = self._probe(list(range(count)), prompts)
            if together != alone[:count]:
                break
            width = count
        for slot in range(engine.slots):
            engine.keep(slot, 0)
            self._held[slot] = []
        log.debug("replies decoded together: at most %d (checked in %.1f s)", width, time.perf_counter() - started)
        return width

    def _probe(self, slots: list[int], prompts: list[list[int]]) -> list[list[bytes]]:
        """Each slot's logits, as bytes, over ``PROBE_STEPS`` greedy tokens decoded together."""
        engine = self._engine
        logits: dict[int, np.ndarray] = {}
        for slot in slots:
            engine.keep(slot, 0)
            engine.evaluate(slot, prompts[slot], 0)
            logits[slot] = engine.logits(-1).copy()
        seen: dict[int, list[bytes]] = {slot: [logits[slot].tobytes()] for slot in slots}
        for step in range(PROBE_STEPS):
            rows = [(slot, int(np.argmax(logits[slot])), len(prompts[slot]) + step) for slot in slots]
            engine.step(rows)
            for row, slot in enumerate(slots):
                logits[slot] = engine.logits(row).copy()
                seen[slot].append(logits[slot].tobytes())
        return [seen[slot] for slot in slots]
