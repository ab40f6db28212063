"""Ask the model for the events each chunk reports, and ground them in the article's text.

The model sees the chunk's sentences numbered and answers with compact JSON: a short title, the
time expression as written, a status, the numbers of the sentences that report the event and the
actors. The code turns sentence numbers into verbatim quotes, checks that the time expression
really occurs in the quote, keeps only actors the article names, and resolves the expression to
dates (``dates``). :func:`plan_calls` chunks the articles and renders each call so that it is
proven to fit the model's context window.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from . import chunk as chunking
from . import dates
from .backends import GenerationRequest, Vocabulary
from .errors import InputError
from .models import Article, Chunk, DateSpan, Mention, Stats, Status
from .templating import PromptSet

log = logging.getLogger(__name__)

TITLE_CHARS = 90
WHEN_CHARS = 48
ACTOR_CHARS = 32
MAX_ACTORS = 3
MAX_SENTENCE_REFS = 3
MAX_EVENTS = 16

Title = Annotated[str, StringConstraints(min_length=1, max_length=TITLE_CHARS)]
When = Annotated[str, StringConstraints(max_length=WHEN_CHARS)]
Actor = Annotated[str, StringConstraints(min_length=1, max_length=ACTOR_CHARS)]


class ExtractedEvent(BaseModel):
    """One event as the model reports it. The JSON keys are the aliases (see ``KEYS``)."""

    model_config = ConfigDict(populate_by_name=True)

    title: Title = Field(alias="title", description="short neutral title")
    when: When = Field(alias="when", description="time expression exactly as written, or empty")
    status: Literal["happened", "expected", "ongoing"] = Field(alias="status")
    sentences: list[int] = Field(alias="sentences", min_length=1, max_length=MAX_SENTENCE_REFS,
                                 description="sentence numbers")
    actors: list[Actor] = Field(alias="actors", max_length=MAX_ACTORS, description="actors")

    @field_validator("sentences")
    @classmethod
    def _sentences_exist(cls, numbers: list[int], info: ValidationInfo) -> list[int]:
        count = (info.context or {}).get("sentences")
        if count is not None:
            wrong = [n for n in numbers if not 1 <= n <= count]
            if wrong:
                raise ValueError(f"sentence numbers {wrong} do not exist; use 1 to {count}")
        return numbers


class ExtractionOutput(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    events: list[ExtractedEvent] = Field(alias="events", max_length=MAX_EVENTS)


def max_events(sentence_count: int) -> int:
    return max(1, min(MAX_EVENTS, sentence_count))


@lru_cache(maxsize=512)
def extraction_schema(sentence_count: int) -> dict:
    """The JSON schema the model's reply is constrained to, for a chunk of this many sentences.

    Sentence numbers are an enum of the chunk's numbers, so the grammar itself rules out
    references to sentences that do not exist. Cached: treat the returned dict as read-only.
    """
    schema = ExtractionOutput.model_json_schema(by_alias=True)
    event = schema["$defs"]["ExtractedEvent"]
    event["properties"]["sentences"]["items"] = {"enum": list(range(1, sentence_count + 1))}
    schema["properties"]["events"]["maxItems"] = max_events(sentence_count)
    return schema


_EMPTY_EVENT = '{"title":"","when":"","status":"happened","sentences":[],"actors":[]},'


def output_token_budget(sentence_count: int, tokens_per_char: float, frame_tokens: int) -> int:
    """Tokens the reply may take: the longest reply the schema allows.

    ``frame_tokens`` is what one empty event costs with the model's tokenizer; the strings a
    model writes are text like the chunk's, so they are counted at the chunk's own density
    (``tokens_per_char``), with a margin: Cyrillic or CJK text with a byte-fallback tokenizer costs
    several tokens a character. A reply that still does not fit is handled as truncated output.
    """
    density = max(0.5, 1.5 * tokens_per_char)
    strings = TITLE_CHARS + WHEN_CHARS + MAX_ACTORS * ACTOR_CHARS
    per_event = frame_tokens + int(strings * density) + MAX_SENTENCE_REFS * (len(str(sentence_count)) + 1)
    return 16 + max_events(sentence_count) * per_event


class NumberedSentence(NamedTuple):
    """A sentence as the extraction prompt shows it (attributes, so jinja finds them at once)."""

    n: int
    text: str


def numbered_sentences(article: Article, chunk: Chunk) -> list[NumberedSentence]:
    text = article.text
    return [NumberedSentence(n, text[s.start : s.end]) for n, s in enumerate(chunk.sentences, start=1)]


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
        count = len(chunk.sentences)
        density = chunk.token_count / max(len(chunk.text), 1)
        return GenerationRequest(
            messages=self.messages(article, chunk),
            json_schema=extraction_schema(count),
            max_tokens=max_tokens or output_token_budget(count, density, self._frame_tokens),
            temperature=self.temperature,
            seed=self.seed,
        )

    @property
    def _frame_tokens(self) -> int:
        return self.vocabulary.tokenizer.count_many([_EMPTY_EVENT])[0]

    def plan(self, articles: list[Article], problems: list[str] | None = None) -> list[PlannedCall]:
        if not articles:
            return []
        vocabulary = self.vocabulary
        window = vocabulary.context_window
        fixed = vocabulary.count_prompt_tokens(self.prompts.messages(
            "extract", article=article_view(articles[0]), chunk={"index": 0}, sentences=[]))
        # What the prompt adds around each sentence, measured with this tokenizer on the widest
        # marker a chunk can have.
        marker = vocabulary.tokenizer.count_many(["\n999 "])[0]
        largest_reply = output_token_budget(MAX_EVENTS, 0.25, self._frame_tokens)
        budget = max(min(self.max_chunk_tokens, window - fixed - largest_reply), 64)
        planned: list[PlannedCall] = []
        all_chunks = chunking.chunk_articles(articles, vocabulary.tokenizer, budget, per_sentence_overhead=marker,
                                             problems=problems)
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


# --- grounding --------------------------------------------------------------------------------------

_TENSE_OF_STATUS: dict[str, dates.Tense | None] = {"happened": "past", "expected": "future", "ongoing": None}


def date_mention(when: str, sentence: str, status: Status, published: dt.date | None) -> DateSpan:
    """Resolve a mention's time expression in its sentence (the sentence's tense and the
    status combine as ``dates.tense.direction`` says) and place it if it resolves to nothing."""
    span = dates.resolve(when, published, sentence, status_tense=_TENSE_OF_STATUS[status])
    return place_unresolved(span, status, published)


def place_unresolved(span: DateSpan, status: Status, published: dt.date | None) -> DateSpan:
    """An unplaced mention is kept on the side of the publication date its status implies;
    it never gets a made-up day, and its expression is not shown as the reason for the place."""
    if span.is_known or published is None:
        return span
    side = {"expected": {"start": published, "qualifier": "after"}}.get(
        status, {"end": published, "qualifier": "before"})
    note = f"placed by status: {span.note}" if span.note else "placed by status"
    return span.model_copy(update={**side, "vague": True, "expression": None, "note": note})


def find_in(expression: str, text: str) -> int:
    """Where the expression occurs in text as whole words, ignoring case and runs of white
    space; -1 if it does not."""
    words = expression.split()
    if not words:
        return -1
    pattern = r"\s+".join(re.escape(w) for w in words)
    match = re.search(rf"(?<!\w){pattern}(?!\w)", text, re.IGNORECASE)
    return match.start() if match else -1


_ACTOR_SEPARATORS = re.compile(r"\s*(?:[,;/&|]|\band\b|\bund\b|\bet\b)\s*", re.IGNORECASE)
_ACTOR_EDGES = " \t\"'“”‘’.:()[]-–—"


def clean_actors(actors: list[str], text: str, limit: int = MAX_ACTORS) -> list[str]:
    """The actors a model listed, as the article names them (README, "Actors").

    A list written into one string ("Kremlin, Russia, Ukraine") is split into its names, unless
    the whole string is a name the article uses ("Bosnia and Herzegovina"). A name is kept only
    if the article contains it as whole words; repeats (by case) are dropped.
    """
    kept: list[str] = []
    seen: set[str] = set()
    for actor in actors:
        whole = actor.strip(_ACTOR_EDGES)
        parts = [whole] if find_in(whole, text) >= 0 else _ACTOR_SEPARATORS.split(actor)
        for part in parts:
            name = " ".join(part.split()).strip(_ACTOR_EDGES)
            key = name.casefold()
            if len(name) < 2 or key in seen or find_in(name, text) < 0:
                continue
            seen.add(key)
            kept.append(name)
    return kept[:limit]


def ground(output: ExtractionOutput, article: Article, chunk: Chunk, stats: Stats) -> list[Mention]:
    """Turn the model's events into mentions with verbatim quotes and resolved dates.

    - Events whose sentence references fall outside the chunk are dropped and counted as
      ungrounded.
    - The quote is the run of consecutive cited sentences around the one that holds the time
      expression (or the first cited one): verbatim, with no uncited sentence in between.
    - A time expression that does not occur in the quote is not trusted: it is left out of the
      mention (kept only in the date's note), and the event is placed before or after the
      publication date as its status implies. So is an expression that is no time expression.
    - The same event reported twice (same quote, title, time and status) is kept once.
    """
    mentions: list[Mention] = []
    seen: set[tuple] = set()
    for event in output.events:
        numbers = sorted(set(event.sentences))
        if not numbers or numbers[0] < 1 or numbers[-1] > len(chunk.sentences):
            stats.ungrounded_dropped += 1
            continue
        when = " ".join(event.when.split())
        texts = {n: article.text[chunk.sentences[n - 1].start : chunk.sentences[n - 1].end] for n in numbers}
        anchor = next((n for n in numbers if when and find_in(when, texts[n]) >= 0), numbers[0])
        low, high = anchor, anchor
        while low - 1 in texts:
            low -= 1
        while high + 1 in texts:
            high += 1
        first, last = chunk.sentences[low - 1], chunk.sentences[high - 1]
        quote = article.text[first.start : last.end].strip()
        title = " ".join(event.title.split())
        key = (first.start, last.end, title.casefold(), when.casefold(), event.status)
        if not quote or not title:
            stats.ungrounded_dropped += 1
            continue
        if key in seen:
            stats.duplicates_dropped += 1
            continue
        seen.add(key)
        span, when = _date_of(when, texts[anchor], event.status, article.published, stats)
        mentions.append(Mention(
            article=article.id, quote=quote, title=title, when=when, status=event.status,
            actors=clean_actors(event.actors, article.text), date=span, chunk=chunk.index, offset=first.start,
        ))
    return mentions


def _date_of(when: str, sentence: str, status: Status, published: dt.date | None,
             stats: Stats) -> tuple[DateSpan, str]:
    """The mention's date and the time expression it may show (empty if not trusted)."""
    if not when:
        return date_mention("", sentence, status, published), ""
    if find_in(when, sentence) < 0:
        stats.untrusted_times += 1
        note = f"the model's time expression {when!r} is not in the quoted text; not used"
        return place_unresolved(DateSpan(note=note), status, published), ""
    span = dates.resolve(when, published, sentence, status_tense=_TENSE_OF_STATUS[status])
    if span.note == dates.UNRECOGNISED:
        stats.untrusted_times += 1
        note = f"{when!r} is not a time expression; not used"
        return place_unresolved(DateSpan(note=note), status, published), ""
    return place_unresolved(span, status, published), when

