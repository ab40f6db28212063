"""Merge event mentions from all chunks and articles into one timeline.

Candidates are blocked, never compared all-pairs: each mention is indexed under its rarest
content words and actors (and its day, when it has one), and meets only the nearest few
mentions of each block in date order. Pairs are scored all at once on sparse word vectors
(numpy, scipy). A pair merges when its dates are compatible and its wording and actors agree;
unsure pairs can be put to the model (``adjudicate``). Clusters are built in a canonical order,
so the result does not depend on the order of the input.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from itertools import chain, count, pairwise, product
from typing import Any, NamedTuple

from pydantic import BaseModel
from rapidfuzz import fuzz, process

from .dates import format_span
from .errors import UnreliableAdjudicatorError
from .models import PRECISION_RANK, Conflict, DateSpan, Event, Mention

SAME_EVENT = 0.22
"""Score at or above which two date-compatible mentions are one event (tuned with WEIGHTS)."""
COHESION = 0.06
"""Mean score two clusters' members must reach to join (see _Linker)."""
COHESION_SAMPLE = 8
UNSURE = 0.7 * SAME_EVENT
"""Scores from here up to SAME_EVENT are unsure: merged only if the adjudicator says so."""
REVIEW_FLOOR = 0.05
"""With an adjudicator, a pair whose titles do not count (see _Features.title_trust) and that
scores from here up to STRONG_TEXT is the model's to decide, whatever side of SAME_EVENT it is
on: on words alone it is often wrong there (held-out BP set, weak titles: 79 pairs of different
happenings score at or above SAME_EVENT, and 57 of one), where a model that reads the two
sentences can tell."""
VOTES = 5
"""Joining two groups on the adjudicator's word takes a majority of up to this many questions
about pairs across them (it stops as soon as the majority is sure: three at best), so one or two
wrong answers do not decide."""
ADJUDICATED_COHESION = COHESION / 2
"""COHESION for groups the adjudicator is asked about: its majority over pairs across them is a
check of the groups as a whole, so the words need only show that they have something in common
(the guard is there to stop chaining on words, which the model's reading does not do)."""
STRONG_TEXT = 0.6
"""Score that merges despite conflicting dates (the conflict is then reported)."""
CONTROLS = 5
"""Before the adjudicator decides anything, it is asked about up to this many pairs of each kind
the merge is sure of without it (see ``_check_adjudicator``)."""
CONTROL_REPORTS = 32
"""Sentences of one article are compared for controls among its first this many reports only
(see ``_surely_different``), so the check stays linear in the number of mentions."""
BLOCK_KEYS = 8
NEIGHBOURS = 4
"""How many following mentions, in date order, each mention meets inside a block."""
TITLE_COHESION = 0.03
TITLE_AGREEMENT = 0.6
"""A title shared by three or more mentions counts only if this share of pairs of them score at
least TITLE_COHESION on their quotes alone (see _Features.distrust_loose_titles)."""
TITLE_SAMPLE = 16
TITLE_UNRELATED, TITLE_COPIED, TITLE_COUNTS = 0, 1, 2
LABEL_MIN_REPORTS = 6
LABEL_SHARE = 1 / 3
PAIR_BATCH = 200_000
SCORING_THREADS = 4

_STOPWORDS = frozenset("""
a an the and or but of to in on at by for with from as is are was were be been being has have had
will would could should may might can do does did not no its it this that these those their his
her they he she we i you our about over after before into than then there here new says said say
amid during while also more most some any each other such up out off again further who which
what when where whom how all both very just even only own same so too s t
however meanwhile instead earlier later already still yet though although despite following
according asked now
""".split())
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def _stem(word: str) -> str:
    """Crude suffix stripping: enough to match "talks"/"talk", "accused"/"accuses"."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _actor_key(name: str) -> str:
    """An actor by the last word of its name ("Vladimir Putin" -> "putin")."""
    parts = name.rsplit(None, 1)
    return parts[-1].lower().strip(".,;:'’\"()") if parts else ""


_OPEN = (-(10**9), 10**9)


def _canonical(mention: Mention) -> tuple:
    return (mention.article, mention.offset, mention.chunk, mention.title, mention.quote, mention.when,
            mention.status, tuple(mention.actors))


def _in_canonical_order(mentions: list[Mention]) -> bool:
    """Clusters come out in canonical order already; checking is cheaper than sorting again."""
    keys = [(m.article, m.offset) for m in mentions]
    return all(a < b for a, b in pairwise(keys))


Adjudicator = Callable[[Mention, Mention], bool]


class AdjudicationOutput(BaseModel):
    """The model's verdict on an unsure pair (prompt: ``adjudicate.j2``)."""

    same: bool


def _sorted_unique(values):
    """np.unique by sorting (numpy 2's hash-based unique is several times slower on these)."""
    import numpy as np

    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if len(values) else values


_ASCII_PUNCTUATION = str.maketrans({c: " " for c in map(chr, range(128)) if not (c.isalnum() or c in "\x00-")})
"""ASCII punctuation and spaces become spaces; letters, digits, hyphens, the separator and all
non-ASCII characters stay (an ASCII-only table keeps ``str.translate`` on its fast path)."""
_WIDE_PUNCTUATION = "’‘“”–—…«»„‚·•"


_SEPARATOR = "\x00"
"""Between texts when they are joined (taken out of the texts first). Not white space, and ASCII:
an all-ASCII string is several times faster to change case and split than a wider one."""


class _Tokens(NamedTuple):
    words: list[str]
    """Every word of every text, case kept, a separator between texts."""
    distinct: list[str]
    codes: Any
    """Each word as an index into ``distinct``."""
    rows: Any
    """The index of the text each word comes from."""


