"""Which titles are evidence that two mentions report one event.

Small models write titles that say nothing: a run of the quote's own words, a word that is not
about the quote at all ("Ceremony", the prompt's own example), a label given to most of an
article, or one title given to reports of several happenings. Such titles are left out of the
score and never name an event. The tests, in order, each on all mentions at once:

- copied: the title is a run of its quote's words (``text._copied_titles``);
- grounded: the title shares a word with a quote its article gives it to;
- guesses (for naming only): the title writes one of the story's commonest words that its
  quote does not ("Trump announces ceasefire" over "Trump made the announcement on Truth
  Social", "Leak causes explosion" over "Eleven people died when an explosion destroyed the
  rig"): small models lean on the story's topic where a sentence says something else. Names
  are not tested: a sentence names one in other words ("Moscow", "the Kremlin", "the company").
  Such a title still counts as evidence (hand-written titles sum a happening up in the story's
  words too), but it does not name an event. A word is one of the commonest when
  ``topic_share`` of all quotes write it, and ``topic_quotes`` at least;
- says nothing (for naming only): the title's words, names aside, are none of its quote's ("BP
  fires Doug Suttles" over a sentence where he spoke: on bpoil the 1.5B model wrote "BP fires
  ..." over seven events). It too still counts as evidence;
- labels: in an article with at least ``label_min_reports`` sentences reported, a title on more
  than ``label_share`` of them is a label, not a title (a news article reports several
  happenings; on the seeds one happening takes at most a sixth of an article);
- groups: a title that three or more mentions share counts only if their quotes bear it out: of
  pairs of up to ``title_sample`` members spread over the group (each with the next and with
  the one half way round), ``title_agreement`` must share something (score ``title_cohesion`` on
  the quotes alone). Every hand-labelled happening of the seeds and of the BP set passes (lowest
  share 0.67); a title spread evenly over two happenings or more fails (0.22 to 0.58 there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .columns import Columns
from .scoring import Scorer
from .settings import MergeSettings
from .text import Vectors

UNRELATED, COPIED, COUNTS = 0, 1, 2
"""How far a title can be trusted, per mention (``TitleTrust.levels``)."""


@dataclass(frozen=True)
class TitleTrust:
    informative: Any
    """Per mention: the title is evidence."""
    copied: Any
    """Per mention: the title is a run of its quote's words (or empty)."""
    guessed: Any
    """Per mention: the title writes one of the story's commonest words that its quote does not,
    or says nothing its quote says."""

    def levels(self) -> list[int]:
        """COUNTS where the title is evidence and no guess, COPIED where it copies its quote, else
        UNRELATED: the levels at which titles may name an event (``events``)."""
        import numpy as np

        return np.where(self.informative & ~self.guessed, COUNTS, np.where(self.copied, COPIED, UNRELATED)).tolist()


def title_trust(vectors: Vectors, columns: Columns, settings: MergeSettings) -> TitleTrust:
    """The titles that count (see the module's docstring)."""
    import numpy as np

    key = vectors.title_keys()
    informative = (~vectors.copied_title & _grounded_in_article(vectors, key, columns.article)
                   & (np.diff(vectors.title_words.indptr) > 0))
    labels = _labels(key, columns, settings)
    words_only = Scorer(vectors, settings.weights)
    informative &= ~_loose_groups(key, informative, columns, words_only, settings)
    informative &= ~labels
    return TitleTrust(informative=informative, copied=vectors.copied_title,
                      guessed=_guesses(vectors, settings) | _says_nothing(vectors))


def _guesses(vectors: Vectors, settings: MergeSettings):
    """Whether each title writes one of the story's commonest words, not as a name, that its
    own quote does not (see the module's docstring)."""
    import numpy as np

    quotes, titles = vectors.quote_prefixes, vectors.title_common_words
    writing = np.bincount(quotes.indices, minlength=quotes.shape[1])
    common = (writing >= settings.topic_quotes) & (writing >= settings.topic_share * vectors.n)
    missing = titles - titles.multiply(quotes)  # each title's common words its quote does not write
    return np.asarray(missing @ common.astype(np.float32) > 0).ravel()


