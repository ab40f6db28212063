"""The neutral summary, written by the model from the merged timeline."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Callable
from enum import IntEnum
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, ValidationError, ValidationInfo, field_validator

from .attribution import Report, days_told, drawn_on, refusal, speaker_of
from .backends import GenerationRequest
from .calls import ModelCalls
from .dates import format_span
from .dates.finder import find_expressions
from .dates.tense import locate
from .errors import ExtractionRetryError, PromptTooLongError, TruncatedOutputError
from .extract import article_view
from .grounding import content_keys
from .models import DateSpan, Event, Mention, Precision, Stats
from .progress import token_bar
from .ranking import background

log = logging.getLogger(__name__)

SENTENCE_CHARS = 360
MAX_SENTENCES = 6
SUMMARY_MAX_TOKENS = MAX_SENTENCES * (SENTENCE_CHARS // 2 + 4) + 24
"""The reply's token limit: six sentences of the longest length at two characters a token
(English runs at about four); a longer reply is handled as truncated output."""
FEWEST_SENTENCES = 4
"""A summary of four or more events shown keeps at least this many sentences: where the model's
sentences fail the check or repeat each other, untold events are told in their reports' words."""
SUMMARY_EVENTS = 5
"""The summary is written from at most this many events, the most reported, one sentence each:
a small model summarises a short list better than a long one, and reads it faster. Given more
events than sentences it writes about the first ones in date order and never reaches the later
ones: given sixteen, or eight, the 1.5B model never reached the story's main event (the seeds'
Tuesday call, reported by all five articles, and last in date order)."""


# Words a neutral summary does not use in its own voice (inside quotation marks they are fine).
_LOADED = re.compile(
    r"\b(slammed|blasted|shocking|outrageous|disastrous|heroic|brutal|barbaric|evil|"
    r"so-called|regime|terrorists?|thugs?|shameful|disgraceful|slams?|lashed out)\b",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"[\"“][^\"”]*[\"”]")

# The summary is asked for as a list of sentences: a grammar for one long string would need a
# repetition llama.cpp refuses to build, and bounded sentences keep generation bounded too. Each
# must end like a sentence, so the grammar never lets one stop mid-word. The pattern is all a
# JSON-schema grammar converter reads of a string's constraints, and a length bound written into
# it ({1,358}) becomes hundreds of nested grammar rules that slow every token: the length is
# checked on validation instead, and the token limit bounds what is written.
SENTENCE_PATTERN = r"^[^\"\\\n]+[.!?…][’”)\]]?$"
Sentence = Annotated[str, StringConstraints(min_length=1, pattern=SENTENCE_PATTERN)]


# The prompt's own line format ("1. 18 Mar 2025, 2 sources: ...", or in older and custom prompts
# "- 18 Mar 2025: Title (happened; 2 sources)") copied into a sentence: the model echoed its
# input instead of summarizing it.
_ECHO = re.compile(r"[\[(](?:happened|expected|ongoing);\s*\d+\s+sources?[\])]|^\s*-\s|^\s*\d+\.(?:\s|$)|"
                   r"\b\d+\s+sources?:|\(sources disagree:", re.IGNORECASE)
_NOT_WORD = re.compile(r"\W+")
# Days named from the article's own date ("ordered not to kiss or shake hands yesterday"): copied
# from a report into the summary, they say nothing, or the wrong day, to its reader.
_DEICTIC = re.compile(r"\b(?:yesterday|today|tomorrow|tonight|last night|this (?:morning|afternoon|evening))\b",
                      re.IGNORECASE)


