"""Merge event mentions from all chunks and articles into one timeline.

Candidates are blocked, never compared all-pairs: each mention is indexed under its rarest
content words and actors (and its day, when it has one), and meets only the nearest few
mentions of each block in date order. Pairs are scored all at once on sparse word vectors
(numpy, scipy). A pair merges when its dates are compatible and its wording and actors agree;
unsure pairs can be put to the model (``adjudicate``). Clusters are built in a canonical order,
so the result does not depend on the order of the input.
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

from pydantic import BaseModel
from rapidfuzz import fuzz

from .dates import format_span
from .models import Conflict, DateSpan, Event, Mention

SAME_EVENT = 0.225
"""Score at or above which two date-compatible mentions are one event. Chosen on the seed
mentions (tests/seed_mentions.py): every event there stays connected at 0.24 or more, and no
pair of different events scores above 0.21."""
UNSURE = 0.16
"""Scores from here up to SAME_EVENT are unsure: merged only if the adjudicator says so."""
STRONG_TEXT = 0.6
"""Score that merges despite conflicting dates (the conflict is then reported)."""
BLOCK_KEYS = 4
NEIGHBOURS = 6
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
    return all(a < b for a, b in itertools.pairwise(keys))


Adjudicator = Callable[[Mention, Mention], bool]


class AdjudicationOutput(BaseModel):
    """The model's verdict on an unsure pair (prompt: ``adjudicate.j2``)."""

    same: bool


class _Features:
    """The mentions as sparse word vectors, for scoring many pairs at once.

    ``headline`` holds the title's and actors' words, ``words`` those plus the quote's. Entries
    are sqrt(IDF), so a row product sums the IDF of the words two mentions share: rare words
    ("ironclad", "peacekeepers") count, common ones ("Trump", "ceasefire") barely do.
    """

    def __init__(self, mentions: list[Mention]):
        import numpy as np
        from scipy.sparse import csr_matrix

        # One dictionary lookup per word: each raw word maps straight to the id of its stem
        # (stop words and one-letter words to -1). Ids are renumbered in sorted order below, so
        # ties break the same way in every run whatever the string hashing.
        stem_ids: dict[str, int] = {}
        raw_ids: dict[str, int] = {}

        def ids_of(text: str) -> set[int]:
            found = set()
            for word in set(_WORD.findall(text.lower())):
                number = raw_ids.get(word)
                if number is None:
                    if len(word) < 2 or word in _STOPWORDS:
                        number = -1
                    else:
                        number = stem_ids.setdefault(_stem(word), len(stem_ids))
                    raw_ids[word] = number
                found.add(number)
            found.discard(-1)
            return found

        head_sets, word_sets = [], []
        for m in mentions:
            headline = ids_of(m.title)
            for actor in m.actors:
                if key := _actor_key(actor):
                    headline.add(stem_ids.setdefault(key, len(stem_ids)))
            head_sets.append(headline)
            word_sets.append(headline | ids_of(m.quote))
        self.vocabulary = sorted(stem_ids)
        renumber = np.empty(len(stem_ids), dtype=np.int64)
        renumber[[stem_ids[w] for w in self.vocabulary]] = np.arange(len(stem_ids))
        self.n = len(mentions)

        def matrix(sets: list[set[int]]):
            lengths = np.fromiter((len(x) for x in sets), dtype=np.int64, count=len(sets))
            indptr = np.concatenate(([0], np.cumsum(lengths)))
            flat = np.fromiter((i for x in sets for i in x), dtype=np.int64, count=int(indptr[-1]))
            ids = renumber[flat] if len(flat) else flat
            return csr_matrix((np.ones(len(ids)), ids, indptr), shape=(len(sets), len(self.vocabulary)))

        words = matrix(word_sets)
        self.frequency = np.bincount(words.indices, minlength=len(self.vocabulary))
        root_idf = np.sqrt(np.log((self.n + 1) / np.maximum(self.frequency, 1)))
        self.words = words.multiply(root_idf[None, :]).tocsr()
        self.headline = matrix(head_sets).multiply(root_idf[None, :]).tocsr()
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
    codes = np.sort(both[0] * features.n + both[1])
    codes = codes[np.concatenate(([True], codes[1:] != codes[:-1]))] if len(codes) else codes
    return codes // features.n, codes % features.n


def cluster(mentions: Iterable[Mention], adjudicate: Adjudicator | None = None) -> list[list[Mention]]:
    """Group mentions of the same event. Deterministic and independent of input order."""
    import numpy as np

    ordered = sorted(mentions, key=_canonical)
    if len(ordered) < 2:
        return [[m] for m in ordered]
    features = _Features(ordered)
    by_date = sorted(range(len(ordered)), key=lambda i: (ordered[i].date.sort_key(), i))
    order_rank = np.empty(len(ordered), dtype=np.int64)
    order_rank[by_date] = np.arange(len(ordered))
    first, second = _candidate_pairs(features, ordered, order_rank)

    window = np.array([_bounds(m.date) for m in ordered], dtype=np.int64)
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
    best_first = np.lexsort((second, first, -values))

    # Union-find over the pairs, best first. Each cluster keeps the intersection of its placed
    # dates, so a chain of pairwise matches cannot join reports of different days.
    parent = list(range(len(ordered)))
    bounds = [tuple(row) for row in window.tolist()]

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j, value in zip(first[best_first].tolist(), second[best_first].tolist(), values[best_first].tolist(),
                           strict=True):
        root_i, root_j = find(i), find(j)
        if root_i == root_j:
            continue
        (lo_i, hi_i), (lo_j, hi_j) = bounds[root_i], bounds[root_j]
        agree = max(lo_i, lo_j) <= min(hi_i, hi_j)
        if not agree and value < STRONG_TEXT:
            continue
        if value < SAME_EVENT and (adjudicate is None or not adjudicate(ordered[i], ordered[j])):
            continue
        root, child = min(root_i, root_j), max(root_i, root_j)
        parent[child] = root
        if agree:
            bounds[root] = (max(lo_i, lo_j), min(hi_i, hi_j))

    groups: dict[int, list[Mention]] = defaultdict(list)
    for index, mention in enumerate(ordered):
        groups[find(index)].append(mention)
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
        if not _ROLE_HINT.search(m.quote):
            continue  # cheap test first: the pattern below is slow on long quotes
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
    return max(
        titles,
        key=lambda t: (sum(fuzz.token_set_ratio(t, o) * counts[o] for o in titles if o != t) + 100 * counts[t],
                       -len(t), t),
    )


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
    several = len({m.article for m in ordered}) > 1  # one source cannot disagree with itself
    conflicts = [c for c in (date_conflict, several and _figures(ordered), several and _titles(ordered)) if c]
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

