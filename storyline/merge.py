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
import gc
import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from itertools import chain, pairwise

from pydantic import BaseModel
from rapidfuzz import fuzz, process

from .dates import format_span
from .models import PRECISION_RANK, Conflict, DateSpan, Event, Mention

SAME_EVENT = 0.225
"""Score at or above which two date-compatible mentions are one event. Chosen on the seed
mentions (tests/seed_mentions.py): every event there stays connected at 0.24 or more, and no
pair of different events scores above 0.21."""
UNSURE = 0.16
"""Scores from here up to SAME_EVENT are unsure: merged only if the adjudicator says so."""
STRONG_TEXT = 0.6
"""Score that merges despite conflicting dates (the conflict is then reported)."""
BLOCK_KEYS = 4
NEIGHBOURS = 4
"""How many following mentions, in date order, each mention meets inside a block."""
PAIR_BATCH = 200_000

_STOPWORDS = frozenset("""
a an the and or but of to in on at by for with from as is are was were be been being has have had
will would could should may might can do does did not no its it this that these those their his
her they he she we i you our about over after before into than then there here new says said say
amid during while also more most some any each other such up out off again further who which
what when where whom how all both very just even only own same so too s t
""".split())
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def _stem(word: str) -> str:
    """Crude suffix stripping: enough to match "talks"/"talk", "accused"/"accuses"."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _actor_key(name: str) -> str:
    parts = _WORD.findall(name.lower())
    return parts[-1] if parts else ""


_OPEN = (-(10**9), 10**9)


def _bounds(span: DateSpan) -> tuple[int, int]:
    """A placed span as day ordinals; vague or unplaced spans constrain nothing."""
    if span.vague or not span.is_known:
        return _OPEN
    return (span.start.toordinal() if span.start else _OPEN[0], span.end.toordinal() if span.end else _OPEN[1])


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


class _Features:
    """The mentions as sparse word vectors, for scoring many pairs at once.

    ``headline`` holds the title's and actors' words, ``words`` those plus the quote's. Entries
    are sqrt(IDF), so a row product sums the IDF of the words two mentions share: rare words
    ("ironclad", "peacekeepers") count, common ones ("Trump", "ceasefire") barely do.
    """

    def __init__(self, mentions: list[Mention]):
        import numpy as np
        from scipy.sparse import csr_matrix

        self.n = n = len(mentions)
        titles = [_WORD.findall(m.title.lower()) for m in mentions]
        quotes = [_WORD.findall(m.quote.lower()) for m in mentions]
        actors = [[k for a in m.actors if (k := _actor_key(a))] for m in mentions]
        # Stem each distinct word once; ids follow the sorted stems, so ties break the same way
        # in every run whatever the string hashing. Stop words and one-letter words get -1.
        raw = set(chain.from_iterable(titles)) | set(chain.from_iterable(quotes))
        stems = {w: _stem(w) for w in raw if len(w) > 1 and w not in _STOPWORDS}
        stems.update({k: k for k in chain.from_iterable(actors)})
        self.vocabulary = sorted(set(stems.values()))
        position = {stem: i for i, stem in enumerate(self.vocabulary)}
        word_id = {w: position[stem] for w, stem in stems.items()}
        word_id.update({w: -1 for w in raw if w not in stems})

        def entries(texts: list[list[str]]):
            """(row, id) of every word of every text, stop words left out."""
            lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n)
            flat = list(chain.from_iterable(texts))
            ids = np.fromiter(map(word_id.__getitem__, flat), dtype=np.int64, count=len(flat))
            rows = np.repeat(np.arange(n), lengths)
            return rows[ids >= 0], ids[ids >= 0]

        def matrix(*parts):
            """Binary rows: each word once per mention."""
            rows = np.concatenate([p[0] for p in parts])
            ids = np.concatenate([p[1] for p in parts])
            width = max(len(self.vocabulary), 1)
            codes = _sorted_unique(rows * width + ids)
            rows, ids = codes // width, codes % width
            indptr = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=n))))
            return csr_matrix((np.ones(len(ids)), ids, indptr), shape=(n, len(self.vocabulary)))

        headline_parts = (entries(titles), entries(actors))
        words = matrix(*headline_parts, entries(quotes))
        self.frequency = np.bincount(words.indices, minlength=len(self.vocabulary))
        root_idf = np.sqrt(np.log((n + 1) / np.maximum(self.frequency, 1)))
        self.words = words.multiply(root_idf[None, :]).tocsr()
        self.headline = matrix(*headline_parts).multiply(root_idf[None, :]).tocsr()
        self.words_weight = np.asarray(self.words.multiply(self.words).sum(axis=1)).ravel()
        self.headline_weight = np.asarray(self.headline.multiply(self.headline).sum(axis=1)).ravel()

    def block_keys(self) -> tuple:
        """(row, key) for each mention's BLOCK_KEYS rarest words that other mentions share."""
        import numpy as np

        rows = np.repeat(np.arange(self.n), np.diff(self.words.indptr))
        ids = self.words.indices
        shared = self.frequency[ids] > 1
        rows, ids = rows[shared], ids[shared]
        order = np.lexsort((ids, self.frequency[ids], rows))
        rows, ids = rows[order], ids[order]
        starts = np.flatnonzero(np.concatenate(([True], rows[1:] != rows[:-1])))
        position = np.arange(len(rows)) - np.repeat(starts, np.diff(np.concatenate((starts, [len(rows)]))))
        keep = position < BLOCK_KEYS
        return rows[keep], ids[keep]

    def scores(self, first, second, same_sentence):
        """Score of each pair (first[k], second[k]), 0 to 1: half the weighted Jaccard of the
        headlines, half the weighted overlap of all words."""
        import numpy as np

        def shared(matrix, a, b):
            return np.asarray(matrix[a].multiply(matrix[b]).sum(axis=1)).ravel()

        head = shared(self.headline, first, second)
        union = self.headline_weight[first] + self.headline_weight[second] - head
        headline = np.divide(head, union, out=np.zeros_like(head), where=union > 0)
        # One sentence can report several events: for mentions quoting the same sentence of the
        # same article, the quote proves nothing and only the headlines count.
        overlap_shared = np.where(same_sentence, head, shared(self.words, first, second))
        smaller = np.where(same_sentence,
                           np.minimum(self.headline_weight[first], self.headline_weight[second]),
                           np.minimum(self.words_weight[first], self.words_weight[second]))
        overlap = np.divide(overlap_shared, smaller, out=np.zeros_like(head), where=smaller > 0)
        return 0.5 * headline + 0.5 * overlap


