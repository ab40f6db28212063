"""The one data model every stage speaks: articles, chunks, mentions, events and the result.

The JSON form of :class:`Result` is a public contract (see ``storyline schema``); field names
that appear there are kept stable.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TITLE_CHARS = 48
"""The longest title an extraction reply may give a happening."""

class Precision(StrEnum):
    """How exactly a span pins down when something happened.

    ``range`` is an explicit run of days (a weekend, "March 11-13", "overnight");
    ``unknown`` means no calendar position could be derived from the expression.
    """

    day = "day"
    week = "week"
    month = "month"
    quarter = "quarter"
    season = "season"
    year = "year"
    decade = "decade"
    century = "century"
    range = "range"
    unknown = "unknown"


PRECISION_RANK = {precision: rank for rank, precision in enumerate(Precision)}

Qualifier = Literal["since", "until", "by", "before", "after"]
Modifier = Literal["early", "mid", "late"]
Status = Literal["happened", "expected", "ongoing"]


class DateSpan(BaseModel):
    """A resolved stretch of calendar time.

    ``start``/``end`` are inclusive. ``qualifier`` marks open spans: ``since`` (known start, open
    end), ``until`` (known end, open start), ``by`` (a deadline), ``before``/``after`` (only the
    side of a date is known: "before the war", or "recently", which is also ``vague``).
    ``vague`` marks expressions that never name a day.
    """

    model_config = ConfigDict(frozen=True)

    start: dt.date | None = None
    end: dt.date | None = None
    precision: Precision = Precision.unknown
    qualifier: Qualifier | None = None
    modifier: Modifier | None = None
    vague: bool = False
    expression: str | None = None
    note: str | None = None

    @property
    def is_known(self) -> bool:
        return self.start is not None or self.end is not None

    def sort_key(self) -> tuple[dt.date, dt.date, int]:
        """Chronological order; unplaced spans sort last, wider spans after narrower ones."""
        first = self.start or self.end or dt.date.max
        last = self.end or self.start or dt.date.max
        return (first, last, PRECISION_RANK[self.precision])

    def width_days(self) -> int:
        """Days covered; open or unknown spans count as infinitely wide."""
        if self.start is None or self.end is None:
            return 10**9
        return (self.end - self.start).days + 1

    def overlaps(self, other: DateSpan) -> bool:
        """True when the two spans can describe the same moment (open ends overlap anything)."""
        if not self.is_known or not other.is_known:
            return True
        lo_a, hi_a = self.start or dt.date.min, self.end or dt.date.max
        lo_b, hi_b = other.start or dt.date.min, other.end or dt.date.max
        return lo_a <= hi_b and lo_b <= hi_a


class ArticleInfo(BaseModel):
    """An article as listed in the result: what is known about it, without its text."""

    id: str
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published: dt.date | None = None
    path: str | None = None


class Article(ArticleInfo):
    """One news article: its metadata and its text."""

    text: str = Field(repr=False)


class Sentence(BaseModel):
    """A sentence of an article, as character offsets into ``Article.text``."""

    model_config = ConfigDict(frozen=True)

    start: int
    end: int


class Chunk(BaseModel):
    """A run of whole sentences of one article that fits the model's token budget."""

    article_id: str
    index: int
    sentences: list[Sentence]
    text: str
    token_count: int

    @property
    def start(self) -> int:
        return self.sentences[0].start

    @property
    def end(self) -> int:
        return self.sentences[-1].end


class Mention(BaseModel):
    """One report of one event in one article, grounded in a verbatim quote."""

    article: str
    quote: str
    title: str
    when: str = ""
    status: Status = "happened"
    actors: list[str] = Field(default_factory=list)
    date: DateSpan = Field(default_factory=DateSpan)
    chunk: int = Field(0, description="the extraction call (chunk of its article) that showed the model its "
                       "sentence; -1 where the model did not read it and the code found it")
    offset: int = 0


class Conflict(BaseModel):
    """A point on which an event's mentions disagree."""

    kind: Literal["date", "figure", "title"]
    detail: str
    values: dict[str, list[str]] = Field(
        default_factory=dict, description="each differing value with the article ids reporting it"
    )


class Event(BaseModel):
    """One event on the merged timeline with every mention that reports it."""

    id: str
    title: str
    date: DateSpan
    status: Status = "happened"
    actors: list[str] = Field(default_factory=list)
    mentions: list[Mention]
    sources: int = 0
    conflicts: list[Conflict] = Field(default_factory=list)
    day_articles: int = Field(0, description="articles that report something on the day this event stands on or "
                              "were published on it (0 if it stands on no single day): how much the story "
                              "turns on its day")
    rank: int | None = Field(None, description="its place among the story's key events (1: the lead event of the "
                             "best-supported day), or None if it is not one")
    background: bool = Field(False, description="it ended a year or more before the story's first article")


