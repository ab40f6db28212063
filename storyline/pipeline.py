"""The pipeline: ingest → chunk → extract → dates → merge → summarize → render.

:class:`Pipeline` holds what a run shares (options, prompts, cache, the lazily loaded model and
the counters); each stage is a method that can be called on its own. :func:`summarize` is the
one-call library entry point.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tenacity import Retrying

from . import chunk as chunking
from . import extract as extraction
from .backends import Backend, GenerationRequest
from .cache import CallCache, default_cache_dir
from .calls import structured_call
from .errors import ExtractionRetryError, InputError
from .ingest import load_articles
from .merge import AdjudicationOutput
from .merge import merge as merge_mentions
from .models import Article, ArticleInfo, Chunk, Event, Mention, Meta, Result, Stats
from .summary import SUMMARY_MAX_TOKENS, SummaryOutput, article_view, event_view, select_events
from .templating import PromptSet
from .tokens import Tokenizer

log = logging.getLogger("storyline")


@dataclass
class Options:
    """Everything a run can be configured with (the CLI flags map onto these)."""

    model: str | None = None
    prompts: str | Path | None = None
    published: dt.date | None = None
    seed: int = 0
    temperature: float = 0.0
    max_retries: int | Retrying = 2
    cache_dir: Path | None = None
    use_cache: bool = True
    context_window: int | None = None
    threads: int | None = None
    batch_size: int = 512
    max_chunk_tokens: int = 2048
    adjudicate: bool = False
    progress: bool = False


@dataclass
class PlannedCall:
    """An extraction call as it will be sent: for ``--dry-run`` and for the run itself."""

    article: Article
    chunk: Chunk
    request: GenerationRequest
    prompt_tokens: int


_SAMPLE_EVENT = {
    "date": "18 Mar 2025", "title": "Sample event", "status": "happened", "sources": 2,
    "actors": ["Someone"], "conflicts": ["sources differ"], "quote": "A sentence.",
    "article": "sample",
}
"""A stand-in event used to render every template once before any model call."""


class Pipeline:
    """One run's shared state: options, prompts, cache, counters and the model, loaded on first
    use. Stage progress is logged on the ``storyline`` logger (INFO)."""

    def __init__(self, backend: Backend | None = None, options: Options | None = None, **overrides: Any):
        self.options = options or Options()
        for name, value in overrides.items():
            if not hasattr(self.options, name):
                raise TypeError(f"unknown option {name!r}")
            setattr(self.options, name, value)
        self._backend = backend
        self.prompts = PromptSet(self.options.prompts)
        self.stats = Stats()
        self.warnings: list[str] = []
        cache_dir = Path(self.options.cache_dir) if self.options.cache_dir else default_cache_dir()
        self.cache_dir = cache_dir
        self.cache = CallCache(cache_dir) if self.options.use_cache else None
        self._templates_checked = False

    # --- the model -------------------------------------------------------------------------

    @property
    def backend(self) -> Backend:
        """The model backend, loaded on first use (llama_cpp is imported only here)."""
        if self._backend is None:
            from .backends.llama import LlamaCppBackend
            from .modelref import resolve_model

            path = resolve_model(self.options.model)
            self._backend = LlamaCppBackend(
                path,
                n_ctx=self.options.context_window,
                n_threads=self.options.threads,
                n_batch=self.options.batch_size,
                prefix_state_dir=self.cache_dir / "prefix" if self.options.use_cache else None,
            )
        return self._backend

    @property
    def model_name(self) -> str | None:
        if self._backend is None:
            return None
        path = getattr(self._backend, "path", None)
        return Path(path).name if path else self._backend.identity

    # --- stages ------------------------------------------------------------------------------

    def ingest(self, inputs: Iterable[str | Path | Article], *, stdin: IO[str] | None = None) -> list[Article]:
        problems: list[str] = []
        articles = load_articles(inputs, published=self.options.published, stdin=stdin, problems=problems)
        self.warnings.extend(problems)
        for article in articles:
            if article.published is None:
                self.warnings.append(
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
        self.prompts.messages("adjudicate", first=_SAMPLE_EVENT, second=_SAMPLE_EVENT)
        self.prompts.render_text("retry", error="- e: sample error")
        self._templates_checked = True

    def _extract_messages(self, article: Article, chunk: Chunk) -> tuple[tuple[str, str], ...]:
        return self.prompts.messages(
            "extract",
            article=article_view(article),
            chunk={"index": chunk.index},
            sentences=extraction.numbered_sentences(article, chunk),
        )

    def plan(self, articles: list[Article], *, tokenizer: Tokenizer | None = None,
             context_window: int | None = None, count_prompt=None) -> list[PlannedCall]:
        """Chunk every article and render its extraction calls, each proven to fit the context.

        A call's prompt is the fixed part (system prompt and chat framing, counted exactly once)
        plus the chunk's sentences and their number markers (counted when chunking). Only when
        that estimate comes within a safety margin of the window is the whole prompt counted
        exactly, and the chunk halved if it does not fit. With no arguments the loaded model's
        tokenizer and window are used; ``--dry-run`` passes tiktoken and a nominal window.
        """
        if tokenizer is None:
            tokenizer = self.backend.tokenizer
            context_window = self.backend.context_window
            count_prompt = self.backend.count_prompt_tokens
        assert context_window is not None and count_prompt is not None
        fixed = count_prompt(self.prompts.messages(
            "extract", article=article_view(articles[0]), chunk={"index": 0}, sentences=[]))
        # What the prompt adds around each sentence, measured with this tokenizer on the widest
        # marker a chunk can have.
        marker = tokenizer.count_many(["\n999. "])[0]
        largest_reply = extraction.output_token_budget(extraction.MAX_EVENTS)
        budget = max(min(self.options.max_chunk_tokens, context_window - fixed - largest_reply), 64)
        planned: list[PlannedCall] = []
        for article, chunks in zip(articles, chunking.chunk_articles(
                articles, tokenizer, budget, per_sentence_overhead=marker), strict=True):
            pending, fitted = list(chunks), []
            while pending:
                candidate = pending.pop(0)
                messages = self._extract_messages(article, candidate)
                request = extraction.build_request(messages, candidate, seed=self.options.seed,
                                                   temperature=self.options.temperature)
                estimate = fixed + candidate.token_count
                margin = 16 + estimate // 50  # boundary effects of tokenizing parts separately
                clearly_fits = estimate + margin + request.max_tokens <= context_window
                tokens = estimate if clearly_fits else count_prompt(messages)
                if tokens + request.max_tokens <= context_window:
                    fitted.append(candidate)
                    planned.append(PlannedCall(article, candidate, request, tokens))
                    continue
                halves = chunking.split_chunk(candidate, article.text, tokenizer, marker)
                if len(halves) == 1:
                    raise InputError(
                        f"{article.path or article.id}: a sentence of {candidate.token_count} tokens does "
                        f"not fit the model's context window of {context_window} tokens with the "
                        "prompt; use a model with a larger context (--ctx)."
                    )
                pending[:0] = halves
            renumbered = [chunk.index != index for index, chunk in enumerate(fitted)]
            for index, chunk in enumerate(fitted):
                chunk.index = index
            if any(renumbered):  # chunk numbers changed by splitting: render those prompts again
                for call in planned[len(planned) - len(fitted):]:
                    call.request = call.request.model_copy(
                        update={"messages": self._extract_messages(call.article, call.chunk)})
        return planned

    def extract(self, articles: list[Article]) -> list[Mention]:
        """Extraction for every chunk of every article. A chunk whose output stays invalid is
        reported and skipped; the others' results are kept (and cached as they finish)."""
        self.check_templates()
        backend = self.backend
        self.stats.source_tokens += sum(backend.tokenizer.count_many([a.text for a in articles]))
        planned = self.plan(articles)
        self.stats.chunks += len(planned)
        mentions: list[Mention] = []
        for call in self._progress(planned, "extracting"):
            try:
                output = structured_call(
                    backend, call.request, extraction.ExtractionOutput,
                    stage="extract", stats=self.stats, prompts=self.prompts, cache=self.cache,
                    max_retries=self.options.max_retries,
                    context={"sentences": len(call.chunk.sentences)},
                )
            except ExtractionRetryError as failure:
                self.stats.failed_chunks += 1
                self.warnings.append(
                    f"{call.article.id} chunk {call.chunk.index}: no valid events after "
                    f"{failure.attempts} attempts; that chunk is left out."
                )
                continue
            mentions.extend(extraction.ground(output, call.article, call.chunk, self.stats))
        self.stats.mentions += len(mentions)
        return mentions

    def _progress(self, items: list, label: str) -> Iterator:
        if not self.options.progress or len(items) < 2:
            yield from items
            return
        from tqdm import tqdm

        yield from tqdm(items, desc=label, unit="chunk", file=sys.stderr, leave=False)

    def merge(self, mentions: Iterable[Mention]) -> list[Event]:
        adjudicator = self._adjudicate if self.options.adjudicate else None
        return merge_mentions(mentions, adjudicator)

    def _adjudicate(self, first: Mention, second: Mention) -> bool:
        from .dates import format_span

        def view(m: Mention) -> dict:
            return {"article": m.article, "title": m.title, "date": format_span(m.date), "quote": m.quote}

        messages = self.prompts.messages("adjudicate", first=view(first), second=view(second))
        request = GenerationRequest(messages=messages, json_schema=AdjudicationOutput.model_json_schema(),
                                    max_tokens=16, temperature=self.options.temperature, seed=self.options.seed)
        try:
            answer = structured_call(self.backend, request, AdjudicationOutput, stage="adjudicate",
                                     stats=self.stats, prompts=self.prompts, cache=self.cache,
                                     max_retries=self.options.max_retries)
        except ExtractionRetryError:
            return False
        return answer.same

    def summarize(self, events: list[Event], articles: list[Article | ArticleInfo]) -> str:
        """The neutral summary of the timeline (empty, with a warning, if the model fails)."""
        if not events:
            self.warnings.append("No events were found, so no summary was written.")
            return ""
        self.check_templates()
        backend = self.backend
        views = [article_view(a) for a in articles]

        def messages_for(selection: list[Event]) -> tuple[tuple[str, str], ...]:
            return self.prompts.messages("summarize", events=[event_view(e) for e in selection],
                                         articles=views, omitted=len(events) - len(selection))

        def fits(selection: list[Event]) -> bool:
            return backend.count_prompt_tokens(messages_for(selection)) + SUMMARY_MAX_TOKENS <= backend.context_window

        selection, omitted = select_events(events, fits)
        if omitted:
            self.warnings.append(f"The summary saw the {len(selection)} most-reported events; "
                                 f"{omitted} did not fit the model's context window.")
        request = GenerationRequest(messages=messages_for(selection),
                                    json_schema=SummaryOutput.model_json_schema(),
                                    max_tokens=SUMMARY_MAX_TOKENS, temperature=self.options.temperature,
                                    seed=self.options.seed)
        try:
            output = structured_call(backend, request, SummaryOutput, stage="summarize", stats=self.stats,
                                     prompts=self.prompts, cache=self.cache,
                                     max_retries=self.options.max_retries)
        except ExtractionRetryError as failure:
            self.warnings.append(f"No summary: the model's output stayed invalid after {failure.attempts} attempts.")
            return ""
        return output.text

    # --- whole runs ----------------------------------------------------------------------------

    def result(self, articles: list[Article | ArticleInfo], events: list[Event], summary: str) -> Result:
        self.stats.settle()
        infos = [ArticleInfo(**a.model_dump(exclude={"text"})) for a in articles]
        return Result(articles=infos, timeline=events, summary=summary,
                      meta=Meta(model=self.model_name, warnings=list(self.warnings), stats=self.stats))

    def run(self, inputs: Iterable[str | Path | Article], *, stdin: IO[str] | None = None) -> Result:
        self.check_templates()
        articles = self.ingest(inputs, stdin=stdin)
        log.info("Read %d article(s); extracting events ...", len(articles))
        mentions = self.extract(articles)
        return self._timeline(articles, mentions)

    def run_from_mentions(self, articles: list[ArticleInfo], mentions: list[Mention]) -> Result:
        """Timeline and summary from mentions extracted earlier (no extraction calls)."""
        self.check_templates()
        self.stats.mentions += len(mentions)
        return self._timeline(articles, mentions)

    def _timeline(self, articles: list[Article] | list[ArticleInfo], mentions: list[Mention]) -> Result:
        events = self.merge(mentions)
        log.info("%d mentions merged into %d events; summarizing ...", len(mentions), len(events))
        return self.result(articles, events, self.summarize(events, articles))

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()


