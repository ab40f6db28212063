"""What the clustering needs of each mention besides its words: dates, article, sentence, status."""

from __future__ import annotations

import datetime as dt
from itertools import chain, count

from ..models import PRECISION_RANK, Mention

OPEN = (-(10**9), 10**9)
"""Day ordinals standing for an open end."""


class Columns:
    """What the clustering needs of each mention besides its words, read in one pass: the date
    window (day ordinals; open ends far out), the rank in timeline order (as
    ``DateSpan.sort_key``, ties by position), which sentence of which article it quotes, and its
    status.

    The window is the days a mention can be about, for the date guard. A vague span still bounds
    one side: what "happened" in an article of 17 March, with no date, happened by 17 March, so
    it is not the call that article expects on the 18th.
    """

    def __init__(self, mentions: list[Mention]):
        import numpy as np

        sentences: dict[str, dict[str, int]] = {}  # article -> quote -> id (ids unique, not dense)
        articles: dict[str, int] = {}
        fresh = count()
        unknown = -1
        # One flat run of numbers: each row's tuple is freed as soon as it is read, so none
        # lives long enough to burden the garbage collector.
        rows = np.fromiter(chain.from_iterable(
            (d.start.toordinal() if d.start else unknown, d.end.toordinal() if d.end else unknown,
             PRECISION_RANK[d.precision], d.vague,
             articles.setdefault(m.article, len(articles)),
             sentences.setdefault(m.article, {}).setdefault(m.quote, next(fresh)),
             _STATUS_CODE.get(m.status, 0))
            for m, d in ((m, m.date) for m in mentions)), dtype=np.int64, count=7 * len(mentions)).reshape(-1, 7)
        start, end, precision, vague, self.article, self.sentence, self.status = rows.T
        has_start, has_end = start != unknown, end != unknown
        self.window = np.stack((np.where(has_start, start, OPEN[0]), np.where(has_end, end, OPEN[1])), axis=1)
        never = dt.date.max.toordinal()
        first = np.where(has_start, start, np.where(has_end, end, never))
        last = np.where(has_end, end, np.where(has_start, start, never))
        order = np.lexsort((np.arange(len(mentions)), precision, last, first))
        self.in_date_order = order
        self.rank = np.empty(len(mentions), dtype=np.int64)
        self.rank[order] = np.arange(len(mentions))
        # Reports placed on a day or a week meet in blocking whatever their words.
        self.day = np.where(has_start & has_end & (vague == 0) & (end - start < 7), start, unknown)

    def relations(self, first, second) -> tuple:
        """For each pair: whether both quote the same sentence of one article, and whether one
        reports as done what the other reports as planned."""
        return self.sentence[first] == self.sentence[second], (self.status[first] * self.status[second]) == 2


_STATUS_CODE = {"happened": 1, "expected": 2}
"""A pair whose codes multiply to 2 reports one thing as done and as planned."""


