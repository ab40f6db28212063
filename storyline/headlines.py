"""Headlines for timeline events that no mention titled.

Extraction keeps every sentence that places something on the calendar, whether or not the
model listed a headline for it, and drops headlines that only copy a sentence's opening
(``grounding``); the merge gives no title to an event whose titles say nothing about their
quotes. Such events have no title yet: one call per batch of them asks the model for a headline
per sentence. A headline must be about its own sentence (``grounding.align`` puts it back on
it) and more than its opening words, else the event is named from its sentence
(``quote_title``).
"""

from __future__ import annotations

import logging
import re
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from .attribution import speaker_of
from .calls import ModelCalls
from .errors import ExtractionRetryError, PromptTooLongError, TruncatedOutputError
from .extract import NumberedSentence
from .grounding import align, clean_title, content_keys, copies_opening, says_nothing_of, unfinished
from .merge import story_topic
from .models import Event

log = logging.getLogger(__name__)

BATCH = 6
"""Events named per call: enough to share the instructions, few enough for a small model to
keep each headline on its own sentence."""
OPENING_WORDS = 12
HEADLINE_CHARS = 64
"""Longer than an extraction headline may be (``extract.TITLE_CHARS``): at 48 characters the
grammar ended the 1.5B model's headlines mid-thought ("EU foreign policy chief says Russia is
not"). These headlines name events already merged, so their length cannot sway the merge, where
long titles full of names and roles join reports of different happenings."""
Headline = Annotated[str, StringConstraints(min_length=1, max_length=HEADLINE_CHARS)]


class HeadlineOutput(BaseModel):
    """The model's reply: ``{"headlines": ["...", ...]}``, one per sentence, in order."""

    headlines: list[Headline] = Field(min_length=1)


def headline_schema(count: int) -> dict:
    """Exactly ``count`` headlines."""
    schema = HeadlineOutput.model_json_schema()
    schema["properties"]["headlines"].update(minItems=count, maxItems=count)
    return schema


def untitled(events: list[Event]) -> list[Event]:
    return [event for event in events if not event.title]


NAMED_SOURCES = 2
"""In a story the model read only part of (``reading``), the events it names: those reported by at
least this many articles."""


def partly_read(events: list[Event]) -> bool:
    """Whether the model left sentences of the story unread (``reading``): some mention was found
    by the code alone."""
    return any(mention.chunk < 0 for event in events for mention in event.mentions)


def worth_naming(events: list[Event]) -> list[Event]:
    """The untitled events the model is asked to name. Of a story it read whole, all of them. Of
    a larger one, which it read only in part, the events several articles report
    (``NAMED_SOURCES``): a headline costs the model about as much as reading a paragraph, and a
    story of a hundred articles has hundreds of events that one sentence of one article reports,
    which are named by their own words instead (``opening_words``)."""
    pending = untitled(events)
    return [e for e in pending if e.sources >= NAMED_SOURCES] if partly_read(events) else pending


def sentence_of(event: Event) -> str:
    """The sentence a headline is asked for: the event's first report."""
    return event.mentions[0].quote


_CAPITALISED_WORD = re.compile(r"\b[A-Z][\w’'.-]*")


def names_elsewhere(headline: str, sentence: str) -> list[str]:
    """The capitalised words of a headline that its sentence does not write (folded as
    ``grounding.content_keys`` folds words, so "Zelenskiy" is "Zelensky" and "Russian" is
    "Russia").

    The headline stage sees each sentence alone, so a name the sentence does not write is a
    guess: where the sentence says "he" or "they", the 1.5B model put the wrong people in
    ("Zelensky clashes with Putin" for "he [Trump] clashed with Zelensky")."""
    written = set(content_keys(sentence.replace(".", "")))
    return [word for word in _CAPITALISED_WORD.findall(headline)
            if (keys := content_keys(word.replace(".", ""))) and not set(keys) <= written]