def _candidate_pairs(features: _Features, mentions: list[Mention], order_rank):
    """Blocking: mentions meet only when they share one of their rarest words or a precise
    date, and then only the nearest few in date order. Linear in the number of mentions."""
    import numpy as np

    rows, keys = features.block_keys()
    dated = [(i, m.date.start.toordinal()) for i, m in enumerate(mentions)
             if m.date.start is not None and m.date.width_days() <= 7 and not m.date.vague]
    if dated:
        date_rows, days = (np.array(column, dtype=np.int64) for column in zip(*dated, strict=True))
        rows = np.concatenate((rows, date_rows))
        keys = np.concatenate((keys, len(features.vocabulary) + days))  # same-day reports always meet
    order = np.lexsort((order_rank[rows], keys))
    rows, keys = rows[order], keys[order]
    pairs = []
    for step in range(1, NEIGHBOURS + 1):
        same_block = keys[step:] == keys[:-step]
        a, b = rows[:-step][same_block], rows[step:][same_block]
        pairs.append(np.stack((np.minimum(a, b), np.maximum(a, b))))
    both = np.concatenate(pairs, axis=1) if pairs else np.zeros((2, 0), dtype=np.int64)
    both = both[:, both[0] != both[1]]
    codes = _sorted_unique(both[0] * features.n + both[1])
    return codes // features.n, codes % features.n


def _date_order(mentions: list[Mention]):
    """Each mention's rank in timeline order (as ``DateSpan.sort_key``, ties by position)."""
    import numpy as np

    never = dt.date.max.toordinal()
    keys = np.empty((len(mentions), 3), dtype=np.int64)
    for row, m in enumerate(mentions):
        first = m.date.start or m.date.end
        last = m.date.end or m.date.start
        keys[row] = (first.toordinal() if first else never, last.toordinal() if last else never,
                     PRECISION_RANK[m.date.precision])
    order = np.lexsort((np.arange(len(mentions)), keys[:, 2], keys[:, 1], keys[:, 0]))
    rank = np.empty(len(mentions), dtype=np.int64)
    rank[order] = np.arange(len(mentions))
    return rank


