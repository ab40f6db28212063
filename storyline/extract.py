"""Ask the model for the happenings each chunk reports.

The model sees the chunk's sentences numbered and answers with compact JSON: a short headline
per happening, in the chunk's order, each with the number of the sentence that reports it. That
is all it writes; the code finds the rest in the article (``grounding``): which sentence a
headline reports (by its words, the number only breaking ties), the time expressions, the
status and the names. The number of headlines is capped by what the chunk can hold, so a reply
cannot restate the text sentence by sentence. :class:`Planner` chunks the articles and renders
each call so that it is proven to fit the model's context window.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from . import chunk as chunking
from . import grounding
from .backends import GenerationRequest, Vocabulary
from .calls import ModelCalls
from .chunk import split_chunk
from .errors import ExtractionRetryError, InputError, PromptTooLongError, TruncatedOutputError
from .models import TITLE_CHARS, Article, Chunk, Mention, Stats
from .templating import PromptSet

if TYPE_CHECKING:
    from .reading import ArticleReading

log = logging.getLogger(__name__)

TOKENS_PER_EVENT = 80
"""A chunk of N tokens may list at most N / TOKENS_PER_EVENT happenings (about one in three news
sentences), so a reply writes about one token for every seven it reads (a headline and its number
take ten to twelve). News sentences mostly add detail to a happening already told, and a small
model left free lists one happening per sentence (or runs on in a loop), writing a token for each
token read. Sentences that place something on the calendar are kept whether or not the model
lists them (``grounding``), so the cap costs the timeline no dates; it costs it undated
happenings. At one in five (120 tokens) the 1.5B model filled the cap of the seeds' longest
article and left out reactions a reader expects (Kallas's, Zelensky's); at one in three it listed
them, generating 0.164 of the source tokens instead of 0.120 (``models/README.md``)."""
MAX_EVENTS = 16

Title = Annotated[str, StringConstraints(min_length=1, max_length=TITLE_CHARS)]


class ExtractionOutput(BaseModel):
    """The model's reply: ``{"events": [["headline", sentence number], ...]}``.

    The numbers only break ties when the code puts headlines back on their sentences (small
    models count sentences rather than cite them), but they keep the model's place in a long
    list: without them the 1.5B model wrote one headline over and over for the seeds' longest
    article and lost four of its happenings (Lammy's, Peskov's, Kallas's, the Truth Social post)."""

    model_config = ConfigDict(populate_by_name=True)

    events: list[tuple[Title, int]] = Field(max_length=MAX_EVENTS)

    @field_validator("events")
    @classmethod
    def _sentences_exist(cls, events: list[tuple[str, int]], info: ValidationInfo) -> list[tuple[str, int]]:
        count = (info.context or {}).get("sentences")
        if count is not None:
            wrong = sorted({n for _, n in events if not 1 <= n <= count})
            if wrong:
                raise ValueError(f"sentence numbers {wrong} do not exist; use 1 to {count}")
        return events

    @property
    def headlines(self) -> list[str]:
        return [title for title, _ in self.events]

    @property
    def cited(self) -> list[int]:
        """The sentence each headline cites, as an index into the chunk's sentences."""
        return [number - 1 for _, number in self.events]


def max_events(chunk_tokens: int) -> int:
    return max(1, min(MAX_EVENTS, math.ceil(chunk_tokens / TOKENS_PER_EVENT)))


@lru_cache(maxsize=512)
def extraction_schema(sentence_count: int, events: int) -> dict:
    """The JSON schema the model's reply is constrained to: at most ``events`` headlines (see
    ``max_events``), each with the number of one of the chunk's ``sentence_count`` sentences.

    Sentence numbers are an enum of the chunk's numbers, so the grammar itself rules out
    references to sentences that do not exist. Cached: treat the returned dict as read-only.
    """
    schema = ExtractionOutput.model_json_schema()
    item = schema["properties"]["events"]["items"]
    item["prefixItems"][1] = {"enum": list(range(1, sentence_count + 1))}
    schema["properties"]["events"]["maxItems"] = events
    return schema


_EMPTY_EVENT = '["",12],'


def output_token_budget(events: int, tokens_per_char: float, frame_tokens: int) -> int:
    """Tokens the reply may take: the longest reply the schema allows.

    ``frame_tokens`` is what one empty event costs with the model's tokenizer; a headline is
    text like the chunk's, so it is counted at the chunk's own density (``tokens_per_char``),
    with a margin: Cyrillic or CJK text with a byte-fallback tokenizer costs several tokens a
    character. A reply that still does not fit is handled as truncated output.
    """
    density = max(0.5, 1.5 * tokens_per_char)
    per_event = frame_tokens + int(TITLE_CHARS * density)
    return 16 + events * per_event


class NumberedSentence(NamedTuple):
    """A sentence as the extraction prompt shows it (attributes, so jinja finds them at once)."""

    n: int
    text: str


def numbered_sentences(article: Article, chunk: Chunk) -> list[NumberedSentence]:
    """The chunk's sentences, one line each (a sentence that introduces a quotation on the next
    line holds a line break; see ``chunk.split_sentences``)."""
    text = article.text
    return [NumberedSentence(n, text[s.start : s.end].replace("\n", " "))
            for n, s in enumerate(chunk.sentences, start=1)]


def article_view(article: Article) -> dict:
    """What prompts see of an article."""
    return {"id": article.id, "title": article.title, "published": article.published}


# --- planning --------------------------------------------------------------------------------------


@dataclass
class PlannedCall:
    """An extraction call as it will be sent: for ``--dry-run`` and for the run itself."""

    article: Article
    chunk: Chunk
    request: GenerationRequest
    prompt_tokens: int


@dataclass
class Planner:
    """Chunks articles and renders their extraction calls, each proven to fit the context.

    A call's prompt is the fixed part (system prompt and chat framing, counted exactly once)
    plus the chunk's sentences and their number markers (counted when chunking). Only when that
    estimate comes within a safety margin of the window is the whole prompt counted exactly, and
    the chunk halved if it does not fit.
    """

    prompts: PromptSet
    vocabulary: Vocabulary
    max_chunk_tokens: int = 2048
    seed: int = 0
    temperature: float = 0.0
    margin_tokens: int = 16
    """With ``margin_share``, how close to the window an estimate may come before the prompt is
    counted exactly (the estimate sums parts tokenized apart; joined, they tokenize a little
    differently)."""
    margin_share: float = 0.02

    def messages(self, article: Article, chunk: Chunk) -> tuple[tuple[str, str], ...]:
        return self.prompts.messages("extract", article=article_view(article), chunk={"index": chunk.index},
                                     sentences=numbered_sentences(article, chunk))

    def request(self, article: Article, chunk: Chunk, *, max_tokens: int | None = None) -> GenerationRequest:
        events = max_events(chunk.token_count)
        density = chunk.token_count / max(len(chunk.text), 1)
        return GenerationRequest(
            messages=self.messages(article, chunk),
            json_schema=extraction_schema(len(chunk.sentences), events),
            max_tokens=max_tokens or output_token_budget(events, density, self._frame_tokens),
            temperature=self.temperature,
            seed=self.seed,
        )

    @property
    def _frame_tokens(self) -> int:
        return self.vocabulary.tokenizer.count_many([_EMPTY_EVENT])[0]

    def plan(self, readings: list[ArticleReading]) -> list[PlannedCall]:
        """The calls that show the model what it reads of each article (``reading``)."""
        if not readings:
            return []
        vocabulary = self.vocabulary
        window = vocabulary.context_window
        fixed = vocabulary.count_prompt_tokens(self.prompts.messages(
            "extract", article=article_view(readings[0].article), chunk={"index": 0}, sentences=[]))
        # What the prompt adds around each sentence, measured with this tokenizer on the widest
        # marker a chunk can have.
        marker = vocabulary.tokenizer.count_many(["\n999 "])[0]
        largest_reply = output_token_budget(MAX_EVENTS, 0.25, self._frame_tokens)
        budget = max(min(self.max_chunk_tokens, window - fixed - largest_reply), 64)
        articles = [reading.article for reading in readings]
        shown = [[reading.sentences[index] for index in reading.shown] for reading in readings]
        planned: list[PlannedCall] = []
        all_chunks = chunking.pack_articles(articles, shown, vocabulary.tokenizer, budget,
                                            per_sentence_overhead=marker)
        for article, chunks in zip(articles, all_chunks, strict=True):
            planned += self._fit(article, chunks, fixed, marker, window)
        return planned

    def _fit(self, article: Article, chunks: list[Chunk], fixed: int, marker: int, window: int) -> list[PlannedCall]:
        pending, fitted = list(chunks), []
        while pending:
            candidate = pending.pop(0)
            request = self.request(article, candidate)
            estimate = fixed + candidate.token_count
            margin = self.margin_tokens + int(estimate * self.margin_share)
            clearly_fits = estimate + margin + request.max_tokens <= window
            tokens = estimate if clearly_fits else self.vocabulary.count_prompt_tokens(request.messages)
            if tokens + request.max_tokens <= window:
                fitted.append(PlannedCall(article, candidate, request, tokens))
                continue
            halves = chunking.split_chunk(candidate, article.text, self.vocabulary.tokenizer, marker)
            if len(halves) == 1:
                raise InputError(
                    f"{article.path or article.id}: a sentence of {candidate.token_count} tokens does not fit "
                    f"the model's context window of {window} tokens with the prompt; use a model with a "
                    "larger context (--ctx)."
                )
            pending[:0] = halves
        for index, call in enumerate(fitted):
            if call.chunk.index != index:  # numbers changed by splitting: render the prompt again
                call.chunk.index = index
                call.request = call.request.model_copy(update={"messages": self.messages(article, call.chunk)})
        return fitted


# --- the extraction of a run ---------------------------------------------------------------------

LARGE_RUN_CALLS = 200
LARGE_ARTICLE_CALLS = 40


def uncached(calls: ModelCalls, planned: list[PlannedCall]) -> list[PlannedCall]:
    """The planned extraction calls the cache does not answer."""
    if calls.cache is None:
        return planned
    from .cache import call_key

    identity, extra = calls.backend.identity, calls.cache_extra()
    return [call for call in planned if calls.cache.get(
        call_key(identity, call.request, ExtractionOutput.__name__, extra)) is None]


def warn_if_large(calls: ModelCalls, to_make: list[PlannedCall], planned: int) -> None:
    """Say before the work starts when a run is long, so the user can stop it: when the calls
    still ``to_make`` (of ``planned`` in all; the cache answers the rest) are many."""
    per_article: dict[str, int] = {}
    for call in to_make:
        per_article[call.article.id] = per_article.get(call.article.id, 0) + 1
    for article_id, count in per_article.items():
        if count >= LARGE_ARTICLE_CALLS:
            calls.warn(f"{article_id} is very long: {count} extraction calls for this article alone.")
    if len(to_make) >= LARGE_RUN_CALLS:
        tokens = sum(call.prompt_tokens for call in to_make)
        cached = f" ({planned - len(to_make)} more are answered from the cache)" if planned > len(to_make) else ""
        calls.warn(f"This run makes {len(to_make)} extraction calls{cached} over about {tokens:,} prompt tokens, "
                   "which can take hours on a laptop CPU. Press Ctrl-C to stop: finished calls are kept, "
                   "and the same command resumes.")


def extract_mentions(calls: ModelCalls, planner: Planner, readings: list[ArticleReading],
                     planned: list[PlannedCall]) -> list[Mention]:
    """The ``planned`` calls, ``parallel`` at a time, then the sentences the model did not read
    (``reading``), by code alone. A chunk whose output stays invalid is reported and skipped;
    the others' results are kept (and cached as they finish). Results are used in the plan's
    order, so the output is the same whatever order they arrive in; mentions come in article
    order, each article's in its own order."""
    stats = calls.stats
    stats.chunks += len(planned)
    found: dict[str, list[Mention]] = {r.article.id: [] for r in readings}
    articles = len({call.article.id for call in planned})
    results = calls.concurrently(lambda call: _extract_call(calls, planner, call), planned, "extracting", articles)
    for call, (outputs, failures) in zip(planned, results, strict=True):
        for chunk, output in outputs:
            found[call.article.id] += grounding.ground(output, call.article, chunk, stats)
        for reason in failures:
            stats.failed_chunks += 1
            calls.warn(f"{call.article.id} chunk {call.chunk.index}: {reason}; that chunk is left out.")
    for article_reading in readings:
        stats.sentences_read += len(article_reading.shown)
        stats.sentences_unread += len(article_reading.sentences) - len(article_reading.shown)
        found[article_reading.article.id] += _unread_mentions(article_reading, readings, found, stats)
    mentions = [m for r in readings for m in sorted(found[r.article.id], key=lambda m: m.offset)]
    stats.mentions += len(mentions)
    return mentions


def _extract_call(calls: ModelCalls, planner: Planner, call: PlannedCall) -> tuple[list, list[str]]:
    """One chunk's outputs, (chunk, output) pairs, and why any part failed; a chunk whose
    reply or prompt does not fit the window is halved."""
    try:
        output = calls.call(call.request, ExtractionOutput, "extract",
                            context={"sentences": len(call.chunk.sentences)})
    except ExtractionRetryError as failure:
        return [], [f"no valid events after {failure.attempts} attempts ({failure})"]
    except (TruncatedOutputError, PromptTooLongError) as failure:
        halves = split_chunk(call.chunk, call.article.text, calls.backend.tokenizer)
        if len(halves) == 1:
            return [], [str(failure)]
        log.info("%s chunk %d: the reply did not fit; extracting its halves", call.article.id, call.chunk.index)
        outputs: list = []
        failures: list[str] = []
        for half in halves:
            half.index = call.chunk.index
            found, failed = _extract_call(calls, planner, PlannedCall(
                call.article, half, planner.request(call.article, half), call.prompt_tokens))
            outputs += found
            failures += failed
        return outputs, failures
    return [(call.chunk, output)], []


def _unread_mentions(article_reading: ArticleReading, readings: list[ArticleReading],
                     found: dict[str, list[Mention]], stats: Stats) -> list[Mention]:
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
                                 titles, -1, stats)