class SummaryOutput(BaseModel):
    sentences: list[Sentence] = Field(min_length=1, max_length=MAX_SENTENCES)

    @field_validator("sentences")
    @classmethod
    def _neutral(cls, sentences: list[str]) -> list[str]:
        """Neutral wording, and the sentences worth keeping.

        Loaded words refuse the reply (the retry says which). A sentence that copies the
        prompt's line format, runs over SENTENCE_CHARS, dates something by the day its report was
        written ("yesterday", "today": ``_DEICTIC``, outside quotation marks), or repeats another
        (same words, whatever the case and punctuation) is dropped, not refused: a small model
        that writes one such sentence writes it again when asked, and the rest of its summary is
        still good. An item
        over SENTENCE_CHARS that holds several sentences is read as those sentences first: on
        60 BP oil spill articles the 1.5B model wrote its whole summary into each item. At most
        MAX_SENTENCES are kept. Only a reply with nothing left is refused.
        """
        text = " ".join(sentences)
        loaded = sorted({w.lower() for w in _LOADED.findall(_QUOTED.sub("", text))})
        if loaded:
            raise ValueError(f"uses loaded words in its own voice: {', '.join(loaded)}; use neutral wording")
        pieces = [piece for s in sentences for piece in _sentences_in(s)]
        unique: dict[str, str] = {}
        for sentence in (s.strip() for s in pieces if len(s) <= SENTENCE_CHARS and not _ECHO.search(s)
                         and not _DEICTIC.search(_QUOTED.sub("", s))):
            key = _NOT_WORD.sub(" ", sentence.casefold()).strip()
            if key and key not in unique:
                unique[key] = sentence
        if not unique:
            raise ValueError(f"has no sentence to keep: each is over {SENTENCE_CHARS} characters, copies the "
                             "timeline's line format, says 'yesterday' or 'today' instead of the timeline's dates, "
                             "or has no words; write short plain sentences")
        return list(unique.values())[:MAX_SENTENCES]

    @field_validator("sentences")
    @classmethod
    def _attributed(cls, sentences: list[str], info: ValidationInfo) -> list[str]:
        """With the events the model was shown (``context["reports"]``, ``attribution.Report``):
        every sentence says what its reports say, of whom they say it (``attribution.refusal``).
        A reply with a sentence that does not is refused, saying which and why; the refusals are
        kept in ``context["refused"]`` for the run's counters."""
        reports = (info.context or {}).get("reports")
        if not reports:
            return sentences
        reasons = [(n, reason) for n, sentence in enumerate(sentences, start=1)
                   if (reason := refusal(sentence, reports))]
        if reasons:
            info.context.setdefault("refused", []).extend(reasons)  # type: ignore[union-attr]
            raise ValueError("; ".join(f"sentence {n} {reason}" for n, reason in reasons)
                             + "; write each sentence from its event's report, naming who said it as the line does")
        return sentences

    @property
    def text(self) -> str:
        return " ".join(s for s in self.sentences if s)


def _sentences_in(item: str) -> list[str]:
    """An item of the reply as its sentences, if it is too long to be one."""
    if len(item) <= SENTENCE_CHARS:
        return [item]
    from .chunk import split_sentences

    return [item[s.start:s.end] for s in split_sentences(item)]


_BETWEEN_ITEMS = re.compile(r"\s*,?\s*")


def finished_sentences(raw: str) -> SummaryOutput | None:
    """The sentences a reply cut off by the token limit had finished, validated as a summary, or
    None if it had finished none worth keeping.

    The grammar lets a sentence run on (its length is checked only on validation, see
    SENTENCE_PATTERN): a small model that writes one sentence without end hits the token limit
    with its first sentences whole, and those are still a summary. Each finished item of the
    ``sentences`` list is read as JSON; reading stops at the first that is not a whole string.
    """
    start = raw.find("[")
    if start < 0:
        return None
    decoder = json.JSONDecoder()
    sentences: list[str] = []
    position = start + 1
    while len(sentences) < MAX_SENTENCES:
        position = _BETWEEN_ITEMS.match(raw, position).end()  # type: ignore[union-attr]
        try:
            sentence, position = decoder.raw_decode(raw, position)
        except json.JSONDecodeError:
            break
        if not isinstance(sentence, str):
            break
        sentences.append(sentence)
    try:
        return SummaryOutput.model_validate({"sentences": sentences})
    except ValidationError:
        return None


