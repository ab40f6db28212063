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
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from itertools import pairwise, repeat

from pydantic import BaseModel
from rapidfuzz import fuzz, process

from .dates import format_span
from .models import PRECISION_RANK, Conflict, DateSpan, Event, Mention

SAME_EVENT = 0.18
"""Score at or above which two date-compatible mentions are one event (tuned with WEIGHTS)."""
COHESION = 0.08
"""Mean score two clusters' members must reach to join (see _Linker)."""
COHESION_SAMPLE = 8
UNSURE = 0.7 * SAME_EVENT
"""Scores from here up to SAME_EVENT are unsure: merged only if the adjudicator says so."""
STRONG_TEXT = 0.6
"""Score that merges despite conflicting dates (the conflict is then reported)."""
BLOCK_KEYS = 8
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
    """An actor by the last word of its name ("Vladimir Putin" -> "putin")."""
    parts = name.rsplit(None, 1)
    return parts[-1].lower().strip(".,;:'’\"()") if parts else ""


_OPEN = (-(10**9), 10**9)


def _bounds(span: DateSpan) -> tuple[int, int]:
    """A placed span as day ordinals; vague or unplaced spans constrain nothing."""
    if span.vague or not span.is_known:
        return _OPEN
    return _window(span)


def _window(span: DateSpan) -> tuple[int, int]:
    """The days a mention can be about, for the date guard. A vague span still bounds one side:
    what "happened" in an article of 17 March, with no date, happened by 17 March, so it is not
    the call that article expects on the 18th."""
    if not span.is_known:
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


_ASCII_PUNCTUATION = bytes(b if chr(b).isalnum() or b == 0x2D or b >= 0x80 else 0x20 for b in range(256))
"""A byte table: ASCII punctuation and spaces become spaces; letters, digits, hyphens and the
bytes of non-ASCII characters stay."""
_WIDE_PUNCTUATION = "’‘“”–—…«»„‚·•"


def _flat(texts: list[str]):
    """All words of all texts, case kept, in one list, and the index of the text each comes from.

    Built for 100,000 mentions: one byte-table ``translate`` and one ``split`` over all texts
    joined, instead of a regular expression and a list per text. Few container objects are made, so
    the cyclic garbage collector has little to walk through (the merge used to pause it).
    """
    import numpy as np

    separator = "\ue000"  # a private-use character: not white space, not in any text
    joined = f" {separator} ".join(t.replace(separator, " ") for t in texts)
    for mark in _WIDE_PUNCTUATION:
        joined = joined.replace(mark, " ")
    tokens = joined.encode("utf-8").translate(_ASCII_PUNCTUATION).decode("utf-8").split()
    boundary = np.fromiter(map(separator.__eq__, tokens), dtype=bool, count=len(tokens))
    return tokens, np.cumsum(boundary)


# How much each kind of evidence weighs in a pair's score (see _Features.scores). Tuned on the
# seed set (tests/seed_gold.py) with clean and with weak titles; checked on held-out Timeline17
# articles by benchmarks/merge_quality.py.
WEIGHTS = {"quote_overlap": 0.5, "quote_jaccard": 0.3, "title": 0.5, "names": 0.4, "numbers": 0.1,
           "status_clash": 0.2}
