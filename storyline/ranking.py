"""What matters in a story: the days many of its articles report on or are published on, and
the event that stands for each such day. One rule for the product (the key events every format
shows first) and for ``storyline eval`` (the days a timeline is scored on).

DATEWISE (Ghalandari and Ifrim, 2020) ranks a story's dates by how many of its articles mention
them or are published on them, and takes for each date the sentence nearest that date's
centroid; storyline does the same with its merged events: a day's support is the number of
articles that report something on it or were published on it, and a day's lead event is its
most-reported one, the one closest to the day's other reports among equals (``day_order``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable
from typing import Literal

from .grounding import content_keys
from .models import ArticleInfo, DateSpan, Event

UndatedChoice = Literal["leave", "published"]

KEY_EVENTS = 10
"""Key events shown first by default: the story's ten best-supported days, one event each."""

BACKGROUND_DAYS = 365
"""An event that ended this long before the story's first article is its background: the 1976
swine flu outbreak, recalled by six of 76 H1N1 articles of 2009; a court ruling of 1932 quoted
in a reader's comment. It is shown apart, after the story's own events, and leads nothing."""


def day_of(span: DateSpan, undated: UndatedChoice = "leave") -> dt.date | None:
    """The day an event stands on: its own, if it is placed on one; with ``undated="published"``,
    an event placed only on a side of its article's publication date (no time expression: "before
    17 Mar") stands on that date, as timeline summarization systems date such sentences."""
    if span.start is not None and span.start == span.end and span.qualifier is None:
        return span.start
    if undated == "published" and span.vague and span.expression is None:
        return span.end if span.qualifier == "before" else span.start if span.qualifier == "after" else None
    return None


def day_support(events: Iterable[Event], articles: Iterable[ArticleInfo],
                undated: UndatedChoice = "leave") -> dict[dt.date, int]:
    """How many articles report something on each day the events stand on (``day_of``) or are
    published on it. A day of many events from one long article is not a main day."""
    reporting: dict[dt.date, set[str]] = {}
    for event in events:
        day = day_of(event.date, undated)
        if day is not None:
            reporting.setdefault(day, set()).update(m.article for m in event.mentions)
    for article in articles:
        if article.published in reporting:
            reporting[article.published].add(article.id)
    return {day: len(ids) for day, ids in reporting.items()}


def day_order(events: list[Event]) -> list[Event]:
    """The most-reported events first; among those reported equally, the one whose reports share
    most words with the day's other events first: the day's main news rather than a detail one
    article dates to it. Closeness is the cosine of word counts (``content_keys``); the order
    among events equally close is the timeline's."""
    words = [Counter(k for mention in event.mentions for k in content_keys(mention.quote)) for event in events]
    everything = sum(words, Counter())

    def closeness(i: int) -> float:
        others = everything - words[i]
        shared = sum(count * others[key] for key, count in words[i].items())
        norms = math.sqrt(sum(c * c for c in words[i].values()) * sum(c * c for c in others.values()))
        return shared / norms if norms else 0.0

    order = sorted(range(len(events)), key=lambda i: (-events[i].sources, -closeness(i)))
    return [events[i] for i in order]


def ranked_days(support: dict[dt.date, int], events_on: dict[dt.date, int]) -> list[dt.date]:
    """Days by weight: most support first, then most events, then the earliest."""
    return sorted(support, key=lambda day: (-support[day], -events_on.get(day, 0), day))


def background(event: Event, story_start: dt.date | None) -> bool:
    """Whether an event ended ``BACKGROUND_DAYS`` or more before the story's first article."""
    return (story_start is not None and event.date.end is not None
            and event.date.end < story_start - dt.timedelta(days=BACKGROUND_DAYS))


def rank_events(events: list[Event], articles: list[ArticleInfo], top: int = KEY_EVENTS) -> None:
    """Weigh every event for the reader: ``day_articles``, the support of the day it stands on;
    ``background``, whether it is the story's background; and ``rank``, 1 to ``top`` for the lead
    events of the best-supported days of the story's own time (``ranked_days``), None for the
    rest."""
    story_start = min((a.published for a in articles if a.published), default=None)
    support = day_support(events, articles)
    on_day: dict[dt.date, list[Event]] = {}
    for event in events:
        event.rank = None
        event.background = background(event, story_start)
        day = day_of(event.date)
        event.day_articles = support.get(day, 0) if day is not None else 0
        if day is not None and not event.background:
            on_day.setdefault(day, []).append(event)
    days = ranked_days({day: support[day] for day in on_day}, {day: len(found) for day, found in on_day.items()})
    for place, day in enumerate(days[:top], start=1):
        day_order(on_day[day])[0].rank = place