def summary_schema(events: int) -> dict:
    """The reply's schema: at least one sentence per event shown (at most MAX_SENTENCES). Asked
    for one each, the 1.5B model wrote a single sentence about the most-reported event and
    stopped; the grammar holds it to the count, as ``headlines`` holds its headlines."""
    schema = SummaryOutput.model_json_schema()
    schema["properties"]["sentences"]["minItems"] = max(1, min(events, MAX_SENTENCES))
    return schema


def central(event: Event) -> Mention:
    """The report that stands for an event: the one whose words the others share most (the
    first of equals)."""
    keys = [set(content_keys(m.quote)) for m in event.mentions]
    shared = [sum(len(own & other) for other in keys) for own in keys]
    return event.mentions[max(range(len(keys)), key=lambda i: (shared[i], -i))]


def event_view(event: Event, outlets: dict[str, str] | None = None) -> dict:
    """What the summary prompt sees of an event: its central report (``central``) with calendar
    dates (``on_the_calendar``), who speaks in it (the speaker the sentence names), the outlet
    that wrote it (from ``outlets``: article id to source; None for an article that names none)
    and the names the code found.

    An article without a source is not credited by its title here, as the timeline credits it:
    shown "reported by Former U.S. President Donald Trump and Russian President Vladimir Putin…"
    (a seed article's opening words), the 1.5B model gave that report's words to Putin."""
    mention = central(event) if event.mentions else None
    speaker = speaker_of(mention.quote) if mention else None
    outlet = (outlets or {}).get(mention.article) if mention else None
    return {
        "date": format_span(event.date),
        "title": event.title,
        "status": event.status,
        "sources": event.sources,
        "actors": event.actors,
        "speaker": speaker,
        "outlet": outlet,
        "conflicts": [c.detail for c in event.conflicts],
        "quote": on_the_calendar(mention) if mention else "",
        "verbatim": mention.quote if mention else "",
    }


def report_of(event: Event, view: dict) -> Report:
    """An event, as the prompt showed it (``event_view``), as the attribution check reads it."""
    return Report(quote=view["verbatim"], speaker=view["speaker"], source=view["outlet"], names=view["actors"],
                  title=view["title"], span=event.date)


_ON_A_DAY = (Precision.day, Precision.range)


def _calendar_words(span: DateSpan) -> str:
    """A span as words that can stand where a time expression stood: "on 18 Mar 2025", "in
    Feb 2025", "in the week of 10 Mar 2025", "until 18 Mar 2025"."""
    shown = format_span(span)
    if span.qualifier is not None:
        return shown
    if span.precision in _ON_A_DAY or span.start == span.end:
        return f"on {shown}"
    if span.precision == Precision.week and span.start is not None:
        return f"in the week of {format_span(DateSpan(start=span.start, end=span.start, precision=Precision.day))}"
    return f"in {shown}"


def on_the_calendar(mention: Mention) -> str:
    """The mention's quote with its time expression, where that counts from the day the article
    was written ("yesterday", "on Tuesday", "last month", "over the weekend"), replaced by the
    date it stands for ("on 24 Apr 2009", "in Feb 2025").

    The summary is read without the articles' dates, and the 1.5B model copies much of its
    reports: shown "People in Mexico City were ordered not to kiss or shake hands yesterday",
    it wrote that "yesterday" into the summary (where it is dropped, see ``_DEICTIC``). Only the
    prompt's copy changes; the timeline quotes the article verbatim. Expressions that write
    their own date ("since March 2022"), vague ones ("recently") and those that date something
    by another happening ("after a Ukrainian incursion last August") stay as written.
    """
    span, quote = mention.date, mention.quote
    expression = span.expression
    if (not expression or span.vague or not span.is_known or span.qualifier in ("before", "after")
            or any(character.isdigit() for character in expression)):
        return quote
    where = locate(quote, expression)
    if where is None:
        return quote
    start, end = where
    words = _calendar_words(span)
    if quote[start].isupper():  # it opens the sentence, or a caption run into it
        words = words[0].upper() + words[1:]
    return quote[:start] + words + quote[end:]