def _flat(texts: list[str]) -> _Tokens:
    """All words of all texts in one list, coded.

    Built for 100,000 mentions: one table ``translate`` and one ``split`` over all texts
    joined, instead of a regular expression and a list per text, and one dictionary lookup per
    word. Few container objects are made, so the cyclic garbage collector has little to walk
    through (the merge used to pause it).
    """
    import numpy as np

    joined = f" {_SEPARATOR} ".join(texts)
    if joined.count(_SEPARATOR) != len(texts) - 1:  # a text holds the separator: take it out
        joined = f" {_SEPARATOR} ".join(t.replace(_SEPARATOR, " ") for t in texts)
    for mark in _WIDE_PUNCTUATION:
        joined = joined.replace(mark, " ")
    words = joined.translate(_ASCII_PUNCTUATION).split()
    distinct = list(set(words))
    code = {word: i for i, word in enumerate(distinct)}
    codes = np.fromiter(map(code.__getitem__, words), dtype=np.int64, count=len(words))
    rows = np.cumsum(codes == code[_SEPARATOR]) if _SEPARATOR in code else np.zeros(len(words), dtype=np.int64)
    return _Tokens(words, distinct, codes, rows)


def _copied_titles(quotes: _Tokens, titles: _Tokens):
    """Whether each title is a run of its quote's own words, case and punctuation aside: such a
    title (as small models often write) is no evidence of its own. An empty title is none either."""
    import numpy as np

    def padded(tokens: _Tokens) -> list[str]:
        # " a b \x00 c \x00 d " splits into " a b ", " c ", " d ": every text with one space
        # at each end, so containment is containment of whole words.
        return f" {' '.join(tokens.words).lower()} ".split(_SEPARATOR)

    quote_texts, title_texts = padded(quotes), padded(titles)
    return np.fromiter(map(str.__contains__, quote_texts, title_texts), dtype=bool, count=len(quote_texts))


# How much each kind of evidence weighs in a pair's score (see _Features.scores). Tuned on the
# seed set (tests/seed_gold.py) with clean and with weak titles; checked on held-out Timeline17
# articles by benchmarks/merge_quality.py.
WEIGHTS = {"quote_overlap": 0.3, "title": 0.5, "names": 0.2, "numbers": 0.1, "status_clash": 0.2}
_CONTENT_SCALE = sum(w for k, w in WEIGHTS.items() if k not in ("status_clash", "title"))


