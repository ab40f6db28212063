"""A pair's score, 0 to 1: how strongly the articles' words (and titles that count) say that two
mentions report one event."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from .columns import Columns
from .settings import Weights
from .text import Vectors

PAIR_BATCH = 200_000
"""Pairs scored at once: bounded memory."""
SCORING_THREADS = 4


class TitleEvidence(Protocol):
    """Which mentions' titles count as evidence (``informative``) and which only copy their quote
    (``copied``), as boolean arrays: ``titles.TitleTrust``."""

    informative: Any
    copied: Any


class Scorer:
    """Scores pairs of mentions on their vectors. Without ``titles`` (the title trust), titles
    are no evidence at all: the articles' words alone, as the title test itself needs."""

    def __init__(self, vectors: Vectors, weights: Weights, titles: TitleEvidence | None = None):
        self.vectors, self.weights, self.titles = vectors, weights, titles

    def scores(self, first, second, same_sentence, status_clash):
        """Score of each pair (first[k], second[k]), 0 to 1: the quotes' shared words (overlap:
        shared IDF over the smaller quote's), the names' and the titles' shared words (Jaccard),
        whether they share a number, less a penalty where one reports as done what the other
        reports as planned. Mentions quoting the same sentence of one article prove nothing by
        their quote when their titles, both about that sentence, differ (one sentence can report
        several events): then only the titles count. Where the titles cannot tell them apart
        (equal, or labels), it is one report, and the quote counts as usual."""
        import numpy as np

        def ratio(shared, total):
            return np.divide(shared, total, out=np.zeros_like(shared), where=total > 0)

        vectors, weights = self.vectors, self.weights
        shared = np.asarray(vectors.stacked[first].multiply(vectors.stacked[second]) @ vectors.columns)
        quote, title, names, numbers = shared.T
        (qa, ta, na, _), (qb, tb, nb, _) = vectors.totals[first].T, vectors.totals[second].T
        # A title that only repeats its quote's words (as small models often write) is no
        # evidence of its own (nor are the others ``titles`` distrusts): such pairs are scored on
        # the articles' words alone.
        title_similarity = ratio(title, ta + tb - title)
        if self.titles is None:
            titled = told_apart = np.zeros(len(first), dtype=bool)
        else:
            informative = self.titles.informative
            titled = informative[first] & informative[second]
            title_similarity = np.where(self._names_clash(first, second), 0.0, title_similarity)
            about = informative | self.titles.copied
            told_apart = same_sentence & about[first] & about[second] & (title_similarity < 1.0)
        evidence = np.where(told_apart, 0.0, weights.quote_overlap * ratio(quote, np.minimum(qa, qb))
                            + weights.names * ratio(names, na + nb - names)
                            + weights.numbers * (numbers > 0))
        title_weight = weights.title * titled
        score = evidence + title_weight * title_similarity - weights.status_clash * status_clash
        return score / (weights.content + title_weight)

    def _names_clash(self, first, second):
        """Whether the two titles each name someone and share no name: "Leavitt confirms
        ceasefire" and "Ukraine confirms ceasefire" share two words of three but are about
        different people, and the 1.5B model's titles of one article joined them."""
        import numpy as np

        names = self.vectors.title_names
        shared = np.asarray(names[first].multiply(names[second]).sum(axis=1)).ravel()
        has = np.diff(names.indptr) > 0
        return has[first] & has[second] & (shared == 0)


def score_pairs(scorer: Scorer, columns: Columns, first, second):
    """Every candidate pair's score, in batches (bounded memory) on a few threads: the sparse
    products run in scipy's compiled code, which lets other threads run meanwhile."""
    import numpy as np

    values = np.empty(len(first))

    def score(start: int) -> None:
        a, b = first[start:start + PAIR_BATCH], second[start:start + PAIR_BATCH]
        values[start:start + PAIR_BATCH] = scorer.scores(a, b, *columns.relations(a, b))

    starts = range(0, len(first), PAIR_BATCH)
    workers = min(SCORING_THREADS, os.cpu_count() or 1, len(starts))
    if workers <= 1:
        for start in starts:
            score(start)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(score, starts))
    return values