def select_events(events: list[Event], fits: Callable[[list[Event]], bool],
                  limit: int = SUMMARY_EVENTS, *, story_start: dt.date | None = None) -> tuple[list[Event], int]:
    """The key events (``ranking``: by rank), then the most-reported others (at most ``limit``)
    that fit the prompt budget, kept in timeline order; events placed on the calendar go before
    undated ones of as many sources, and events of the story's time before its background
    (``ranking.background``).

    ``fits(selection)`` says whether a selection's prompt fits; events are dropped least-reported
    first (binary search over how many to keep).
    """
    ranked = sorted(range(len(events)), key=lambda i: (background(events[i], story_start), events[i].rank is None,
                                                     events[i].rank or 0, -events[i].sources,
                                                     events[i].date.vague, i))
    low, high = 0, min(len(events), limit)
    while low < high:
        middle = (low + high + 1) // 2
        keep = sorted(ranked[:middle])
        if fits([events[i] for i in keep]):
            low = middle
        else:
            high = middle - 1
    keep = sorted(ranked[:low])
    return [events[i] for i in keep], len(events) - low


# --- writing a run's summary -----------------------------------------------------------------------


def write_summary(calls: ModelCalls, events: list[Event], articles: list) -> str:
    """The neutral summary of the timeline, from the events that fit the window
    (``select_events``); empty, with a warning, if the model fails. The reply is checked against
    the events it was shown (``SummaryOutput._attributed``) and asked for once more with the
    reasons; what still does not hold is replaced by its event's report (``settled``). A reply
    cut off keeps the sentences it finished."""
    if not events:
        calls.warn("No events were found, so no summary was written.")
        return ""
    backend = calls.backend
    views = [article_view(a) for a in articles]
    outlets = {a.id: a.source for a in articles if a.source}

    def messages_for(selection: list[Event]) -> tuple[tuple[str, str], ...]:
        return calls.prompts.messages("summarize", events=[event_view(e, outlets) for e in selection],
                                      articles=views, omitted=len(events) - len(selection))

    def fits(selection: list[Event]) -> bool:
        return backend.count_prompt_tokens(messages_for(selection)) + SUMMARY_MAX_TOKENS <= backend.context_window

    story_start = min((a.published for a in articles if a.published), default=None)
    selection, omitted = select_events(events, fits, story_start=story_start)
    if len(selection) < min(len(events), SUMMARY_EVENTS):
        calls.warn(f"The summary saw the {len(selection)} most-reported events; "
                   f"{omitted} did not fit the model's context window.")
    shown = [event_view(e, outlets) for e in selection]
    reports = [report_of(event, view) for event, view in zip(selection, shown, strict=True)]
    sentences = _reply(calls, calls.request(messages_for(selection), summary_schema(len(selection)),
                                            SUMMARY_MAX_TOKENS), reports)
    standing = [Standing.background if background(e, story_start) else Standing.key if e.rank else Standing.other
                for e in selection]
    return " ".join(settled(sentences, shown, reports, standing, calls.stats))


def _reply(calls: ModelCalls, request: GenerationRequest, reports: list[Report]) -> list[str]:
    """The model's sentences: checked against ``reports`` and asked for once more with the
    reasons; a reply that still fails the check gives its sentences for ``settled`` to judge one
    by one, as a reply cut off gives those it finished."""
    log.info("Writing the summary of %d events ...", len(reports))
    context: dict = {"reports": reports}
    retries = calls.stats.stage("summarize").retries
    try:
        with token_bar("summary", request.max_tokens, calls.settings.progress) as progress:
            return calls.call(request, SummaryOutput, "summarize", context=context, progress=progress,
                              max_retries=1).sentences
    except TruncatedOutputError as failure:
        finished = finished_sentences(failure.raw_output)
        if finished is None:
            calls.warn(f"No summary: {failure}")
            return []
        calls.warn(f"The summary was cut off ({failure}); the {len(finished.sentences)} sentence(s) it "
                   "had finished are kept.")
        return finished.sentences
    except ExtractionRetryError as failure:
        if context.get("refused"):
            try:
                return SummaryOutput.model_validate_json(failure.raw_output).sentences  # judged one by one
            except ValidationError:
                pass
        calls.warn(f"No summary: {failure}")
        return []
    except PromptTooLongError as failure:
        calls.warn(f"No summary: {failure}")
        return []
    finally:
        calls.stats.summary_refused += len(context.get("refused", []))
        calls.stats.summary_asked_again += calls.stats.stage("summarize").retries - retries


