"""The pipeline: ingest → chunk → extract → dates → merge → summarize → render.

:class:`Pipeline` holds what a run shares (options, prompts, cache, the lazily loaded model and
the counters); each stage is a method that can be called on its own. :func:`summarize` is the
one-call library entry point. The pipeline speaks only the backend interface: which model and
with which settings is the business of :func:`storyline.backends.load_backend`.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import IO, Any

from tenacity import Retrying

from . import chunk as chunking
from . import extract as extraction
from . import grounding, reading
from . import headlines as naming
from .adjudication import QUESTIONS_PER_MENTION, ModelJudge
from .backends import Backend, GenerationRequest, Vocabulary, load_backend
from .cache import CallCache, call_key, default_cache_dir
from .calls import stop_key, structured_call
from .chunk import split_chunk
from .errors import ExtractionRetryError, PromptTooLongError, TruncatedOutputError, UnreliableAdjudicatorError
from .extract import PlannedCall, Planner, article_view
from .ingest import load_articles
from .mentions import read_mentions, write_mentions
from .merge import merge as merge_mentions
from .merge import story_topic
from .models import Article, ArticleInfo, Event, Mention, Meta, Result, Stats
from .progress import Progress
from .summary import (
    SUMMARY_EVENTS,
    SUMMARY_MAX_TOKENS,
    SummaryOutput,
    event_view,
    finished_sentences,
    select_events,
    summary_schema,
)
from .templating import PromptSet

log = logging.getLogger("storyline")

__all__ = ["Options", "Pipeline", "read_mentions", "summarize", "write_mentions"]


@dataclass
class Options:
    """Everything a run can be configured with (the CLI flags map onto these).

    ``backend_options`` are the model backend's own settings (for llama.cpp: ``context_window``,
    ``threads``, ``batch_size``, ...); the backend validates them.
    """

    model: str | None = None
    backend_options: dict[str, Any] = field(default_factory=dict)
    prompts: str | Path | None = None
    published: dt.date | None = None
    seed: int = 0
    temperature: float = 0.0
    max_retries: int | Retrying = 2
    cache_dir: Path | None = None
    use_cache: bool = True
    max_chunk_tokens: int = 2048
    parallel: int | None = None
    """Model calls in flight (default: what the backend suggests: the replies llama.cpp writes
    together, the requests a server is sent at once)."""
    read_share: float | None = reading.READ_SHARE
    """The share of a large story's text the model reads (``reading``); None: every sentence."""
    adjudicate: bool = False
    progress: bool = False


_SAMPLE_EVENT = {
    "date": "18 Mar 2025", "title": "Sample event", "status": "happened", "sources": 2,
    "actors": ["Someone"], "conflicts": ["sources differ"], "quote": "A sentence.",
}
_SAMPLE_REPORT = {"article": "sample", "source": "Sample article", "published": "17 Mar 2025",
                  "date": "18 Mar 2025", "title": "Sample event", "quote": "A sentence."}
"""Stand-ins used to render every template once before any model call."""


