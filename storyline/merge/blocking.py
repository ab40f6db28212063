"""Blocking: which pairs of mentions are compared at all. Never all pairs: each mention is
indexed under its rarest tokens (and its day, when it has one), and meets only the nearest few
mentions of each block in date order, so the merge stays linear in the number of mentions."""

from __future__ import annotations

from typing import Any

from .columns import Columns
from .settings import MergeSettings
from .text import Vectors, sorted_unique


def place_in_run(keys):
    """For sorted keys, each one's place in its run of equal keys (0 for the first)."""
    import numpy as np

    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    return np.arange(len(keys)) - np.repeat(starts, np.diff(np.concatenate((starts, [len(keys)]))))


def block_keys(vectors: Vectors, informative: Any, settings: MergeSettings) -> tuple:
    """(row, key) for each mention's ``settings.block_keys`` rarest tokens that other mentions
    share (of all kinds, titles only where they count: ``informative``)."""
    import numpy as np

    entry_rows = np.repeat(np.arange(vectors.n), np.diff(vectors.stacked.indptr))
    words = vectors.folded(~vectors.title_entries | informative[entry_rows])
    frequency = np.bincount(words.indices, minlength=vectors.width)
    rows = np.repeat(np.arange(vectors.n), np.diff(words.indptr))
    ids = words.indices
    shared = frequency[ids] > 1
    rows, ids = rows[shared], ids[shared]
    # Sort on one integer (row, then rarity: frequency, then id): faster than a lexsort.
    width = vectors.width
    by_rarity = np.lexsort((np.arange(width), frequency))
    rarity = np.empty(width, dtype=np.int64)
    rarity[by_rarity] = np.arange(width)
    code = np.sort(rows * width + rarity[ids])
    rows, ids = code // width, by_rarity[code % width]
    keep = place_in_run(rows) < settings.block_keys
    return rows[keep], ids[keep]


def candidate_pairs(vectors: Vectors, columns: Columns, informative: Any, settings: MergeSettings):
    """Blocking: mentions meet only when they share one of their rarest words or a precise
    date, and then only the nearest few in date order. Linear in the number of mentions."""
    import numpy as np

    rows, keys = block_keys(vectors, informative, settings)
    date_rows = np.flatnonzero(columns.day >= 0)
    rows = np.concatenate((rows, date_rows))
    keys = np.concatenate((keys, vectors.width + columns.day[date_rows]))  # same-day reports meet
    n = vectors.n
    code = np.sort(keys * n + columns.rank[rows])  # by block, then in date order
    keys, rows = code // n, columns.in_date_order[code % n]
    pairs = []
    for step in range(1, settings.neighbours + 1):
        same_block = keys[step:] == keys[:-step]
        a, b = rows[:-step][same_block], rows[step:][same_block]
        pairs.append(np.stack((np.minimum(a, b), np.maximum(a, b))))
    both = np.concatenate(pairs, axis=1) if pairs else np.zeros((2, 0), dtype=np.int64)
    both = both[:, both[0] != both[1]]
    codes = sorted_unique(both[0] * n + both[1])
    return codes // n, codes % n
