"""The pipeline: ingest → chunk → extract → dates → merge → summarize → render.

:class:`Pipeline` orchestrates one run after another: it reads the articles, plans what the
model reads, and hands each stage its work; the stages live in their modules (``extract``,
``adjudication``, ``headlines``, ``summary``) and ask the model through one
:class:`~storyline.calls.ModelCalls` (backend, cache, prompts, retries, the run's counters).
:func:`summarize` is the one-call library entry point. Which model, with which settings, is
the business of :func:`storyline.backends.load_backend`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import fields, replace
from pathlib import Path
from typing import IO, Any

from . import chunk as chunking
from . import extract as extraction
from . import headlines, reading
from .adjudication import ModelJudge, judge_of, judged_merge
from .backends import Backend, Vocabulary, load_backend
from .cache import CallCache, default_cache_dir
from .calllog import CallLog
from .calls import ModelCalls, RunState
from .extract import PlannedCall, Planner
from .ingest import load_articles, undated
from .mentions import read_mentions, write_mentions
from .models import Article, ArticleInfo, Event, Mention, Meta, Result, Stats
from .options import Options
from .ranking import rank_events
from .summary import write_summary
from .templating import PromptSet

log = logging.getLogger("storyline")

__all__ = ["Options", "Pipeline", "read_mentions", "summarize", "write_mentions"]




class Pipeline:
    """Runs storyline with one set of options, prompts, cache and model (loaded on first use).
    Each stage can be called on its own; each :meth:`run` counts and warns for itself. Stage
    progress is logged on the ``storyline`` logger (INFO)."""

    def __init__(self, backend: Backend | None = None, options: Options | None = None, **overrides: Any):
        unknown = sorted(set(overrides) - {f.name for f in fields(Options)})
        if unknown:
            raise TypeError(f"unknown option {unknown[0]!r}")
        self.options = options = replace(options or Options(), **overrides)  # the caller's Options stay as given
        self.prompts = PromptSet(options.prompts)
        self.cache_dir = Path(options.cache_dir) if options.cache_dir else default_cache_dir()
        self.cache = CallCache(self.cache_dir) if options.use_cache else None
        call_log = CallLog(self.cache_dir) if options.use_cache else None
        self.calls = ModelCalls(self._load_backend, self.prompts, self.cache, options.call_settings(), backend=backend,
                                call_log=call_log)
        if self.cache is not None and self.cache.recovered:
            self.calls.state.warnings.append(self.cache.recovered)  # CallCache has logged it already
        self._templates_checked = False
        self._runs = 0

    def _load_backend(self) -> Backend:
        backend = load_backend(self.options.model, self.options.backend_options,
                               cache_dir=self.cache_dir if self.options.use_cache else None)
        log.info("Model: %s (token figures %s)", backend.name, backend.counts)
        return backend

    @property
    def backend(self) -> Backend:
        """The model backend, loaded on first use (llama_cpp is imported only then)."""
        return self.calls.backend

    @property
    def stats(self) -> Stats:
        return self.calls.stats

    @property
    def warnings(self) -> list[str]:
        return self.calls.state.warnings

    def check_templates(self) -> None:
        """Render every prompt once with stand-in values, so a broken template fails before any
        model call, with its file and line."""
        if not self._templates_checked:
            self.prompts.check()
            self._templates_checked = True

    # --- stages ------------------------------------------------------------------------------

    def ingest(self, inputs: Iterable[str | Path | Article], *, stdin: IO[str] | None = None) -> list[Article]:
        problems: list[str] = []
        try:
            articles = load_articles(inputs, published=self.options.published, stdin=stdin, problems=problems)
        finally:
            for problem in problems:
                self.calls.warn(problem)
        for warning in undated(articles):
            self.calls.warn(warning)
        return articles

    def planner(self, vocabulary: Vocabulary | None = None) -> Planner:
        """Plans extraction calls for the loaded model, or for ``vocabulary`` (``--dry-run``)."""
        return Planner(self.prompts, vocabulary or self.backend, max_chunk_tokens=self.options.max_chunk_tokens,
                       seed=self.options.seed, temperature=self.options.temperature)

    def plan(self, articles: list[Article], vocabulary: Vocabulary | None = None) -> list[PlannedCall]:
        """Choose what the model reads of every article (``reading``), chunk it and render its
        extraction calls, each proven to fit the context; warn if they are many."""
        planned = self.planner(vocabulary).plan(self._readings(articles))
        extraction.warn_if_large(self.calls, planned, len(planned))
        return planned

    def _readings(self, articles: list[Article]) -> list[reading.ArticleReading]:
        problems: list[str] = []
        sentences = chunking.readable_sentences(articles, problems)
        for problem in problems:
            self.calls.warn(problem)
        return reading.choose(articles, sentences, self.options.read_share)

    def extract(self, articles: list[Article]) -> list[Mention]:
        """Mentions of every article (``extract.extract_mentions``): what the model reads of it,
        then the sentences it does not read, by code."""
        self.check_templates()
        backend = self.backend
        self.stats.source_tokens += sum(backend.tokenizer.count_many([a.text for a in articles]))
        planner, readings = self.planner(), self._readings(articles)
        planned = planner.plan(readings)
        extraction.warn_if_large(self.calls, extraction.uncached(self.calls, planned), len(planned))
        return extraction.extract_mentions(self.calls, planner, readings, planned)

    def merge(self, mentions: Iterable[Mention], articles: Iterable[Article | ArticleInfo] = ()) -> list[Event]:
        """The timeline's events (``adjudication.judged_merge``)."""
        return judged_merge(self.calls, list(mentions), articles, self.options.adjudicate)

    def adjudicator(self, articles: Iterable[Article | ArticleInfo] = (), limit: int | None = None) -> ModelJudge:
        return judge_of(self.calls, articles, limit)  # the judge alone (benchmarks/judge.py)

    def name_events(self, events: list[Event]) -> list[Event]:
        self.check_templates()
        return headlines.name_events(self.calls, events)

    def summarize(self, events: list[Event], articles: list[Article | ArticleInfo]) -> str:
        self.check_templates()
        return write_summary(self.calls, events, articles)

    # --- whole runs ----------------------------------------------------------------------------

    def _new_run(self) -> None:
        """Counters and warnings of a run of their own: a second run leaves the first's Result as
        it was. A warning given before the first run (a damaged cache moved aside) goes to it."""
        if self._runs:
            self.calls.state = RunState()
        self._runs += 1

    def run(self, inputs: Iterable[str | Path | Article], *, stdin: IO[str] | None = None) -> Result:
        self._new_run()
        self.check_templates()
        articles = self.ingest(inputs, stdin=stdin)
        log.info("Read %d article(s); extracting events ...", len(articles))
        return self._timeline(articles, self.extract(articles))

    def run_from_mentions(self, articles: list[ArticleInfo], mentions: list[Mention]) -> Result:
        """Timeline and summary from mentions extracted earlier (no extraction calls)."""
        self._new_run()
        self.check_templates()
        self.stats.mentions += len(mentions)
        return self._timeline(articles, mentions)

    def _timeline(self, articles: list[Article] | list[ArticleInfo], mentions: list[Mention]) -> Result:
        events = self.name_events(self.merge(mentions, articles))
        rank_events(events, articles, self.options.top)  # type: ignore[arg-type]
        log.info("%d mentions merged into %d events; summarizing ...", len(mentions), len(events))
        return self.result(articles, events, self.summarize(events, articles))  # type: ignore[arg-type]

    def result(self, articles: list[Article] | list[ArticleInfo], events: list[Event], summary: str) -> Result:
        stats = self.stats
        stats.settle()
        if self.calls.loaded is not None:
            stats.token_counts = self.calls.loaded.counts
        infos = [ArticleInfo(**a.model_dump(exclude={"text"})) for a in articles]
        model = self.calls.loaded.name if self.calls.loaded is not None else None
        return Result(articles=infos, timeline=events, summary=summary,
                      meta=Meta(model=model, warnings=list(self.warnings), stats=stats))

    def close(self) -> None:
        """Close the cache, and the backend if the pipeline loaded it (a backend passed in
        belongs to the caller)."""
        self.calls.close()


def summarize(inputs: Iterable[str | Path | Article], *, backend: Backend | None = None, **options: Any) -> Result:
    """Articles in (paths or :class:`Article` objects), timeline and summary out."""
    pipeline = Pipeline(backend, **options)
    try:
        return pipeline.run(inputs)
    finally:
        pipeline.close()