def summarize(inputs: Iterable[str | Path | Article], *, backend: Backend | None = None, **options: Any) -> Result:
    """Articles in (paths or :class:`Article` objects), timeline and summary out."""
    pipeline = Pipeline(backend, **options)
    try:
        return pipeline.run(inputs)
    finally:
        pipeline.close()


# --- mentions files ------------------------------------------------------------------------------


def write_mentions(articles: list[Article], mentions: list[Mention], handle: IO[str]) -> None:
    """JSON Lines: one ``{"kind": "article", ...}`` line per article, then one
    ``{"kind": "mention", ...}`` line per mention (fields as in :class:`Mention`)."""
    for article in articles:
        record = {"kind": "article", **ArticleInfo(**article.model_dump(exclude={"text"})).model_dump(mode="json")}
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    for mention in mentions:
        handle.write(json.dumps({"kind": "mention", **mention.model_dump(mode="json")}, ensure_ascii=False) + "\n")


def read_mentions(path: str | Path) -> tuple[list[ArticleInfo], list[Mention]]:
    """Read a mentions file; mentions of articles without an article line still load."""
    from pydantic import ValidationError

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist. Write one with `storyline extract PATH... -o {path}`.")
    articles: dict[str, ArticleInfo] = {}
    mentions: list[Mention] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            kind = record.pop("kind", "mention")
            if kind == "article":
                info = ArticleInfo.model_validate(record)
                articles[info.id] = info
            else:
                mentions.append(Mention.model_validate(record))
        except (json.JSONDecodeError, ValidationError, AttributeError) as error:
            raise InputError(f"{path}, line {number}: not a valid mention or article record ({error}).") from None
    for mention in mentions:
        articles.setdefault(mention.article, ArticleInfo(id=mention.article))
    return list(articles.values()), mentions