class Pipeline:
    """One run's shared state: options, prompts, cache, counters and the model, loaded on first
    use. Stage progress is logged on the ``storyline`` logger (INFO)."""

    def __init__(self, backend: Backend | None = None, options: Options | None = None, **overrides: Any):
        unknown = sorted(set(overrides) - {f.name for f in fields(Options)})
        if unknown:
            raise TypeError(f"unknown option {unknown[0]!r}")
        self.options = replace(options or Options(), **overrides)  # the caller's Options stay as given
        self._backend = backend
        self._owns_backend = backend is None
        self.prompts = PromptSet(self.options.prompts)
        self.stats = Stats()
        self.warnings: list[str] = []
        self.cache_dir = Path(self.options.cache_dir) if self.options.cache_dir else default_cache_dir()
        self.cache = CallCache(self.cache_dir) if self.options.use_cache else None
        if self.cache is not None and self.cache.recovered:
            self.warnings.append(self.cache.recovered)  # CallCache has logged it already
        self._templates_checked = False
        self._runs = 0

    def warn(self, message: str) -> None:
        """A warning for the result, logged the moment it happens (the CLI shows it on stderr)."""
        log.warning("warning: %s", message)
        self.warnings.append(message)

    # --- the model -------------------------------------------------------------------------

    @property
    def backend(self) -> Backend:
        """The model backend, loaded on first use (llama_cpp is imported only here)."""
        if self._backend is None:
            self._backend = load_backend(self.options.model, self.options.backend_options,
                                         cache_dir=self.cache_dir if self.options.use_cache else None)
            log.info("Model: %s (token figures %s)", self._backend.name, self._backend.counts)
        return self._backend

    @property
    def model_name(self) -> str | None:
        return self._backend.name if self._backend is not None else None

    def _cache_extra(self) -> dict[str, Any]:
        """What a result depends on besides the request: the retry prompt and how often it is used."""
        retries = self.options.max_retries
        return {"retry_prompt": self.prompts.fingerprint("retry"),
                "max_retries": retries if isinstance(retries, int) else stop_key(retries.stop)}

    # --- stages ------------------------------------------------------------------------------

    def ingest(self, inputs: Iterable[str | Path | Article], *, stdin: IO[str] | None = None) -> list[Article]:
        problems: list[str] = []
        try:
            articles = load_articles(inputs, published=self.options.published, stdin=stdin, problems=problems)
        finally:
            for problem in problems:
                self.warn(problem)
        for article in articles:
            if article.published is None:
                self.warn(
                    f"{article.id} has no publication date, so its relative dates (\"on Tuesday\") "
                    "cannot be placed; give one with --published YYYY-MM-DD or in its metadata."
                )
        return articles

    def check_templates(self) -> None:
        """Render every prompt once with stand-in values, so a broken template fails before any
        model call, with its file and line."""
        if self._templates_checked:
            return
        self.prompts.messages(
            "extract", article=article_view(Article(id="sample", text="A sentence.")),
            chunk={"index": 0}, sentences=[extraction.NumberedSentence(1, "A sentence.")],
        )
        self.prompts.messages("summarize", events=[_SAMPLE_EVENT], articles=[], omitted=0)
        self.prompts.messages("adjudicate", first=_SAMPLE_REPORT, second=_SAMPLE_REPORT)
        self.prompts.messages("headline", sentences=[extraction.NumberedSentence(1, "A sentence.")])
        self.prompts.render_text("retry", error="- e: sample error")
        self._templates_checked = True

    def planner(self, vocabulary: Vocabulary | None = None) -> Planner:
        """Plans extraction calls for the loaded model, or for ``vocabulary`` (``--dry-run``)."""
        return Planner(self.prompts, vocabulary or self.backend, max_chunk_tokens=self.options.max_chunk_tokens,
                       seed=self.options.seed, temperature=self.options.temperature)

    def plan(self, articles: list[Article], vocabulary: Vocabulary | None = None) -> list[PlannedCall]:
        """Choose what the model reads of every article (``reading``), chunk it and render its
        extraction calls, each proven to fit the context."""
        return self._plan(self.planner(vocabulary), self._readings(articles))

    def _readings(self, articles: list[Article]) -> list[reading.ArticleReading]:
        """What the model reads of each article (``reading.choose`` with ``read_share``)."""
        problems: list[str] = []
        sentences = chunking.readable_sentences(articles, problems)
        for problem in problems:
            self.warn(problem)
        return reading.choose(articles, sentences, self.options.read_share)

    def _plan(self, planner: Planner, readings: list[reading.ArticleReading], *,
              loaded: bool = False) -> list[PlannedCall]:
        """The calls, after the warnings about them. ``loaded``: the model is loaded, so the calls
        the cache answers can be told apart (a dry run plans without loading it)."""
        planned = planner.plan(readings)
        self._warn_if_large(self._uncached(planned) if loaded else planned, len(planned))
        return planned

    def _uncached(self, planned: list[PlannedCall]) -> list[PlannedCall]:
        """The planned extraction calls the cache does not answer."""
        if self.cache is None:
            return planned
        identity, extra = self.backend.identity, self._cache_extra()
        return [call for call in planned if self.cache.get(
            call_key(identity, call.request, extraction.ExtractionOutput.__name__, extra)) is None]

    def extract(self, articles: list[Article]) -> list[Mention]:
        """Extraction for every chunk of what the model reads of every article, then the
        sentences it does not read (``reading``), by code alone. A chunk whose output stays
        invalid is reported and skipped; the others' results are kept (and cached as they
        finish). Mentions come in article order, each article's in its own order.

        With ``parallel`` calls in flight, results are used in the plan's order, so the output is
        the same whatever order they arrive in.
        """
        self.check_templates()
        backend = self.backend
        self.stats.source_tokens += sum(backend.tokenizer.count_many([a.text for a in articles]))
        planner = self.planner()
        readings = self._readings(articles)
        planned = self._plan(planner, readings, loaded=True)
        self.stats.chunks += len(planned)
        found: dict[str, list[Mention]] = {article.id: [] for article in articles}
        for call, (outputs, failures) in zip(planned, self._run_calls(planner, planned), strict=True):
            for chunk, output in outputs:
                found[call.article.id] += grounding.ground(output, call.article, chunk, self.stats)
            for reason in failures:
                self._chunk_failed(call, reason)
        for article_reading in readings:
            self.stats.sentences_read += len(article_reading.shown)
            self.stats.sentences_unread += len(article_reading.sentences) - len(article_reading.shown)
            found[article_reading.article.id] += self._unread_mentions(article_reading, readings, found)
        mentions = [m for article in articles for m in sorted(found[article.id], key=lambda m: m.offset)]
        self.stats.mentions += len(mentions)
        return mentions

    def _unread_mentions(self, article_reading: reading.ArticleReading, readings: list[reading.ArticleReading],
                         found: dict[str, list[Mention]]) -> list[Mention]:
        """The mentions among the sentences the model did not read: those that place something on
        the calendar, and the repeats of a sentence it read that became a mention, with that
        mention's title."""
        unread = article_reading.unread()
        titles: dict[int, str] = {}
        for position, index in enumerate(unread):
            if index in article_reading.repeats:
                source_article, source_index = article_reading.repeats[index]
                source = readings[source_article]
                offset = source.sentences[source_index].start
                title = next((m.title for m in found[source.article.id] if m.offset == offset), None)
                if title is not None:
                    titles[position] = title
        return grounding.mentions_of(article_reading.article, [article_reading.sentences[i] for i in unread],
                                     titles, -1, self.stats)

    def _run_calls(self, planner: Planner, planned: list[PlannedCall]) -> list[tuple[list, list[str]]]:
        articles = len({call.article.id for call in planned})
        return self._concurrently(lambda call: self._extract_call(planner, call), planned, "extracting", articles)

    def _concurrently(self, function: Callable[[Any], Any], items: list, label: str, articles: int | None = None
                      ) -> list:
        """``function`` of every item, up to ``parallel`` at once (the backend writes several
        replies together, or a server serves several requests), results in the items' order,
        with progress shown (``progress``). Interrupted, the calls not started are cancelled;
        finished calls are cached already."""
        parallel = self.options.parallel or self.backend.parallel
        progress = Progress(label, len(items), articles=articles, terminal=self.options.progress)
        try:
            if parallel <= 1 or len(items) < 2:
                results = []
                for item in items:
                    results.append(function(item))
                    progress.advance()
                return results
            return self._in_pool(function, items, parallel, progress)
        finally:
            progress.close()

    def _in_pool(self, function: Callable[[Any], Any], items: list, parallel: int, progress: Progress) -> list:
        from concurrent.futures import ThreadPoolExecutor, as_completed

        pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="storyline")
        futures = {pool.submit(function, item): index for index, item in enumerate(items)}
        results: list = [None] * len(items)
        try:
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                progress.advance()
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            close = getattr(self.backend, "close", None)
            if self._owns_backend and close is not None:
                close()  # ends the calls in flight (a backend passed in is the caller's to close)
            raise
        pool.shutdown()
        return results

    def _extract_call(self, planner: Planner, call: PlannedCall) -> tuple[list, list[str]]:
        """One chunk's outputs, (chunk, output) pairs, and why any part failed; a chunk whose
        reply does not fit its budget is halved."""
        try:
            output = structured_call(
                self.backend, call.request, extraction.ExtractionOutput, stage="extract", stats=self.stats,
                prompts=self.prompts, cache=self.cache, cache_extra=self._cache_extra(),
                max_retries=self.options.max_retries, context={"sentences": len(call.chunk.sentences)},
            )
        except ExtractionRetryError as failure:
            return [], [f"no valid events after {failure.attempts} attempts ({failure})"]
        except (TruncatedOutputError, PromptTooLongError) as failure:
            halves = split_chunk(call.chunk, call.article.text, self.backend.tokenizer)
            if len(halves) == 1:
                return [], [str(failure)]
            log.info("%s chunk %d: the reply did not fit; extracting its halves", call.article.id, call.chunk.index)
            outputs: list = []
            failures: list[str] = []
            for half in halves:
                half.index = call.chunk.index
                found, failed = self._extract_call(planner, PlannedCall(
                    call.article, half, planner.request(call.article, half), call.prompt_tokens))
                outputs += found
                failures += failed
            return outputs, failures
        return [(call.chunk, output)], []

    def _chunk_failed(self, call: PlannedCall, reason: str) -> None:
        self.stats.failed_chunks += 1
        self.warn(f"{call.article.id} chunk {call.chunk.index}: {reason}; that chunk is left out.")

    LARGE_RUN_CALLS = 200
    LARGE_ARTICLE_CALLS = 40

    def _warn_if_large(self, to_make: list[PlannedCall], planned: int) -> None:
        """Say before the work starts when a run is long, so the user can stop it: when the calls
        still ``to_make`` (of ``planned`` in all; the cache answers the rest) are many."""
        per_article: dict[str, int] = {}
        for call in to_make:
            per_article[call.article.id] = per_article.get(call.article.id, 0) + 1
        for article_id, calls in per_article.items():
            if calls >= self.LARGE_ARTICLE_CALLS:
                self.warn(f"{article_id} is very long: {calls} extraction calls for this article alone.")
        if len(to_make) >= self.LARGE_RUN_CALLS:
            tokens = sum(call.prompt_tokens for call in to_make)
            cached = f" ({planned - len(to_make)} more are answered from the cache)" if planned > len(to_make) else ""
            self.warn(f"This run makes {len(to_make)} extraction calls{cached} over about {tokens:,} prompt tokens, "
                      "which can take hours on a laptop CPU. Press Ctrl-C to stop: finished calls are kept, "
                      "and the same command resumes.")

    def merge(self, mentions: Iterable[Mention], articles: Iterable[Article | ArticleInfo] = ()) -> list[Event]:
        """The timeline's events; with ``adjudicate``, the model judges the pairs the articles'
        words leave unsure (shown each report's source and publication date from ``articles``)."""
        mentions = list(mentions)
        limit = QUESTIONS_PER_MENTION * len(mentions)
        adjudicator = self.adjudicator(articles, limit) if self.options.adjudicate else None
        try:
            events = merge_mentions(mentions, adjudicator)
        except UnreliableAdjudicatorError as error:
            self.warn(f"{error} The merge went on without adjudication.")
            events = merge_mentions(mentions)
        if adjudicator is not None and adjudicator.unasked:
            self.warn(f"The judge (--adjudicate) was asked its limit of {limit} questions ({QUESTIONS_PER_MENTION} "
                      f"per mention); {adjudicator.unasked} more were not asked, and those pairs were left apart, "
                      "as without --adjudicate.")
        self.stats.duplicates_dropped += len(mentions) - sum(len(e.mentions) for e in events)
        return events

    def adjudicator(self, articles: Iterable[Article | ArticleInfo] = (), limit: int | None = None) -> ModelJudge:
        """The model as a judge of pairs: whether two reports are one event (prompt:
        ``adjudicate``; see ``adjudication``), shown each report's source and publication date
        from ``articles``; after ``limit`` questions every pair is left apart."""
        options = self.options
        return ModelJudge(self.backend, self.prompts, self.stats, cache=self.cache, articles=articles, limit=limit,
                          temperature=options.temperature, seed=options.seed, max_retries=options.max_retries,
                          cache_extra=self._cache_extra())

    def summarize(self, events: list[Event], articles: list[Article | ArticleInfo]) -> str:
        """The neutral summary of the timeline (empty, with a warning, if the model fails)."""
        if not events:
            self.warn("No events were found, so no summary was written.")
            return ""
        self.check_templates()
        backend = self.backend
        views = [article_view(a) for a in articles]  # type: ignore[arg-type]

        def messages_for(selection: list[Event]) -> tuple[tuple[str, str], ...]:
            return self.prompts.messages("summarize", events=[event_view(e) for e in selection],
                                         articles=views, omitted=len(events) - len(selection))

        def fits(selection: list[Event]) -> bool:
            return backend.count_prompt_tokens(messages_for(selection)) + SUMMARY_MAX_TOKENS <= backend.context_window

        published = [a.published for a in articles if a.published]
        selection, omitted = select_events(events, fits, story_start=min(published, default=None))
        if len(selection) < min(len(events), SUMMARY_EVENTS):
            self.warn(f"The summary saw the {len(selection)} most-reported events; "
                      f"{omitted} did not fit the model's context window.")
        request = GenerationRequest(messages=messages_for(selection),
                                    json_schema=summary_schema(len(selection)),
                                    max_tokens=SUMMARY_MAX_TOKENS, temperature=self.options.temperature,
                                    seed=self.options.seed)
        log.info("Writing the summary of %d events ...", len(selection))
        with self._token_progress("summary", request.max_tokens) as progress:
            try:
                output = structured_call(backend, request, SummaryOutput, stage="summarize", stats=self.stats,
                                         prompts=self.prompts, cache=self.cache, cache_extra=self._cache_extra(),
                                         max_retries=self.options.max_retries, progress=progress)
            except TruncatedOutputError as failure:
                finished = finished_sentences(failure.raw_output)
                if finished is None:
                    self.warn(f"No summary: {failure}")
                    return ""
                self.warn(f"The summary was cut off ({failure}); the {len(finished.sentences)} sentence(s) it "
                          "had finished are kept.")
                return finished.text
            except (ExtractionRetryError, PromptTooLongError) as failure:
                self.warn(f"No summary: {failure}")
                return ""
        return output.text

    @contextmanager
    def _token_progress(self, label: str, limit: int):
        """A progress bar of tokens generated (on a terminal), or nothing."""
        if not self.options.progress:
            yield None
            return
        from tqdm import tqdm

        with tqdm(total=limit, desc=label, unit="token", file=sys.stderr, leave=False) as bar:
            def update(count: int) -> None:
                bar.update(count - bar.n)
            yield update

    # --- whole runs ----------------------------------------------------------------------------

    def result(self, articles: list[Article] | list[ArticleInfo], events: list[Event], summary: str) -> Result:
        self.stats.settle()
        if self._backend is not None:
            self.stats.token_counts = self._backend.counts
        infos = [ArticleInfo(**a.model_dump(exclude={"text"})) for a in articles]
        return Result(articles=infos, timeline=events, summary=summary,
                      meta=Meta(model=self.model_name, warnings=list(self.warnings), stats=self.stats))

    def _new_run(self) -> None:
        """Counters and warnings of a run of their own: a second run leaves the first's Result as
        it was. A warning given before the first run (a damaged cache moved aside) goes to it."""
        if self._runs:
            self.stats = Stats()
            self.warnings = []
        self._runs += 1

    def run(self, inputs: Iterable[str | Path | Article], *, stdin: IO[str] | None = None) -> Result:
        self._new_run()
        self.check_templates()
        articles = self.ingest(inputs, stdin=stdin)
        log.info("Read %d article(s); extracting events ...", len(articles))
        mentions = self.extract(articles)
        return self._timeline(articles, mentions)

    def run_from_mentions(self, articles: list[ArticleInfo], mentions: list[Mention]) -> Result:
        """Timeline and summary from mentions extracted earlier (no extraction calls)."""
        self._new_run()
        self.check_templates()
        self.stats.mentions += len(mentions)
        return self._timeline(articles, mentions)

    def _timeline(self, articles: list[Article] | list[ArticleInfo], mentions: list[Mention]) -> Result:
        events = self.name_events(self.merge(mentions, articles))
        log.info("%d mentions merged into %d events; summarizing ...", len(mentions), len(events))
        return self.result(articles, events, self.summarize(events, articles))  # type: ignore[arg-type]

    def name_events(self, events: list[Event]) -> list[Event]:
        """Headlines for the events no mention titled, those worth the model's time
        (``headlines.worth_naming``), asked in batches. A headline refused (``headlines.accepted``)
        is asked for once more, for its sentence alone (in a batch, small models slip a headline
        onto the next sentence), unless the story is large (``headlines.partly_read``). An event
        still without a headline is named by its quote's opening words."""
        pending = naming.worth_naming(events)
        if pending:
            self.check_templates()
            log.info("Writing headlines for %d events ...", len(pending))
            topic = story_topic(m for event in events for m in event.mentions)
            batches = [pending[start:start + naming.BATCH] for start in range(0, len(pending), naming.BATCH)]
            refused = []
            for batch, titles in zip(batches, self._concurrently(lambda batch: self._headlines(batch, topic),
                                                                  batches, "naming"), strict=True):
                for event, title in zip(batch, titles, strict=True):
                    event.title = title or ""
                    refused += [] if title else [event]
            if not naming.partly_read(events):
                again = self._concurrently(lambda event: self._headlines([event], topic)[0], refused, "naming again")
                for event, title in zip(refused, again, strict=True):
                    event.title = title or ""
        for event in naming.untitled(events):
            event.title = naming.opening_words(event)
        return events

    def _headlines(self, batch: list[Event], topic: frozenset[str]) -> list[str | None]:
        """The model's headline for each event of a batch, None where it is refused."""
        sentences = [naming.sentence_of(e) for e in batch]
        messages = self.prompts.messages("headline", sentences=[
            extraction.NumberedSentence(n, text) for n, text in enumerate(sentences, start=1)])
        request = GenerationRequest(messages=messages, json_schema=naming.headline_schema(len(batch)),
                                    max_tokens=16 + len(batch) * 24, temperature=self.options.temperature,
                                    seed=self.options.seed)
        try:
            output = structured_call(self.backend, request, naming.HeadlineOutput, stage="headline",
                                     stats=self.stats, prompts=self.prompts, cache=self.cache,
                                     cache_extra=self._cache_extra(), max_retries=self.options.max_retries)
        except (ExtractionRetryError, TruncatedOutputError, PromptTooLongError) as failure:
            self.warn(f"No headlines for {len(batch)} events: {failure}")
            return [None] * len(batch)
        return naming.accepted(output.headlines, sentences, topic)

    def close(self) -> None:
        """Close the cache, and the backend if the pipeline loaded it (a backend passed in
        belongs to the caller)."""
        if self.cache is not None:
            self.cache.close()
        close = getattr(self._backend, "close", None)
        if self._owns_backend and close is not None:
            close()


def summarize(inputs: Iterable[str | Path | Article], *, backend: Backend | None = None, **options: Any) -> Result:
    """Articles in (paths or :class:`Article` objects), timeline and summary out."""
    pipeline = Pipeline(backend, **options)
    try:
        return pipeline.run(inputs)
    finally:
        pipeline.close()
