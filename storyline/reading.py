"""Which sentences the model reads, decided by code before any model call.

Reading is the model's largest cost: on a laptop CPU the default model reads about 200 tokens a
second, so a story of a hundred articles (100,000 tokens) takes over eight minutes just to be
read once, and most of its sentences hold nothing a timeline keeps (background, opinion, context
repeated in every article). A story of a few articles is read whole. Of a larger one the model
reads a share of the text (``READ_SHARE``, never less than ``READ_WHOLE_CHARS``), the sentences
most likely to report a happening first, by an ordered table of tiers (``TIERS``):

1. **headline**: the article's first line, which names its main news;
2. **lead**: the next ``LEAD_SENTENCES`` sentences (news puts what happened first);
3. **dated**: sentences with a time expression ("on Tuesday", "last August");
4. **named**: sentences that name someone (who did or said something);
5. everything else.

Within a tier the articles take turns (each one's first sentence of the tier, then each one's
second, ...), so one long article cannot crowd out the others. A sentence that repeats one
already chosen (the same words in the same order, case and punctuation aside: wire copy repeated
across a story's articles) is not read again: it reports what the chosen one reports, and takes
its headline. Questions are never read: they report no happening (``grounding.asks``).

A sentence the model does not read is not lost: the code still reads it (``grounding``), and
one that places something on the calendar becomes a mention, as do the sentences the model read
but listed nothing for.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .chunk import readable_sentences
from .dates.finder import find_expressions
from .grounding import asks, names_in
from .models import Article, Sentence

READ_SHARE = 0.08
"""The share of a large story's text the model reads by default."""
READ_WHOLE_CHARS = 20_000
"""A story of up to this many characters of sentences (about five news articles, 4,500 tokens) is
read whole: its single reports of a happening are its happenings."""
LEAD_SENTENCES = 2
REPEAT_WORDS = 8
"""A sentence of fewer words is not taken for a repeat of another ("He declined to comment.")."""
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Candidate:
    """What the tiers look at: one readable sentence of an article."""

    text: str
    position: int
    """Its place among the article's readable sentences (0: the headline line)."""
    article_text: str


@dataclass(frozen=True)
class Tier:
    name: str
    holds: Callable[[Candidate], bool]


TIERS: tuple[Tier, ...] = (
    Tier("headline", lambda c: c.position == 0),
    Tier("lead", lambda c: c.position <= LEAD_SENTENCES),
    Tier("dated", lambda c: bool(find_expressions(c.text))),
    Tier("named", lambda c: bool(names_in(c.text, c.article_text))),
    Tier("other", lambda c: True),
)
"""The order in which sentences are chosen to be read (see the module's docstring)."""


def tier_of(candidate: Candidate) -> int:
    return next(index for index, tier in enumerate(TIERS) if tier.holds(candidate))


@dataclass
class ArticleReading:
    """What the model reads of one article: ``shown`` indexes its readable ``sentences``;
    ``repeats`` maps an unread sentence to the (article index, sentence index) of the chosen
    sentence it repeats."""

    article: Article
    sentences: list[Sentence]
    shown: list[int]
    repeats: dict[int, tuple[int, int]] = field(default_factory=dict)

    def unread(self) -> list[int]:
        shown = set(self.shown)
        return [index for index in range(len(self.sentences)) if index not in shown]


def whole(articles: list[Article], problems: list[str] | None = None) -> list[ArticleReading]:
    """Every readable sentence of each article, for the model to read."""
    return choose(articles, readable_sentences(articles, problems), share=None)


def repeat_key(text: str) -> tuple[str, ...] | None:
    """A sentence's words, folded, if it is long enough to be told apart from others."""
    words = tuple(word.lower() for word in _WORD.findall(text))
    return words if len(words) >= REPEAT_WORDS else None


def choose(articles: list[Article], sentences: list[list[Sentence]], share: float | None = READ_SHARE
           ) -> list[ArticleReading]:
    """What the model reads of each article: every sentence if ``share`` is None or the story is
    small (``READ_WHOLE_CHARS``), else the best by ``TIERS`` up to ``share`` of the text's
    characters, each repeated sentence once."""
    readings = [ArticleReading(article, own, []) for article, own in zip(articles, sentences, strict=True)]
    texts = [[a.text[s.start:s.end] for s in own] for a, own in zip(articles, sentences, strict=True)]
    total = sum(len(text) for own in texts for text in own)
    if share is None or total <= READ_WHOLE_CHARS:
        for reading in readings:
            reading.shown = list(range(len(reading.sentences)))
        return readings
    budget = max(READ_WHOLE_CHARS, share * total)
    chosen: dict[tuple[str, ...], tuple[int, int]] = {}
    for article_index, position in _ranked(articles, texts):
        text = texts[article_index][position]
        key = repeat_key(text)
        if key is not None and key in chosen:
            readings[article_index].repeats[position] = chosen[key]
            continue
        if len(text) > budget or asks(text):
            continue
        budget -= len(text)
        readings[article_index].shown.append(position)
        if key is not None:
            chosen[key] = (article_index, position)
    for reading in readings:
        reading.shown.sort()
    return readings


def _ranked(articles: list[Article], texts: list[list[str]]) -> list[tuple[int, int]]:
    """Every sentence as (article index, position), best first: by tier, then by its rank among
    its article's sentences of that tier (articles take turns), then in article order."""
    keys = []
    for article_index, (article, own) in enumerate(zip(articles, texts, strict=True)):
        seen_in_tier: dict[int, int] = {}
        for position, text in enumerate(own):
            tier = tier_of(Candidate(text, position, article.text))
            rank = seen_in_tier.get(tier, 0)
            seen_in_tier[tier] = rank + 1
            keys.append(((tier, rank, article_index, position), (article_index, position)))
    keys.sort()
    return [place for _, place in keys]