def _union_best_first(first, second, values, window, mentions: list[Mention],
                      adjudicate: Adjudicator | None) -> list[int]:
    """Each mention's cluster (a representative index): union-find over the pairs, best first.

    Each cluster keeps the intersection of its placed dates, so a chain of pairwise matches
    cannot join reports of different days. Where a whole connected component's placed dates
    intersect, that guard never refuses and the component is one cluster: those are found at
    once (scipy), and only the other components, or all pairs when an adjudicator must be asked,
    go through the loop.
    """
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(mentions)
    _, label = connected_components(coo_matrix((np.ones(len(first)), (first, second)), shape=(n, n)),
                                    directed=False)
    latest_start = np.full(n, _OPEN[0], dtype=np.int64)
    earliest_end = np.full(n, _OPEN[1], dtype=np.int64)
    np.maximum.at(latest_start, label, window[:, 0])
    np.minimum.at(earliest_end, label, window[:, 1])
    consistent = latest_start <= earliest_end  # per component label
    if adjudicate is not None:
        consistent[:] = False
    representative = np.full(n, n, dtype=np.int64)
    np.minimum.at(representative, label, np.arange(n))
    parent = [int(representative[label[i]]) if consistent[label[i]] else i for i in range(n)]

    loop = ~consistent[label[first]]
    order = np.lexsort((second[loop], first[loop], -values[loop]))
    bounds = {i: (int(window[i, 0]), int(window[i, 1])) for i in range(n) if not consistent[label[i]]}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j, value in zip(first[loop][order].tolist(), second[loop][order].tolist(),
                           values[loop][order].tolist(), strict=True):
        root_i, root_j = find(i), find(j)
        if root_i == root_j:
            continue
        (lo_i, hi_i), (lo_j, hi_j) = bounds[root_i], bounds[root_j]
        agree = max(lo_i, lo_j) <= min(hi_i, hi_j)
        if not agree and value < STRONG_TEXT:
            continue
        if value < SAME_EVENT and (adjudicate is None or not adjudicate(mentions[i], mentions[j])):
            continue
        root, child = min(root_i, root_j), max(root_i, root_j)
        parent[child] = root
        if agree:
            bounds[root] = (max(lo_i, lo_j), min(hi_i, hi_j))
    return [find(i) for i in range(n)]


def cluster(mentions: Iterable[Mention], adjudicate: Adjudicator | None = None) -> list[list[Mention]]:
    """Group mentions of the same event. Deterministic and independent of input order."""
    import numpy as np

    ordered = sorted(mentions, key=_canonical)
    if len(ordered) < 2:
        return [[m] for m in ordered]
    features = _Features(ordered)
    window = np.array([_bounds(m.date) for m in ordered], dtype=np.int64)
    order_rank = _date_order(ordered)
    first, second = _candidate_pairs(features, ordered, order_rank)

    sentence_ids: dict[tuple[str, str], int] = {}
    sentence = np.array([sentence_ids.setdefault((m.article, m.quote), len(sentence_ids)) for m in ordered])
    values = np.empty(len(first))
    for start in range(0, len(first), PAIR_BATCH):
        part = slice(start, start + PAIR_BATCH)
        a, b = first[part], second[part]
        values[part] = features.scores(a, b, sentence[a] == sentence[b])
    apart = (window[first, 0] > window[second, 1]) | (window[second, 0] > window[first, 1])
    # Without an adjudicator, unsure pairs can never merge: drop them before the loop.
    keep = values >= np.where(apart, STRONG_TEXT, UNSURE if adjudicate else SAME_EVENT)
    first, second, values = first[keep], second[keep], values[keep]
    parent = _union_best_first(first, second, values, window, ordered, adjudicate)

    groups: dict[int, list[Mention]] = defaultdict(list)
    for index, mention in enumerate(ordered):
        groups[parent[index]].append(mention)
    return list(groups.values())


# --- building events -------------------------------------------------------------------------


