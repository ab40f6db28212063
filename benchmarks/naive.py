"""The naive baseline the speed benchmark compares storyline with.

What a typical pipeline does: a fresh context for every chunk (no reuse of evaluated tokens), the
whole instruction text repeated in each prompt, unconstrained generation of verbose JSON (full
field names, copied quotes) that is parsed and validated, and retried when it breaks.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Literal

import jinja2
import llama_cpp
from pydantic import BaseModel, ValidationError

from storyline.models import Article, Chunk

_TEMPLATE = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(Path(__file__).parent)), undefined=jinja2.StrictUndefined
).get_template("naive_prompt.j2")


class NaiveEvent(BaseModel):
    title: str
    time_expression: str
    status: Literal["happened", "expected", "ongoing"]
    quote: str
    actors: list[str]


class NaiveOutput(BaseModel):
    events: list[NaiveEvent]


class NaiveExtractor:
    def __init__(self, llm: llama_cpp.Llama, *, max_tokens: int = 256, retries: int = 2, seed: int = 0):
        self.llm, self.max_tokens, self.retries, self.seed = llm, max_tokens, retries, seed
        self.calls = self.failed_attempts = self.prompt_tokens_evaluated = self.completion_tokens = 0
        self.events = self.failed_chunks = 0
        self.seconds = 0.0

    def extract(self, article: Article, chunk: Chunk) -> list[NaiveEvent]:
        prompt = _TEMPLATE.render(title=article.title, published=article.published, text=chunk.text)
        for _ in range(self.retries + 1):
            self.llm.reset()  # a fresh context: nothing evaluated before is reused
            ctx = self.llm._ctx.ctx
            llama_cpp.llama_perf_context_reset(ctx)
            started = time.perf_counter()
            output = self.llm.create_chat_completion(
                messages=[{"role": "user", "content": prompt}], max_tokens=self.max_tokens,
                temperature=0.0, seed=self.seed)
            self.seconds += time.perf_counter() - started
            perf = llama_cpp.llama_perf_context(ctx)
            self.calls += 1
            self.prompt_tokens_evaluated += int(perf.n_p_eval)
            self.completion_tokens += int(output["usage"]["completion_tokens"])
            try:
                events = NaiveOutput.model_validate(json.loads(output["choices"][0]["message"]["content"])).events
            except (json.JSONDecodeError, ValidationError, TypeError):
                self.failed_attempts += 1
                continue
            self.events += len(events)
            return events
        self.failed_chunks += 1
        return []