_SCALE = sum(w for k, w in WEIGHTS.items() if k != "status_clash")


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
        quote_tokens, quote_rows = _flat([m.quote for m in mentions])
        title_tokens, title_rows = _flat([m.title for m in mentions])
        actor_rows = [row for row, m in enumerate(mentions) for _ in m.actors]
        actor_keys = [_actor_key(a) for m in mentions for a in m.actors]
        # What each distinct written word stands for. Words: stems of content words. Names: the
        # quote's capitalised words that are not common words (a rule rather than a tagger: news
        # capitalises names, and a model-based tagger would need a download), with the actors
        # the model listed. Numbers: words that start with a digit.
        lower = {t: t.lower() for t in set(quote_tokens) | set(title_tokens)}
        word = {t: _stem(low) for t, low in lower.items() if len(low) > 1 and low not in _STOPWORDS}
        name = {t: low for t, low in lower.items() if t[:1].isupper() and low not in _STOPWORDS}
        number = {t: "#" + low for t, low in lower.items() if low[:1].isdigit()}
        # Ids follow the sorted keys, so ties break the same way in every run whatever the
        # string hashing.
        self.vocabulary = sorted({*word.values(), *name.values(), *number.values(), *filter(None, actor_keys)})
        position = {key: i for i, key in enumerate(self.vocabulary)}

        def entries(tokens: list[str], rows, keys: dict[str, str]):
            ids = {t: position[k] for t, k in keys.items()}
            found = np.fromiter(map(ids.get, tokens, repeat(-1)), dtype=np.int64, count=len(tokens))
            return rows[found >= 0], found[found >= 0]

        actors = (np.array(actor_rows, dtype=np.int64),
                  np.array([position.get(k, -1) for k in actor_keys], dtype=np.int64))
        actors = (actors[0][actors[1] >= 0], actors[1][actors[1] >= 0])
        self.quotes = self._matrix(entries(quote_tokens, quote_rows, word))
        self.titles = self._matrix(entries(title_tokens, title_rows, word))
        quote_names = entries(quote_tokens, quote_rows, name)
        self.names = self._matrix((np.concatenate((quote_names[0], actors[0])),
                                   np.concatenate((quote_names[1], actors[1]))))
        self.numbers = self._matrix(entries(quote_tokens, quote_rows, number))
        everything = (self.quotes + self.titles + self.names + self.numbers).tocsr()
        everything.data[:] = 1.0
        self.words = everything
        self.frequency = np.bincount(everything.indices, minlength=len(self.vocabulary))
        self.idf = np.log((n + 1) / np.maximum(self.frequency, 1))
        self.weight = {name: matrix @ self.idf for name, matrix in
                       (("quotes", self.quotes), ("titles", self.titles), ("names", self.names))}

    def _matrix(self, entries):
        """Binary rows from (row, id) pairs: each token once per mention."""
        import numpy as np
        from scipy.sparse import csr_matrix

        rows, ids = entries
        width = max(len(self.vocabulary), 1)
        codes = _sorted_unique(rows * width + ids)
        rows, ids = codes // width, codes % width
        indptr = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=self.n))))
        return csr_matrix((np.ones(len(ids)), ids, indptr), shape=(self.n, len(self.vocabulary)))

    def block_keys(self) -> tuple:
        """(row, key) for each mention's BLOCK_KEYS rarest tokens that other mentions share."""
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

    def _shared(self, matrix, first, second):
        """The IDF of the tokens each pair shares in ``matrix``."""
        import numpy as np

        return np.asarray(matrix[first].multiply(matrix[second]) @ self.idf).ravel()

    def scores(self, first, second, same_sentence, status_clash):
        """Score of each pair (first[k], second[k]), 0 to 1: the quotes' shared words (as overlap
        and as Jaccard), the titles' and the names' shared words (Jaccard), shared numbers, less a
        penalty where one reports as done what the other reports as planned. Mentions quoting
        the same sentence of one article prove nothing by their quote (one sentence can report
        several events): for them only the titles count."""
        import numpy as np

        def ratio(shared, total):
            return np.divide(shared, total, out=np.zeros_like(shared), where=total > 0)

        quote = self._shared(self.quotes, first, second)
        qa, qb = self.weight["quotes"][first], self.weight["quotes"][second]
        title = self._shared(self.titles, first, second)
        ta, tb = self.weight["titles"][first], self.weight["titles"][second]
        names = self._shared(self.names, first, second)
        na, nb = self.weight["names"][first], self.weight["names"][second]
        numbers = (np.asarray(self.numbers[first].multiply(self.numbers[second]).sum(axis=1)).ravel() > 0)
        evidence = np.where(same_sentence, 0.0, WEIGHTS["quote_overlap"] * ratio(quote, np.minimum(qa, qb))
                            + WEIGHTS["quote_jaccard"] * ratio(quote, qa + qb - quote)
                            + WEIGHTS["names"] * ratio(names, na + nb - names)
                            + WEIGHTS["numbers"] * numbers)
        score = evidence + WEIGHTS["title"] * ratio(title, ta + tb - title) - WEIGHTS["status_clash"] * status_clash
        return score / _SCALE


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