class _Features:
    """The mentions as sparse vectors, for scoring many pairs at once.

    Four kinds of evidence, each a binary matrix over one vocabulary: the quote's content words,
    the title's words, the names (in the quote, and the actors the model listed) and the numbers
    in the quote. Pairs are scored on the IDF of what they share, so rare words ("ironclad",
    "Astrakhan") count and common ones ("Trump", "ceasefire") barely do.
    """

    def __init__(self, mentions: list[Mention]):
        import numpy as np

        self.n = n = len(mentions)
        quotes, titles = _flat([m.quote for m in mentions]), _flat([m.title for m in mentions])
        actor_lists = [m.actors for m in mentions]
        actor_names = list(chain.from_iterable(actor_lists))
        actor_rows = np.repeat(np.arange(n), list(map(len, actor_lists)))
        actor_key = {a: _actor_key(a) for a in set(actor_names)}
        # What each distinct written word stands for. Words: stems of content words. Names: the
        # quote's capitalised words that are not common words (a rule rather than a tagger: news
        # capitalises names, and a model-based tagger would need a download), with the actors
        # the model listed. Numbers: words that start with a digit.
        lower = {t: t.lower() for t in (*quotes.distinct, *titles.distinct)}
        word = {t: _stem(low) for t, low in lower.items() if len(low) > 1 and low not in _STOPWORDS}
        name = {t: low for t, low in lower.items() if t[:1].isupper() and low not in _STOPWORDS}
        number = {t: "#" + low for t, low in lower.items() if low[:1].isdigit()}
        # Ids follow the sorted keys, so ties break the same way in every run whatever the
        # string hashing.
        self.vocabulary = sorted({*word.values(), *name.values(), *number.values(), *filter(None, actor_key.values())})
        position = {key: i for i, key in enumerate(self.vocabulary)}

        def entries(tokens: _Tokens, keys: dict[str, str]):
            table = np.array([position[keys[t]] if t in keys else -1 for t in tokens.distinct], dtype=np.int64)
            found = table[tokens.codes]
            return tokens.rows[found >= 0], found[found >= 0]

        actor_ids = {a: position.get(k, -1) for a, k in actor_key.items()}
        found = np.array([actor_ids[a] for a in actor_names], dtype=np.int64)
        actors = (actor_rows[found >= 0], found[found >= 0])
        quote_names = entries(quotes, name)
        kinds = {"quotes": entries(quotes, word), "titles": entries(titles, word),
                 "names": (np.concatenate((quote_names[0], actors[0])), np.concatenate((quote_names[1], actors[1]))),
                 "numbers": entries(quotes, number)}
        self.title_words = self._matrix(kinds["titles"])
        self.copied_title = _copied_titles(quotes, titles)
        self.grounded = self._grounded(kinds["quotes"], kinds["titles"])
        self.informative_title = ~self.copied_title & self.grounded
        self._weigh(kinds)

    def _grounded(self, quote_words, title_words):
        """Whether each title shares a word with its own quote, compared on their first five
        letters ("Zelensky" and "Zelenskiy", "Ukraine" and "Ukrainian" agree): a title that shares
        none ("Ceremony", or the prompt's own example, as small models write) is not about it."""
        import numpy as np

        keys: dict[str, int] = {}
        prefix = np.array([keys.setdefault(word[:5], len(keys)) for word in self.vocabulary], dtype=np.int64)
        quote, title = ((rows, prefix[ids]) for rows, ids in (quote_words, title_words))
        shared = self._matrix(quote, width=len(keys)).multiply(self._matrix(title, width=len(keys)))
        return np.asarray(shared.getnnz(axis=1) > 0)

    def title_trust(self) -> list[int]:
        """Per mention: TITLE_COUNTS if its title is evidence, TITLE_COPIED if it is a run of
        its quote's words, TITLE_UNRELATED if it is about none of the quotes
        its article gives it to, or names many things (see distrust_loose_titles)."""
        import numpy as np

        return np.where(self.informative_title, TITLE_COUNTS,
                        np.where(self.copied_title, TITLE_COPIED, TITLE_UNRELATED)).tolist()

    def _title_keys(self):
        """One key per mention for the set of its title's words (a hash of the sorted word ids),
        so titles that differ only in case, punctuation or word order are one title."""
        import numpy as np

        words = self.title_words
        mixed = (words.indices.astype(np.uint64) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
        mixed ^= mixed >> np.uint64(29)
        running = np.concatenate(([np.uint64(0)], np.cumsum(mixed, dtype=np.uint64)))
        return running[words.indptr[1:]] - running[words.indptr[:-1]]

    def distrust_loose_titles(self, columns: _Columns) -> None:
        """Equal titles say nothing where the model gives one title to many things, as small
        models do ("Ceremony" for most of an article, "Trump and Putin discuss Ukraine" for
        most of a story). Two tests:

        - Labels: in an article with at least LABEL_MIN_REPORTS sentences reported, a title
          on more than LABEL_SHARE of them is a label, not a title (a news article reports
          several happenings; on the seeds one happening takes at most a sixth of an article).
        - Groups: a title that three or more mentions share counts only if their quotes bear it
          out: of pairs of up to TITLE_SAMPLE members spread over the group (each with the next
          and with the one half way round), TITLE_AGREEMENT must share something (score
          TITLE_COHESION on the quotes alone). Every hand-labelled happening of the seeds and of
          the BP set passes (lowest share 0.67); a title spread evenly over two happenings or
          more fails (0.22 to 0.58 there).
        """
        import numpy as np

        key = self._title_keys()
        self.informative_title = (~self.copied_title & self._grounded_in_article(key, columns.article)
                                  & (np.diff(self.title_words.indptr) > 0))
        labels = self._labels(key, columns)
        self._distrust_loose_groups(key, columns)
        self.informative_title &= ~labels

    def _grounded_in_article(self, key, article):
        """Whether each title is about one of the quotes its article gives it to: a happening
        told in two sentences gets one title, which may name what only one of them says
        ("Alabama governor criticises Obama's speech" over "If my house is on fire…" and "…,
        Alabama Gov. Bob Riley told Fox News")."""
        import numpy as np

        if not len(key):
            return self.grounded
        order = np.lexsort((key, article))
        k, a = key[order], article[order]
        starts = np.flatnonzero(np.concatenate(([True], (k[1:] != k[:-1]) | (a[1:] != a[:-1]))))
        any_grounded = np.logical_or.reduceat(self.grounded[order], starts)
        grounded = np.empty(len(key), dtype=bool)
        grounded[order] = np.repeat(any_grounded, np.diff(np.concatenate((starts, [len(key)]))))
        return grounded

    def _distrust_loose_groups(self, key, columns: _Columns) -> None:
        """The group test of distrust_loose_titles, on all groups at once."""
        import numpy as np

        rows = np.flatnonzero(self.informative_title)
        order = np.lexsort((rows, key[rows]))  # by title, then in canonical order
        rows, key = rows[order], key[rows][order]
        starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
        size = np.diff(np.concatenate((starts, [len(rows)])))
        shared = np.flatnonzero(size >= 3)
        if not len(shared):
            return
        # Members spread over each group: in canonical order, neighbours are often one
        # article's account of one thing, and would bear out any title.
        taken = np.minimum(size[shared], TITLE_SAMPLE)
        owner = np.repeat(shared, taken)
        within = np.arange(len(owner)) - np.repeat(np.cumsum(taken) - taken, taken)
        k = np.repeat(taken, taken)

        def member(i):
            return rows[starts[owner] + (i * size[owner]) // k]

        first = np.concatenate((member(within), member(within)))
        second = np.concatenate((member((within + 1) % k), member((within + k // 2) % k)))
        owner = np.concatenate((owner, owner))
        values = self.scores(first, second, *columns.relations(first, second), titles=False)
        agree = np.bincount(owner, values >= TITLE_COHESION, minlength=len(size))
        loose = (size >= 3) & (agree < TITLE_AGREEMENT * np.bincount(owner, minlength=len(size)))
        self.informative_title[rows[np.repeat(loose, size)]] = False

    def _labels(self, key, columns: _Columns):
        """Whether each mention's title is a label in its article (see distrust_loose_titles)."""
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
        label = (reports[a] >= LABEL_MIN_REPORTS) & (per_pair[pair] > LABEL_SHARE * reports[a])
        labels = np.empty(len(key), dtype=bool)
        labels[order] = label
        return labels

    def _weigh(self, kinds: dict[str, tuple]) -> None:
        """The kinds of evidence side by side in one matrix, so a batch of pairs is compared in
        one product; ``self.columns`` sums what a pair shares per kind: the IDF of shared words,
        names and title words, and the count of shared numbers."""
        import numpy as np

        width = max(len(self.vocabulary), 1)
        self.stacked = self._matrix((np.concatenate([rows for rows, _ in kinds.values()]),
                                     np.concatenate([ids + k * width for k, (_, ids) in enumerate(kinds.values())])),
                                    width=len(kinds) * width)
        # Every token of every kind once per mention: the same rows folded onto one vocabulary.
        self.width = width
        self.title_entries = self.stacked.indices // width == list(kinds).index("titles")
        # Rarity is judged on the articles' words alone: a title the model gave many mentions
        # alike must not make their quotes' words look common.
        said = self._folded(~self.title_entries)
        self.idf = np.log((self.n + 1) / np.maximum(np.bincount(said.indices, minlength=width), 1))
        self.columns = np.zeros((len(kinds) * width, len(kinds)), dtype=np.float32)  # single precision: less to move
        for k, kind in enumerate(kinds):
            self.columns[k * width:(k + 1) * width, k] = 1.0 if kind == "numbers" else self.idf
        self.totals = self.stacked @ self.columns

    def _folded(self, keep):
        """The stacked entries where ``keep`` holds, folded onto one vocabulary (each token once
        per mention whatever its kinds)."""
        import numpy as np
        from scipy.sparse import csr_matrix

        kept = np.concatenate(([0], np.cumsum(keep)))
        folded = csr_matrix((self.stacked.data[keep], self.stacked.indices[keep] % self.width,
                             kept[self.stacked.indptr]), shape=(self.n, self.width))
        folded.sum_duplicates()
        return folded

    def _matrix(self, entries, width: int | None = None):
        """Binary rows from (row, id) pairs: each token once per mention."""
        import numpy as np
        from scipy.sparse import csr_matrix

        rows, ids = entries
        matrix = csr_matrix((np.ones(len(ids), dtype=np.float32), (rows, ids)),
                            shape=(self.n, max(width or len(self.vocabulary), 1)))
        matrix.sum_duplicates()
        matrix.data[:] = 1.0
        return matrix

    def block_keys(self) -> tuple:
        """(row, key) for each mention's BLOCK_KEYS rarest tokens that other mentions share
        (of all kinds, titles only where they count)."""
        import numpy as np

        entry_rows = np.repeat(np.arange(self.n), np.diff(self.stacked.indptr))
        words = self._folded(~self.title_entries | self.informative_title[entry_rows])
        frequency = np.bincount(words.indices, minlength=self.width)
        rows = np.repeat(np.arange(self.n), np.diff(words.indptr))
        ids = words.indices
        shared = frequency[ids] > 1
        rows, ids = rows[shared], ids[shared]
        # Sort on one integer (row, then rarity: frequency, then id): faster than a lexsort.
        width = self.width
        by_rarity = np.lexsort((np.arange(width), frequency))
        rarity = np.empty(width, dtype=np.int64)
        rarity[by_rarity] = np.arange(width)
        code = np.sort(rows * width + rarity[ids])
        rows, ids = code // width, by_rarity[code % width]
        keep = _place_in_run(rows) < BLOCK_KEYS
        return rows[keep], ids[keep]

    def scores(self, first, second, same_sentence, status_clash, titles: bool = True):
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

        shared = np.asarray(self.stacked[first].multiply(self.stacked[second]) @ self.columns)
        quote, title, names, numbers = shared.T
        (qa, ta, na, _), (qb, tb, nb, _) = self.totals[first].T, self.totals[second].T
        # A title that only repeats its quote's words (as small models often write) is no
        # evidence of its own (nor are the others of distrust_loose_titles): such pairs are
        # scored on the articles' words alone.
        titled = self.informative_title[first] & self.informative_title[second] & titles
        title_similarity = ratio(title, ta + tb - title)
        about = self.informative_title | self.copied_title
        told_apart = same_sentence & about[first] & about[second] & (title_similarity < 1.0) & titles
        evidence = np.where(told_apart, 0.0, WEIGHTS["quote_overlap"] * ratio(quote, np.minimum(qa, qb))
                            + WEIGHTS["names"] * ratio(names, na + nb - names)
                            + WEIGHTS["numbers"] * (numbers > 0))
        title_weight = WEIGHTS["title"] * titled
        score = evidence + title_weight * title_similarity - WEIGHTS["status_clash"] * status_clash
        return score / (_CONTENT_SCALE + title_weight)


def _place_in_run(keys):
    """For sorted keys, each one's place in its run of equal keys (0 for the first)."""
    import numpy as np

    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    return np.arange(len(keys)) - np.repeat(starts, np.diff(np.concatenate((starts, [len(keys)]))))


def _candidate_pairs(features: _Features, columns: _Columns):
    """Blocking: mentions meet only when they share one of their rarest words or a precise
    date, and then only the nearest few in date order. Linear in the number of mentions."""
    import numpy as np

    rows, keys = features.block_keys()
    date_rows = np.flatnonzero(columns.day >= 0)
    rows = np.concatenate((rows, date_rows))
    keys = np.concatenate((keys, features.width + columns.day[date_rows]))  # same-day reports meet
    n = features.n
    code = np.sort(keys * n + columns.rank[rows])  # by block, then in date order
    keys, rows = code // n, columns.in_date_order[code % n]
    pairs = []
    for step in range(1, NEIGHBOURS + 1):
        same_block = keys[step:] == keys[:-step]
        a, b = rows[:-step][same_block], rows[step:][same_block]
        pairs.append(np.stack((np.minimum(a, b), np.maximum(a, b))))
    both = np.concatenate(pairs, axis=1) if pairs else np.zeros((2, 0), dtype=np.int64)
    both = both[:, both[0] != both[1]]
    codes = _sorted_unique(both[0] * n + both[1])
    return codes // n, codes % n


class _Columns:
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
        self.window = np.stack((np.where(has_start, start, _OPEN[0]), np.where(has_end, end, _OPEN[1])), axis=1)
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


class _Linker:
    """Union-find over the candidate pairs, best first, with two guards.

    - Dates: each cluster keeps the intersection of its mentions' date windows, so a chain of
      pairwise matches cannot join reports of different days (a strong textual match still
      merges, and the conflict is reported).
    - Cohesion: two clusters join only if their members are on average alike
      (``COHESION``, over up to ``COHESION_SAMPLE`` members of each), not merely one pair: one
      mention that resembles two happenings cannot chain them into one. Where the adjudicator
      decides, the lower ``ADJUDICATED_COHESION``: its majority vote checks the groups.

    Components that neither guard can split skip the loop (see ``_settled``).
    """

    def __init__(self, pairs, scores, window, mentions: list[Mention]):
        self.pairs, self.scores, self.window, self.mentions = pairs, scores, window, mentions
        self.n = len(mentions)
        self.known: dict[int, float] = {}

    def cohesive(self, first: list[int], second: list[int], floor: float = COHESION) -> bool:
        """Whether the two clusters' members are alike on average, ``floor`` at least (see the
        class docstring)."""

        if len(first) == 1 and len(second) == 1:
            return True  # the pair's own score passed the threshold
        n, known = self.n, self.known
        total = 0.0
        for a in first[:COHESION_SAMPLE]:
            for b in second[:COHESION_SAMPLE]:
                total += known.get(a * n + b if a < b else b * n + a, 0.0)
        count = min(len(first), COHESION_SAMPLE) * min(len(second), COHESION_SAMPLE)
        return total / count >= floor

    def agreed(self, pair: tuple[int, int], first: list[int], second: list[int], adjudicate) -> bool:
        """Whether the adjudicator says the two groups are one event: asked about ``pair``, then
        about other pairs across them, VOTES at most, until a majority is sure."""
        pairs = [pair, *(other for other in product(first[:VOTES], second[:VOTES]) if other != pair)][:VOTES]
        needed = len(pairs) // 2 + 1
        yes = no = 0
        for a, b in pairs:
            if adjudicate(self.mentions[a], self.mentions[b]):
                yes += 1
            else:
                no += 1
            if yes == needed or no > len(pairs) - needed:
                break
        return yes >= needed

    def _settled(self, label, first, second, adjudicate: Adjudicator | None):
        """Components that merge whole in any order: one pair, or every two mentions linked
        with compatible dates. Date windows that meet pairwise share a day (Helly's theorem on a
        line), and every average of scores at or above SAME_EVENT passes COHESION. With an
        adjudicator none are: unsure pairs must be put to it."""
        import numpy as np

        n = self.n
        size = np.bincount(label, minlength=n)
        if adjudicate is not None:
            return np.zeros(n, dtype=bool)
        window = self.window
        agree = np.maximum(window[first, 0], window[second, 0]) <= np.minimum(window[first, 1], window[second, 1])
        links = np.bincount(label[first], minlength=n)
        clashes = np.bincount(label[first][~agree], minlength=n)
        return (size == 2) | ((links == size * (size - 1) // 2) & (clashes == 0))

    def link(self, first, second, values, asked, adjudicate: Adjudicator | None):
        """Each mention's cluster, as a representative index. Pairs where ``asked`` holds join
        only if the adjudicator agrees (see ``agreed``); without one, ``asked`` is None."""
        import numpy as np
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        n = self.n
        _, label = connected_components(coo_matrix((np.ones(len(first)), (first, second)), shape=(n, n)),
                                        directed=False)
        settled = self._settled(label, first, second, adjudicate)
        lowest = np.full(n, n)
        np.minimum.at(lowest, label, np.arange(n))
        parent = np.where(settled[label], lowest[label], np.arange(n)).tolist()
        loop = ~settled[label[first]]
        # Cohesion needs the scores of all candidate pairs inside the components left to link.
        a, b = self.pairs
        inside = (label[a] == label[b]) & ~settled[label[a]]
        self.known = dict(zip((a[inside] * n + b[inside]).tolist(), self.scores[inside].tolist(), strict=True))
        order = np.lexsort((second[loop], first[loop], -values[loop]))
        # Plain lists of numbers and lists made only on a merge: few container objects for the
        # garbage collector to walk through.
        lows, highs = self.window[:, 0].tolist(), self.window[:, 1].tolist()
        members: dict[int, list[int]] = {}
        refused: set[tuple] = set()  # groups (root, size) the adjudicator said are not one event

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        questions = [False] * len(order) if asked is None else asked[loop][order].tolist()
        for i, j, value, ask in zip(first[loop][order].tolist(), second[loop][order].tolist(),
                                    values[loop][order].tolist(), questions, strict=True):
            root_i, root_j = find(i), find(j)
            if root_i == root_j:
                continue
            low, high = max(lows[root_i], lows[root_j]), min(highs[root_i], highs[root_j])
            if low > high and value < STRONG_TEXT:
                continue
            cluster_i, cluster_j = members.get(root_i) or [root_i], members.get(root_j) or [root_j]
            if not self.cohesive(cluster_i, cluster_j, ADJUDICATED_COHESION if ask else COHESION):
                continue
            if ask:
                groups = tuple(sorted(((root_i, len(cluster_i)), (root_j, len(cluster_j)))))
                if groups in refused:
                    continue
                if not self.agreed((i, j), cluster_i, cluster_j, adjudicate):
                    refused.add(groups)
                    continue
            root, child = min(root_i, root_j), max(root_i, root_j)
            parent[child] = root
            members.pop(child, None)
            members[root] = cluster_i + cluster_j if root == root_i else cluster_j + cluster_i
            if low <= high:
                lows[root], highs[root] = low, high
        return [find(i) for i in range(n)]


def _score_pairs(features: _Features, columns: _Columns, first, second):
    """Every candidate pair's score, in batches (bounded memory) on a few threads: the sparse
    products run in scipy's compiled code, which lets other threads run meanwhile."""
    import numpy as np

    values = np.empty(len(first))

    def score(start: int) -> None:
        a, b = first[start:start + PAIR_BATCH], second[start:start + PAIR_BATCH]
        values[start:start + PAIR_BATCH] = features.scores(a, b, *columns.relations(a, b))

    starts = range(0, len(first), PAIR_BATCH)
    workers = min(SCORING_THREADS, os.cpu_count() or 1, len(starts))
    if workers <= 1:
        for start in starts:
            score(start)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(score, starts))
    return values


def cluster(mentions: Iterable[Mention], adjudicate: Adjudicator | None = None) -> list[list[Mention]]:
    """Group mentions of the same event. Deterministic and independent of input order.

    The same text of one article with the same title, time expression and status, given more
    than once (by overlapping chunks: extraction keeps one per chunk), is one report and is
    linked once: a title copied from that text is no evidence, so the copies could not
    otherwise be told to belong together.
    """
    return _clusters(mentions, adjudicate)[0]


def _clusters(mentions: Iterable[Mention],
              adjudicate: Adjudicator | None) -> tuple[list[list[Mention]], dict[int, int]]:
    """The groups of ``cluster``, and how far each mention's title can be trusted (by ``id``)."""
    ordered = sorted(mentions, key=_canonical)
    first_copy: dict[str, int] = {}
    copy_of = [first_copy.setdefault(
        f"{m.article}\x00{m.title.casefold()}\x00{m.when.casefold()}\x00{m.status}\x00{m.quote}", i)
               for i, m in enumerate(ordered)]
    reports = [m for i, m in enumerate(ordered) if copy_of[i] == i]
    place = {index: k for k, index in enumerate(first_copy.values())}
    parent, trust = _link(reports, adjudicate)
    groups: dict[int, list[Mention]] = defaultdict(list)
    for index, mention in enumerate(ordered):
        groups[parent[place[copy_of[index]]]].append(mention)
    return list(groups.values()), {id(m): trust[place[copy_of[i]]] for i, m in enumerate(ordered)}


def _link(reports: list[Mention], adjudicate: Adjudicator | None) -> tuple[list[int], list[int]]:
    """Each report's cluster, as the index of a representative (reports in canonical order),
    and its title's trust (``_Features.title_trust``)."""
    import numpy as np

    features, columns = _Features(reports), _Columns(reports)
    window = columns.window
    features.distrust_loose_titles(columns)
    if len(reports) < 2:
        return list(range(len(reports))), features.title_trust()
    first, second = _candidate_pairs(features, columns)
    values = _score_pairs(features, columns, first, second)
    trust = features.title_trust()
    linker = _Linker((first, second), values, window, reports)
    apart = (window[first, 0] > window[second, 1]) | (window[second, 0] > window[first, 1])
    if adjudicate is None:  # unsure pairs can never merge: drop them before the loop
        keep = values >= np.where(apart, STRONG_TEXT, SAME_EVENT)
        return linker.link(first[keep], second[keep], values[keep], None, None), trust
    words_only = ~(features.informative_title[first] & features.informative_title[second])
    keep = values >= np.where(apart, STRONG_TEXT, np.where(words_only, REVIEW_FLOOR, UNSURE))
    asked = np.where(words_only, values < STRONG_TEXT, values < SAME_EVENT)
    adjudicate = _without_untrusted_titles(adjudicate, reports, trust)
    if asked[keep].any():  # no question, no need to check the judge
        _check_adjudicator(adjudicate, reports, features, columns, (first, second), values, apart)
    return linker.link(first[keep], second[keep], values[keep], asked[keep], adjudicate), trust


def _check_adjudicator(adjudicate: Adjudicator, reports: list[Mention], features: _Features, columns: _Columns,
                       pairs, values, apart) -> None:
    """Raise UnreliableAdjudicatorError if the adjudicator gets wrong the pairs that need no
    judge (see ``_surely_different`` and ``_surely_same``). Of each kind, CONTROLS are asked;
    two wrong answers or more that are also a majority of their kind fail it (a judge right nine
    times in ten, each answer drawn independently, fails about one time in sixty). It catches a
    model that answers every pair alike (SmolLM2-135M says "yes" to all), not every weak one
    (Gemma-3-270m, mostly "no", passed on the held-out BP set). With fewer than two pairs of a
    kind, that kind is not checked."""
    kinds = {False: _surely_different(features, columns, pairs, values, apart),
             True: _surely_same(columns, pairs, values, apart)}
    for same, (first, second) in kinds.items():
        chosen = list(zip(first[:CONTROLS].tolist(), second[:CONTROLS].tolist(), strict=True))
        wrong = sum(adjudicate(reports[a], reports[b]) != same for a, b in chosen)
        if wrong >= 2 and 2 * wrong > len(chosen):
            told = ("in nearly the same words, on dates that agree, different events" if same
                    else "that cannot be one event (placed on different days, or sentences of one article "
                         "with nothing in common) the same event")
            raise UnreliableAdjudicatorError(
                f"The adjudicator called {wrong} of {len(chosen)} pairs of reports {told}. Its answers "
                "would make the timeline worse than the articles' words alone: use a model that judges "
                "pairs of sentences well.", asked=len(chosen), wrong=wrong)


def _most_alike_first(pairs, values, where) -> tuple:
    import numpy as np

    first, second = pairs
    found = np.flatnonzero(where)
    order = found[np.lexsort((second[found], first[found], -values[found]))]
    return first[order], second[order]


def _surely_same(columns: _Columns, pairs, values, apart) -> tuple:
    """Reports of two articles in nearly the same words (STRONG_TEXT) on dates that agree, most
    alike first: one event."""
    first, second = pairs
    return _most_alike_first(pairs, values, ~apart & (columns.article[first] != columns.article[second])
                             & (values >= STRONG_TEXT))


def _surely_different(features: _Features, columns: _Columns, pairs, values, apart) -> tuple:
    """Pairs of reports that are different events: first those of two articles that place them
    on different days (each on a day or a week), most alike in words first; then sentences of
    one article (among its first CONTROL_REPORTS reports) that share no word, name or number.
    Small models rarely give a date storyline can trust, so the second kind is most often all
    there is; one article does not tell one happening in two such sentences (hand labels: 1 of
    355 such pairs on the seeds, 2 of 32 on the BP set, are of one happening)."""
    import numpy as np

    first, second = pairs
    placed = (columns.day[first] >= 0) & (columns.day[second] >= 0)
    dated = _most_alike_first(pairs, values, apart & (columns.article[first] != columns.article[second]) & placed)
    article, n = columns.article, features.n
    position = _place_in_run(article)  # reports are in canonical order: by article, then by place in it
    steps = range(1, CONTROL_REPORTS)
    a = np.concatenate([np.arange(n - step) for step in steps])
    b = np.concatenate([np.arange(step, n) for step in steps])
    inside = (article[a] == article[b]) & (position[b] < CONTROL_REPORTS) & (columns.sentence[a] != columns.sentence[b])
    a, b = a[inside], b[inside]
    score = features.scores(a, b, *columns.relations(a, b), titles=False)
    unrelated = np.flatnonzero(score <= 0)
    order = unrelated[np.lexsort((b[unrelated], a[unrelated], score[unrelated]))]
    return np.concatenate((dated[0], a[order])), np.concatenate((dated[1], b[order]))


def _without_untrusted_titles(adjudicate: Adjudicator, reports: list[Mention], trust: list[int]) -> Adjudicator:
    """The adjudicator, shown a title only where it counts: a label ("Ceremony") or the
    prompt's own example given to both reports would read to the model as a reason to merge."""
    counts = {id(m) for m, level in zip(reports, trust, strict=True) if level == TITLE_COUNTS}

    def shown(mention: Mention) -> Mention:
        return mention if id(mention) in counts else mention.model_copy(update={"title": ""})

    return lambda first, second: adjudicate(shown(first), shown(second))


# --- building events -------------------------------------------------------------------------


def _best_date(mentions: list[Mention]) -> tuple[DateSpan, Conflict | None]:
    """The most precise span consistent with every placed mention; a conflict if there is none."""
    placed, vague = [], []
    for m in mentions:
        date = m.date
        if date.start is not None or date.end is not None:
            (vague if date.vague else placed).append(m)
    if len(placed) == 1:
        return placed[0].date, None
    if not placed:
        if vague:
            return min((m.date for m in vague), key=lambda d: (d.width_days(), d.sort_key())), None
        return mentions[0].date, None
    lows = [m.date.start.toordinal() if m.date.start else _OPEN[0] for m in placed]
    highs = [m.date.end.toordinal() if m.date.end else _OPEN[1] for m in placed]
    latest_start, earliest_end = max(lows), min(highs)
    # A span overlaps every other one exactly when it starts by the earliest end and ends after
    # the latest start.
    consistent = [m for m, lo, hi in zip(placed, lows, highs, strict=True) if lo <= earliest_end and hi >= latest_start]
    if consistent:
        best = min(consistent, key=lambda m: (m.date.width_days(), m.date.sort_key(), m.article))
        return best.date, None
    values: dict[str, list[str]] = defaultdict(list)
    for m in placed:
        label = format_span(m.date)
        if m.article not in values[label]:
            values[label].append(m.article)
    chosen = max(placed, key=lambda m: (len(values[format_span(m.date)]), -m.date.width_days(), format_span(m.date)))
    detail = "; ".join(f"{label} ({', '.join(ids)})" for label, ids in sorted(values.items()))
    return chosen.date, Conflict(kind="date", detail=f"sources place it differently: {detail}",
                                 values=dict(sorted(values.items())))


_FIGURE = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:[- ](?:per ?cent|%))?\s+([A-Za-z][A-Za-z-]+)")
_ROLE_WORDS = ("President", "Minister", "Secretary", "Chancellor", "Envoy", "envoy", "Spokesperson",
               "spokesperson", "Adviser", "adviser", "Prime", "King", "Leader", "Governor", "Senator")
_PERSON_WITH_ROLE = re.compile(
    r"((?:Former |former |Ex-|ex-)?(?:[A-Z][\w.'-]*\.? ){0,4}?(?:" + "|".join(_ROLE_WORDS)
    + r")(?: [A-Z][\w.'-]*)*?) ((?:[A-Z][a-z]+ )?[A-Z][a-z]+)\b"
)


def _figures(mentions: list[Mention]) -> Conflict | None:
    seen: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for m in mentions:
        for number, noun in _FIGURE.findall(m.quote):
            noun_key = _stem(noun.lower())
            if m.article not in seen[noun_key][number]:
                seen[noun_key][number].append(m.article)
    differing = {noun: dict(v) for noun, v in seen.items() if len(v) > 1}
    if not differing:
        return None
    noun, values = sorted(differing.items())[0]
    detail = "; ".join(f"{n} {noun} ({', '.join(ids)})" for n, ids in sorted(values.items()))
    return Conflict(kind="figure", detail=f"different figures: {detail}", values=values)


def _normal_role(role: str) -> str:
    return re.sub(r"\s+", " ", role.replace("U.S.", "US").replace("U.K.", "UK")).strip().lower()


def _titles(mentions: list[Mention]) -> Conflict | None:
    people: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    written: dict[str, str] = {}
    for m in mentions:
        for role, name in _PERSON_WITH_ROLE.findall(m.quote):
            surname = name.split()[-1]
            key = _normal_role(role)
            written.setdefault(key, role)
            if m.article not in people[surname][key]:
                people[surname][key].append(m.article)
    for surname, roles in sorted(people.items()):
        if len(roles) > 1:
            values = {f"{written[r]} {surname}": ids for r, ids in sorted(roles.items())}
            detail = "; ".join(f"{label} ({', '.join(ids)})" for label, ids in values.items())
            return Conflict(kind="title", detail=f"{surname} is described differently: {detail}", values=values)
    return None


TITLE_CANDIDATES = 8


QUOTE_TITLE_WORDS = 12


def _title(mentions: list[Mention], trust: dict[int, int] | None = None) -> str:
    """The most central of the most frequent titles (closest to the others), so a large
    cluster costs a bounded number of comparisons. Only the most trusted titles are candidates
    (see ``_Features.title_trust``); where each is unrelated to its quote or a label the model
    gave many things, the event is named by the opening words of its first quote. An event
    none of whose mentions has a title gets none here."""
    import numpy as np

    first_quote = mentions[0].quote
    mentions = [m for m in mentions if m.title]
    if not mentions:
        return ""  # named later (``headlines``)
    if trust is not None:
        levels = [trust.get(id(m), TITLE_COUNTS) for m in mentions]
        best = max(levels)
        if best == TITLE_UNRELATED:
            words = first_quote.split()
            return " ".join(words[:QUOTE_TITLE_WORDS]) + ("…" if len(words) > QUOTE_TITLE_WORDS else "")
        if min(levels) != best:
            mentions = [m for m, level in zip(mentions, levels, strict=True) if level == best]
    counts: dict[str, int] = {}
    for m in mentions:
        if m.title:
            counts[m.title] = counts.get(m.title, 0) + 1
    if len(counts) == 1:
        return next(iter(counts))
    titles = sorted(counts, key=lambda t: (-counts[t], t))[:TITLE_CANDIDATES]
    weights = np.array([counts[t] for t in titles], dtype=np.float64)
    if len(titles) == 2:  # the same sums as below, without a matrix
        similarity = fuzz.token_set_ratio(*titles)
        centrality = [similarity * weights[1] + 100 * weights[0], similarity * weights[0] + 100 * weights[1]]
        return titles[max(range(2), key=lambda i: (centrality[i], -len(titles[i]), titles[i]))]
    similarity = process.cdist(titles, titles, scorer=fuzz.token_set_ratio, dtype=np.float64)
    np.fill_diagonal(similarity, 100.0)
    centrality = (similarity @ weights).tolist()
    best = max(range(len(titles)), key=lambda i: (centrality[i], -len(titles[i]), titles[i]))
    return titles[best]


def _actors(mentions: list[Mention]) -> list[str]:
    """Actors by how many mentions name them (case aside), each in its most frequent spelling."""
    spellings: dict[str, dict[str, int]] = {}
    for m in mentions:
        for actor in m.actors:
            forms = spellings.setdefault(actor.lower(), {})
            forms[actor] = forms.get(actor, 0) + 1
    ranked = sorted(spellings.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    return [max(forms.items(), key=lambda f: (f[1], f[0]))[0] for _, forms in ranked]


MAX_EVENT_ACTORS = 6


def build_event(mentions: list[Mention], title_trust: dict[int, int] | None = None) -> Event:
    """One timeline event from the mentions of one cluster.

    Mentions quoting the same text of the same article are one report: only the first (in
    canonical order) is kept, so a quote never appears twice in an event. ``title_trust``
    (from the clustering, by ``id`` of each mention) keeps titles that are not about their
    quotes from naming the event.
    """
    ordered = mentions if _in_canonical_order(mentions) else sorted(mentions, key=_canonical)
    reports: dict[tuple[str, int, str], Mention] = {}
    for mention in ordered:
        reports.setdefault((mention.article, mention.offset, mention.quote), mention)
    ordered = list(reports.values())
    date, date_conflict = _best_date(ordered)
    statuses = {m.status for m in ordered}
    status = "happened" if "happened" in statuses else "ongoing" if "ongoing" in statuses else "expected"
    conflicts = [date_conflict] if date_conflict else []
    if len({m.article for m in ordered}) > 1:  # one source cannot disagree with itself
        # Cheap tests on all the quotes at once before the slower patterns run on each.
        quotes = "\n".join(m.quote for m in ordered)
        if any(digit in quotes for digit in "0123456789") and (figures := _figures(ordered)):
            conflicts.append(figures)
        if any(role in quotes for role in _ROLE_WORDS) and (titles := _titles(ordered)):
            conflicts.append(titles)
    identity = hashlib.sha256("|".join(f"{m.article}:{m.offset}:{m.title}" for m in ordered).encode())
    return Event(
        id="ev-" + identity.hexdigest()[:12],
        title=_title(ordered, title_trust),
        date=date,
        status=status,
        actors=_actors(ordered)[:MAX_EVENT_ACTORS],
        mentions=ordered,
        sources=len({m.article for m in ordered}),
        conflicts=conflicts,
    )


def merge(mentions: Iterable[Mention], adjudicate: Adjudicator | None = None) -> list[Event]:
    """The merged timeline, in date order (unplaced events last)."""
    groups, title_trust = _clusters(mentions, adjudicate)
    events = [build_event(group, title_trust) for group in groups]
    return sorted(events, key=lambda e: (e.date.sort_key(), -e.sources, e.title, e.id))