def accepted(headlines: list[str], sentences: list[str], topic: frozenset[str] = frozenset()) -> list[str | None]:
    """Each headline if it is about its own sentence, more than its opening words, finished
    (``grounding.unfinished``), says something its sentence says (``grounding.says_nothing_of``),
    names no one its sentence does not (``names_elsewhere``) and writes none of the story's
    commonest words (``topic``: see ``merge.story_topic``) that its sentence does not
    (``guesses``), else None."""
    placed = align(headlines, sentences, list(range(len(sentences))))
    titles = [clean_title(h, sentences[index], HEADLINE_CHARS) if place == index else ""
              for index, (h, place) in enumerate(zip(headlines, placed, strict=True))]
    return [title if title and not copies_opening(title, sentence) and not unfinished(title, sentence)
            and not says_nothing_of(title, sentence) and not names_elsewhere(title, sentence)
            and not guesses(title, sentence, topic) else None
            for title, sentence in zip(titles, sentences, strict=True)]


def guesses(headline: str, sentence: str, topic: frozenset[str]) -> bool:
    """Whether a headline writes one of the story's commonest words (``topic``) that its
    sentence does not ("Trump announces ceasefire" over "Trump made the announcement on Truth
    Social"): small models lean on the story's topic where a sentence says something else."""
    return bool(topic) and not (topic & set(content_keys(headline))) <= set(content_keys(sentence))


_OPENING_QUOTATION = re.compile(r"^[“\"](?P<words>[^”\"]+)[”\"]")
QUOTED_WORDS = 7


def quote_title(sentence: str) -> str:
    """A name for an event no headline could be had for, from its sentence: a quotation is
    named by its speaker (``attribution.speaker_of``) and its first words (Trump: “We want to
    see if we can…”), any other sentence by its opening words."""
    quotation = _OPENING_QUOTATION.match(sentence)
    speaker = speaker_of(sentence) if quotation else None
    if quotation and speaker:
        words = quotation.group("words").rstrip(" ,.!?").split()
        shown = " ".join(words[:QUOTED_WORDS]) + ("…" if len(words) > QUOTED_WORDS else "")
        return f"{speaker}: “{shown}”"
    words = sentence.split()
    return " ".join(words[:OPENING_WORDS]) + ("…" if len(words) > OPENING_WORDS else "")


def opening_words(event: Event) -> str:
    """A name for an event no headline could be had for (``quote_title`` of its first quote)."""
    return quote_title(sentence_of(event))


# --- naming a run's events -------------------------------------------------------------------------


def name_events(calls: ModelCalls, events: list[Event]) -> list[Event]:
    """Headlines for the events no mention titled, those worth the model's time
    (``worth_naming``), asked ``BATCH`` at a time. A headline refused (``accepted``) is asked
    for once more, for its sentence alone (in a batch, small models slip a headline onto the
    next sentence), unless the story is large (``partly_read``). An event still without a
    headline is named by its quote's opening words."""
    pending = worth_naming(events)
    if pending:
        log.info("Writing headlines for %d events ...", len(pending))
        topic = story_topic(m for event in events for m in event.mentions)
        batches = [pending[start:start + BATCH] for start in range(0, len(pending), BATCH)]
        refused = []
        named = calls.concurrently(lambda batch: _headlines(calls, batch, topic), batches, "naming")
        for batch, titles in zip(batches, named, strict=True):
            for event, title in zip(batch, titles, strict=True):
                event.title = title or ""
                refused += [] if title else [event]
        if not partly_read(events):
            again = calls.concurrently(lambda event: _headlines(calls, [event], topic)[0], refused, "naming again")
            for event, title in zip(refused, again, strict=True):
                event.title = title or ""
    for event in untitled(events):
        event.title = opening_words(event)
    return events


def _headlines(calls: ModelCalls, batch: list[Event], topic: frozenset[str]) -> list[str | None]:
    """The model's headline for each event of a batch, None where it is refused."""
    sentences = [sentence_of(e) for e in batch]
    messages = calls.prompts.messages("headline", sentences=[
        NumberedSentence(n, text) for n, text in enumerate(sentences, start=1)])
    request = calls.request(messages, headline_schema(len(batch)), max_tokens=16 + len(batch) * 24)
    try:
        output = calls.call(request, HeadlineOutput, "headline")
    except (ExtractionRetryError, TruncatedOutputError, PromptTooLongError) as failure:
        calls.warn(f"No headlines for {len(batch)} events: {failure}")
        return [None] * len(batch)
    return accepted(output.headlines, sentences, topic)