class _Linker:
    """Union-find over the candidate pairs, best first, with two guards.

    - Dates: each cluster keeps the intersection of its mentions' date windows, so a chain of
      pairwise matches cannot join reports of different days (a strong textual match still
      merges, and the conflict is reported).
    - Cohesion: two clusters join only if their members are on average alike
      (``COHESION``, over up to ``COHESION_SAMPLE`` members of each), not merely one pair: one
      mention that resembles two happenings cannot chain them into one.

    Components of one candidate pair cannot be refused by either guard and skip the loop.
    """

    def __init__(self, features: _Features, pairs, scores, window, mentions: list[Mention],
                 sentence, status):
        self.features, self.window, self.mentions = features, window, mentions
        self.sentence, self.status = sentence, status
        self.n = len(mentions)
        self.known = dict(zip((pairs[0] * self.n + pairs[1]).tolist(), scores.tolist(), strict=True))

    def cohesive(self, first: list[int], second: list[int]) -> bool:
        """Whether the two clusters' members are alike on average (see the class docstring)."""

        if len(first) == 1 and len(second) == 1:
            return True  # the pair's own score passed the threshold
        n, known = self.n, self.known
        total = 0.0
        for a in first[:COHESION_SAMPLE]:
            for b in second[:COHESION_SAMPLE]:
                total += known.get(a * n + b if a < b else b * n + a, 0.0)
        count = min(len(first), COHESION_SAMPLE) * min(len(second), COHESION_SAMPLE)
        return total / count >= COHESION

    def link(self, first, second, values, adjudicate: Adjudicator | None) -> list[int]:
        """Each mention's cluster, as a representative index."""
        import numpy as np
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        n = len(self.mentions)
        _, label = connected_components(coo_matrix((np.ones(len(first)), (first, second)), shape=(n, n)),
                                        directed=False)
        one_pair = np.bincount(label, minlength=n) == 2
        if adjudicate is not None:
            one_pair[:] = False
        parent = list(range(n))
        alone = one_pair[label[first]]
        for i, j, value in zip(first[alone].tolist(), second[alone].tolist(), values[alone].tolist(), strict=True):
            if self._dates_agree(i, j) or value >= STRONG_TEXT:
                parent[max(i, j)] = min(i, j)
        loop = ~one_pair[label[first]]
        order = np.lexsort((second[loop], first[loop], -values[loop]))
        bounds = {i: (int(self.window[i, 0]), int(self.window[i, 1])) for i in range(n)}
        members = {i: [i] for i in range(n)}

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
            if not self.cohesive(members[root_i], members[root_j]):
                continue
            if value < SAME_EVENT and (adjudicate is None or not adjudicate(self.mentions[i], self.mentions[j])):
                continue
            root, child = min(root_i, root_j), max(root_i, root_j)
            parent[child] = root
            members[root] += members.pop(child)
            if agree:
                bounds[root] = (max(lo_i, lo_j), min(hi_i, hi_j))
        return [find(i) for i in range(n)]

    def _dates_agree(self, i: int, j: int) -> bool:
        return max(self.window[i, 0], self.window[j, 0]) <= min(self.window[i, 1], self.window[j, 1])


def cluster(mentions: Iterable[Mention], adjudicate: Adjudicator | None = None) -> list[list[Mention]]:
    """Group mentions of the same event. Deterministic and independent of input order."""
    import numpy as np

    ordered = sorted(mentions, key=_canonical)
    if len(ordered) < 2:
        return [[m] for m in ordered]
    features = _Features(ordered)
    window = np.array([_window(m.date) for m in ordered], dtype=np.int64)
    order_rank = _date_order(ordered)
    first, second = _candidate_pairs(features, ordered, order_rank)

    sentence_ids: dict[tuple[str, str], int] = {}
    sentence = np.array([sentence_ids.setdefault((m.article, m.quote), len(sentence_ids)) for m in ordered])
    status = np.array([{"happened": 1, "expected": 2}.get(m.status, 0) for m in ordered])
    values = np.empty(len(first))
    for start in range(0, len(first), PAIR_BATCH):
        part = slice(start, start + PAIR_BATCH)
        a, b = first[part], second[part]
        values[part] = features.scores(a, b, sentence[a] == sentence[b], (status[a] * status[b]) == 2)
    linker = _Linker(features, (first, second), values, window, ordered, sentence, status)
    apart = (window[first, 0] > window[second, 1]) | (window[second, 0] > window[first, 1])
    # Without an adjudicator, unsure pairs can never merge: drop them before the loop.
    keep = values >= np.where(apart, STRONG_TEXT, UNSURE if adjudicate else SAME_EVENT)
    parent = linker.link(first[keep], second[keep], values[keep], adjudicate)

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


MAX_EVENT_ACTORS = 6


def build_event(mentions: list[Mention]) -> Event:
    """One timeline event from the mentions of one cluster.

    Mentions quoting the same text of the same article are one report: only the first (in
    canonical order) is kept, so a quote never appears twice in an event.
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
        actors=_actors(ordered)[:MAX_EVENT_ACTORS],
        mentions=ordered,
        sources=len({m.article for m in ordered}),
        conflicts=conflicts,
    )


def merge(mentions: Iterable[Mention], adjudicate: Adjudicator | None = None) -> list[Event]:
    """The merged timeline, in date order (unplaced events last)."""
    events = [build_event(group) for group in cluster(mentions, adjudicate)]
    return sorted(events, key=lambda e: (e.date.sort_key(), -e.sources, e.title, e.id))