def _says_nothing(vectors: Vectors):
    """Whether each title has words that are no names and its quote writes none of them (see
    the module's docstring; ``grounding.says_nothing_of`` tests one headline)."""
    import numpy as np

    said = vectors.title_common_words
    return np.asarray((said.getnnz(axis=1) > 0) & (said.multiply(vectors.quote_prefixes).getnnz(axis=1) == 0)).ravel()


def _grounded_in_article(vectors: Vectors, key, article):
    """Whether each title is about one of the quotes its article gives it to: a happening
    told in two sentences gets one title, which may name what only one of them says
    ("Alabama governor criticises Obama's speech" over "If my house is on fire…" and "…,
    Alabama Gov. Bob Riley told Fox News")."""
    import numpy as np

    if not len(key):
        return vectors.grounded
    order = np.lexsort((key, article))
    k, a = key[order], article[order]
    starts = np.flatnonzero(np.concatenate(([True], (k[1:] != k[:-1]) | (a[1:] != a[:-1]))))
    any_grounded = np.logical_or.reduceat(vectors.grounded[order], starts)
    grounded = np.empty(len(key), dtype=bool)
    grounded[order] = np.repeat(any_grounded, np.diff(np.concatenate((starts, [len(key)]))))
    return grounded


def _loose_groups(key, informative, columns: Columns, words_only: Scorer, settings: MergeSettings):
    """The group test (see the module's docstring) on all groups at once: which mentions' titles
    fail it."""
    import numpy as np

    loose_titles = np.zeros(len(key), dtype=bool)
    rows = np.flatnonzero(informative)
    order = np.lexsort((rows, key[rows]))  # by title, then in canonical order
    rows, key = rows[order], key[rows][order]
    starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    size = np.diff(np.concatenate((starts, [len(rows)])))
    shared = np.flatnonzero(size >= 3)
    if not len(shared):
        return loose_titles
    # Members spread over each group: in canonical order, neighbours are often one
    # article's account of one thing, and would bear out any title.
    taken = np.minimum(size[shared], settings.title_sample)
    owner = np.repeat(shared, taken)
    within = np.arange(len(owner)) - np.repeat(np.cumsum(taken) - taken, taken)
    k = np.repeat(taken, taken)

    def member(i):
        return rows[starts[owner] + (i * size[owner]) // k]

    first = np.concatenate((member(within), member(within)))
    second = np.concatenate((member((within + 1) % k), member((within + k // 2) % k)))
    owner = np.concatenate((owner, owner))
    values = words_only.scores(first, second, *columns.relations(first, second))
    agree = np.bincount(owner, values >= settings.title_cohesion, minlength=len(size))
    loose = (size >= 3) & (agree < settings.title_agreement * np.bincount(owner, minlength=len(size)))
    loose_titles[rows[np.repeat(loose, size)]] = True
    return loose_titles


def _labels(key, columns: Columns, settings: MergeSettings):
    """Whether each mention's title is a label in its article (see the module's docstring)."""
    import numpy as np

    article, sentence = columns.article, columns.sentence
    _, first_of_sentence = np.unique(sentence, return_index=True)
    reports = np.bincount(article[first_of_sentence], minlength=article.max(initial=-1) + 1)
    # Distinct (article, title, sentence), then sentences per (article, title).
    order = np.lexsort((sentence, key, article))
    a, t, s = article[order], key[order], sentence[order]
    new_triple = np.concatenate(([True], (a[1:] != a[:-1]) | (t[1:] != t[:-1]) | (s[1:] != s[:-1])))
    new_pair = np.concatenate(([True], (a[1:] != a[:-1]) | (t[1:] != t[:-1])))
    pair = np.cumsum(new_pair) - 1
    per_pair = np.bincount(pair, weights=new_triple)
    label = (reports[a] >= settings.label_min_reports) & (per_pair[pair] > settings.label_share * reports[a])
    labels = np.empty(len(key), dtype=bool)
    labels[order] = label
    return labels