_SAYS_HOW_MANY = re.compile(r"\b(?:sources?|reports?|reported|according to|outlets?|articles?)\b", re.IGNORECASE)


class Standing(IntEnum):
    """Where an event's sentence may stand in the summary: a key event's may lead, another's
    follows one, the story's background goes last."""

    key = 0
    other = 1
    background = 2


def settled(sentences: list[str], shown: list[dict], reports: list[Report], standing: list[Standing],
            stats: Stats) -> list[str]:
    """The summary's sentences, held to form by code. A sentence that still fails the
    attribution check (``attribution.refusal``) is never kept: it is replaced by the report of
    the event it draws on (``reported_sentence``, attributed by code) or, failing that, of the
    event whose date it gives, where no kept sentence tells that event; else it is dropped. Each
    sentence that draws on an event says its date and how many sources report it (added where
    the model did not, ``with_form``). A summary the model wrote but left with fewer than
    ``FEWEST_SENTENCES`` tells the events it was shown that no sentence tells, key events first,
    in their reports' words (``reported_sentence``). The lead tells a key event (the first that
    does moves to the front); sentences about the story's background go last."""
    drawn = [drawn_on(sentence, reports) for sentence in sentences]
    refused = [refusal(sentence, reports) is not None for sentence in sentences]
    told = {index for index, bad in zip(drawn, refused, strict=True) if index is not None and not bad}
    kept: list[tuple[Standing, str]] = []
    for sentence, index, bad in zip(sentences, drawn, refused, strict=True):
        if bad:
            index = next((i for i in (index, *days_told(sentence, reports)) if i is not None and i not in told), None)
            if index is None:
                stats.summary_dropped += 1
                continue
            stats.summary_replaced += 1
            told.add(index)
            sentence = reported_sentence(shown[index])
        elif index is not None:
            sentence = with_form(sentence, shown[index])
        kept.append((standing[index] if index is not None else Standing.other, sentence))
    for index in sorted(set(range(len(shown))) - told, key=lambda i: (standing[i], i)):
        if not sentences or len(kept) >= min(FEWEST_SENTENCES, len(shown)):
            break
        stats.summary_added += 1
        told.add(index)
        kept.append((standing[index], reported_sentence(shown[index])))
    if lead := next((n for n, (place, _) in enumerate(kept) if place == Standing.key), 0):
        kept.insert(0, kept.pop(lead))
    return [sentence for _, sentence in sorted(kept, key=lambda item: item[0] == Standing.background)]


def _sources(count: int) -> str:
    return f"{count} source{'s' if count != 1 else ''}"


def with_form(sentence: str, view: dict) -> str:
    """The sentence with its event's date and count of sources, each added in brackets before
    its last stop and closing quotation mark where the sentence does not say it ("… by phone
    (18 Mar 2025; 5 sources).") and after a bracket it closes: put inside it, "(0030 GMT 2 June
    (14 sources))" read as the bracket's own words."""
    missing = []
    if not find_expressions(sentence):
        missing.append(view["date"])
    if not _SAYS_HOW_MANY.search(sentence):
        missing.append(_sources(view["sources"]))
    if not missing:
        return sentence
    body = sentence.rstrip()
    end = len(body.rstrip(".!?…”’\"'"))
    return f"{body[:end]} ({'; '.join(missing)}){body[end:]}"


def reported_sentence(view: dict) -> str:
    """An event told in its report's own words, attributed by code to the outlet that wrote it
    ("Reported" where the article names none)."""
    who = f"{view['outlet']} reported" if view["outlet"] else "Reported"
    return f"{who} ({view['date']}; {_sources(view['sources'])}): “{view['verbatim']}”"
