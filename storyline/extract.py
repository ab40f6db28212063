"""Ask the model for the events each chunk reports, and ground them in the article's text.

The model sees the chunk's sentences numbered and answers with compact JSON: a short title, the
time expression as written, a status, the numbers of the sentences that report the event and the
actors. The code turns sentence numbers into verbatim quotes, checks the quote and the time
expression really occur in the article, and resolves the expression to dates (``dates``).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from functools import lru_cache
from typing import Annotated, Literal, NamedTuple

from pydantic import BaseModel, Field, StringConstraints, ValidationInfo, field_validator

from . import dates
from .backends import GenerationRequest
from .models import Article, Chunk, DateSpan, Mention, Stats, Status

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
    """One event as the model reports it (short keys keep generation cheap)."""

    t: Title = Field(description="short neutral title")
    w: When = Field(description="time expression exactly as written, or empty")
    st: Literal["happened", "expected", "ongoing"]
    s: list[int] = Field(min_length=1, max_length=MAX_SENTENCE_REFS, description="sentence numbers")
    a: list[Actor] = Field(max_length=MAX_ACTORS, description="actors")

    @field_validator("s")
    @classmethod
    def _sentences_exist(cls, numbers: list[int], info: ValidationInfo) -> list[int]:
        count = (info.context or {}).get("sentences")
        if count is not None:
            wrong = [n for n in numbers if not 1 <= n <= count]
            if wrong:
                raise ValueError(f"sentence numbers {wrong} do not exist; use 1 to {count}")
        return numbers


class ExtractionOutput(BaseModel):
    e: list[ExtractedEvent] = Field(max_length=MAX_EVENTS)


def max_events(sentence_count: int) -> int:
    return max(1, min(MAX_EVENTS, sentence_count))


@lru_cache(maxsize=512)
def extraction_schema(sentence_count: int) -> dict:
    """The JSON schema the model's reply is constrained to, for a chunk of this many sentences.

    Sentence numbers are an enum of the chunk's numbers, so the grammar itself rules out
    references to sentences that do not exist. Cached: treat the returned dict as read-only.
    """
    schema = ExtractionOutput.model_json_schema()
    event = schema["$defs"]["ExtractedEvent"]
    event["properties"]["s"]["items"] = {"enum": list(range(1, sentence_count + 1))}
    schema["properties"]["e"]["maxItems"] = max_events(sentence_count)
    return schema


_EVENT_FRAME = len('{"t":"","w":"","st":"happened","s":[],"a":[]},') + 8


def output_token_budget(sentence_count: int) -> int:
    """Tokens the reply may take: the longest reply the schema allows, counting one token per
    character (what real tokenizers stay under for JSON of this shape)."""
    per_event = (
        _EVENT_FRAME + TITLE_CHARS + WHEN_CHARS + MAX_SENTENCE_REFS * (len(str(sentence_count)) + 1)
        + MAX_ACTORS * (ACTOR_CHARS + 3)
    )
    return 12 + max_events(sentence_count) * per_event


class NumberedSentence(NamedTuple):
    """A sentence as the extraction prompt shows it (attributes, so jinja finds them at once)."""

    n: int
    text: str


def numbered_sentences(article: Article, chunk: Chunk) -> list[NumberedSentence]:
    text = article.text
    return [NumberedSentence(n, text[s.start : s.end]) for n, s in enumerate(chunk.sentences, start=1)]


def build_request(
    messages: tuple[tuple[str, str], ...], chunk: Chunk, *, seed: int, temperature: float
) -> GenerationRequest:
    count = len(chunk.sentences)
    return GenerationRequest(
        messages=messages,
        json_schema=extraction_schema(count),
        max_tokens=output_token_budget(count),
        temperature=temperature,
        seed=seed,
    )


def _find(expression: str, text: str) -> int:
    """Where the expression occurs in text, ignoring case and runs of white space; -1 if not."""
    words = expression.split()
    if not words:
        return -1
    pattern = r"\s+".join(re.escape(w) for w in words)
    match = re.search(pattern, text, re.IGNORECASE)
    return match.start() if match else -1


_TENSE_OF_STATUS: dict[str, dates.Tense | None] = {"happened": "past", "expected": "future", "ongoing": None}


def date_mention(when: str, sentence: str, status: Status, published: dt.date | None) -> DateSpan:
    """Resolve a mention's time expression in its sentence; the sentence's tense decides the
    direction of bare weekdays and months, else the status the model gave."""
    tense = dates.detect_tense(sentence, when) if when else None
    span = dates.resolve(when, published, tense=tense or _TENSE_OF_STATUS[status])
    return place_unresolved(span, status, published)


def place_unresolved(span: DateSpan, status: Status, published: dt.date | None) -> DateSpan:
    """An unplaced mention is kept on the side of the publication date its status implies;
    it never gets a made-up day."""
    if span.is_known or published is None:
        return span
    side = {"expected": {"start": published, "qualifier": "after"}}.get(
        status, {"end": published, "qualifier": "before"})
    return span.model_copy(update={**side, "vague": True})


def ground(output: ExtractionOutput, article: Article, chunk: Chunk, stats: Stats) -> list[Mention]:
    """Turn the model's events into mentions with verbatim quotes and resolved dates.

    Events whose sentence references fall outside the chunk are dropped and counted as
    ungrounded. A time expression that does not occur in the cited sentence is not trusted: it
    is kept as written, and the event is placed only before or after the publication date, as
    its status implies.
    """
    mentions = []
    for event in output.e:
        numbers = sorted(set(event.s))
        if not numbers or numbers[0] < 1 or numbers[-1] > len(chunk.sentences):
            stats.ungrounded_dropped += 1
            continue
        when = event.w.strip()
        texts = {n: article.text[chunk.sentences[n - 1].start : chunk.sentences[n - 1].end] for n in numbers}
        # The quote is the run of consecutive cited sentences around the one that holds the time
        # expression (or the first cited one): verbatim, and no uncited sentence in between.
        anchor = next((n for n in numbers if when and _find(when, texts[n]) >= 0), numbers[0])
        low, high = anchor, anchor
        while low - 1 in texts:
            low -= 1
        while high + 1 in texts:
            high += 1
        first, last = chunk.sentences[low - 1], chunk.sentences[high - 1]
        quote = article.text[first.start : last.end].strip()
        if not quote or quote not in article.text:
            stats.ungrounded_dropped += 1
            continue
        if when and _find(when, texts[anchor]) < 0:
            span = DateSpan(expression=when, note="time expression not found in the quoted text")
            span = place_unresolved(span, event.st, article.published)
        else:
            span = date_mention(when, texts[anchor], event.st, article.published)
        mentions.append(Mention(
            article=article.id,
            quote=quote,
            title=event.t.strip(),
            when=when,
            status=event.st,
            actors=[a.strip() for a in event.a if a.strip()],
            date=span,
            chunk=chunk.index,
            offset=first.start,
        ))
    return mentions