def _best_date(mentions: list[Mention]) -> tuple[DateSpan, Conflict | None]:
    """The most precise span consistent with every placed mention; a conflict if there is none."""
    placed = [m for m in mentions if m.date.is_known and not m.date.vague]
    if not placed:
        vague = [m.date for m in mentions if m.date.is_known]
        if vague:
            return min(vague, key=lambda d: (d.width_days(), d.sort_key())), None
        return mentions[0].date, None
    bounds = [_bounds(m.date) for m in placed]
    latest_start = max(lo for lo, _ in bounds)
    earliest_end = min(hi for _, hi in bounds)
    # A span overlaps every other one exactly when it starts by the earliest end and ends after
    # the latest start.
    consistent = [m for m, (lo, hi) in zip(placed, bounds, strict=True) if lo <= earliest_end and hi >= latest_start]
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


_DIGIT = re.compile(r"\d")
_FIGURE = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:[- ](?:per ?cent|%))?\s+([A-Za-z][A-Za-z-]+)")
_ROLE_WORDS = ("President", "Minister", "Secretary", "Chancellor", "Envoy", "envoy", "Spokesperson",
               "spokesperson", "Adviser", "adviser", "Prime", "King", "Leader", "Governor", "Senator")
_ROLE_HINT = re.compile("|".join(_ROLE_WORDS))
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


def _title(mentions: list[Mention]) -> str:
    """The most central of the most frequent titles (closest to the others), so a large
    cluster costs a bounded number of comparisons."""
    counts = Counter(m.title for m in mentions)
    if len(counts) == 1:
        return mentions[0].title
    titles = sorted(counts, key=lambda t: (-counts[t], t))[:TITLE_CANDIDATES]
    weights = [counts[t] for t in titles]
    similarity = process.cdist(titles, titles, scorer=fuzz.token_set_ratio)
    centrality = [sum(row[k] * weights[k] for k in range(len(titles)) if k != i) + 100 * weights[i]
                  for i, row in enumerate(similarity.tolist())]
    best = max(range(len(titles)), key=lambda i: (centrality[i], -len(titles[i]), titles[i]))
    return titles[best]


def _actors(mentions: list[Mention]) -> list[str]:
    spellings: dict[str, Counter] = defaultdict(Counter)
    for m in mentions:
        for actor in m.actors:
            spellings[actor.lower()][actor] += 1
    ranked = sorted(spellings.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    return [max(forms.items(), key=lambda f: (f[1], f[0]))[0] for _, forms in ranked]


def build_event(mentions: list[Mention]) -> Event:
    """One timeline event from the mentions of one cluster."""
    ordered = mentions if _in_canonical_order(mentions) else sorted(mentions, key=_canonical)
    date, date_conflict = _best_date(ordered)
    statuses = {m.status for m in ordered}
    status = "happened" if "happened" in statuses else "ongoing" if "ongoing" in statuses else "expected"
    conflicts = [date_conflict] if date_conflict else []
    if len({m.article for m in ordered}) > 1:  # one source cannot disagree with itself
        # Cheap tests on all the quotes at once before the slower patterns run on each.
        quotes = "\n".join(m.quote for m in ordered)
        if _DIGIT.search(quotes) and (figures := _figures(ordered)):
            conflicts.append(figures)
        if _ROLE_HINT.search(quotes) and (titles := _titles(ordered)):
            conflicts.append(titles)
    identity = hashlib.sha256("|".join(f"{m.article}:{m.offset}:{m.title}" for m in ordered).encode())
    return Event(
        id="ev-" + identity.hexdigest()[:12],
        title=_title(ordered),
        date=date,
        status=status,
        actors=_actors(ordered),
        mentions=ordered,
        sources=len({m.article for m in ordered}),
        conflicts=conflicts,
    )


def merge(mentions: Iterable[Mention], adjudicate: Adjudicator | None = None) -> list[Event]:
    """The merged timeline, in date order (unplaced events last)."""
    # Merging allocates many small objects and frees none of them early; the cyclic garbage
    # collector's full passes over them grow with the input and make large merges super-linear.
    # It is paused for the merge and restored after (no reference cycles are created here).
    paused = gc.isenabled()
    gc.disable()
    try:
        events = [build_event(group) for group in cluster(mentions, adjudicate)]
    finally:
        if paused:
            gc.enable()
    return sorted(events, key=lambda e: (e.date.sort_key(), -e.sources, e.title, e.id))