class StageStats(BaseModel):
    calls: int = 0
    truncated: int = 0
    cache_hits: int = 0
    retries: int = 0
    prompt_tokens_evaluated: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0


class Stats(BaseModel):
    """Counters of one run. Everything run-specific in the output lives here."""

    llm_calls: int = 0
    extract_calls: int = 0
    summary_calls: int = 0
    adjudicate_calls: int = 0
    prompt_tokens_evaluated: int = 0
    extract_prompt_tokens_evaluated: int = 0
    completion_tokens: int = 0
    source_tokens: int = 0
    cache_hits: int = 0
    retries: int = 0
    chunks: int = 0
    mentions: int = 0
    ungrounded_dropped: int = 0
    duplicates_dropped: int = 0
    questions_dropped: int = Field(0, description="headlines on a sentence that asks a question (\"What is swine "
                                   "flu?\"), which reports no happening")
    dated_sentences_added: int = Field(0, description="sentences holding a time expression that the model "
                                       "listed no happening for, kept as mentions all the same")
    sentences_read: int = Field(0, description="sentences the model read (all of a small story; of a large "
                                "one the most likely to report a happening)")
    sentences_unread: int = Field(0, description="sentences read by code alone (their dates and repeats still "
                                  "make mentions)")
    summary_refused: int = Field(0, description="summary sentences the attribution check refused (a name no event "
                                 "shown gives, words given to the wrong speaker, a quotation no report holds)")
    summary_asked_again: int = Field(0, description="times the summary was asked for again with the reasons")
    summary_replaced: int = Field(0, description="summary sentences still refused, replaced by their event's report")
    summary_dropped: int = Field(0, description="summary sentences still refused and dropped (no event of their own)")
    summary_added: int = Field(0, description="summary sentences added in an event's report's words, where the "
                               "model's left fewer than four")
    adjudicated_pairs: int = Field(0, description="pairs of reports put to the model as judge (--adjudicate)")
    adjudicated_same: int = Field(0, description="of those, the pairs it called one event")
    adjudication_unasked: int = Field(0, description="questions not put to the judge once its limit was reached "
                                      "(two per mention); those pairs were left apart")
    truncated: int = 0
    failed_chunks: int = 0
    token_counts: str | None = Field(None, description="where the token figures come from: counted by "
                                     "llama.cpp, reported by a server, or estimated")
    stages: dict[str, StageStats] = Field(default_factory=dict)

    def stage(self, name: str) -> StageStats:
        return self.stages.setdefault(name, StageStats())

    def settle(self) -> None:
        """Set the per-kind call counters of the JSON contract from the per-stage figures."""
        self.extract_calls = self.stage("extract").calls
        self.summary_calls = self.stage("summarize").calls
        self.adjudicate_calls = self.stage("adjudicate").calls
        self.extract_prompt_tokens_evaluated = self.stage("extract").prompt_tokens_evaluated


class Meta(BaseModel):
    model: str | None = None
    warnings: list[str] = Field(default_factory=list)
    stats: Stats = Field(default_factory=Stats)


class Result(BaseModel):
    """What a run produces: the articles, the merged timeline and the summary."""

    articles: list[ArticleInfo]
    timeline: list[Event]
    summary: str
    meta: Meta = Field(default_factory=Meta)

    def article(self, article_id: str) -> ArticleInfo | None:
        """The article with this id, if the result lists it."""
        return next((a for a in self.articles if a.id == article_id), None)

    def key_events(self) -> list[Event]:
        """The key events (``ranking``), in timeline order."""
        return [event for event in self.timeline if event.rank is not None]

    def other_events(self) -> list[Event]:
        """The story's events that are neither key events nor background, in timeline order."""
        return [event for event in self.timeline if event.rank is None and not event.background]

    def background_events(self) -> list[Event]:
        return [event for event in self.timeline if event.background]

    def credit(self, article_id: str) -> str:
        """What to call an article when crediting a quote: its outlet, else its title, else its id."""
        article = self.article(article_id)
        if article is None:
            return article_id
        return article.source or article.title or article.id


SCHEMA_VERSION = "3"
"""Bumped whenever a model-facing schema or the meaning of a cached result changes."""
