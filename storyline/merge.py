"""Merge event mentions from all chunks and articles into one timeline.

Candidates are blocked, never compared all-pairs: each mention is indexed under its rarest
content words and actors, paired only within a block (or, in a large block, with its nearest
neighbours in date order). A pair merges when its dates are compatible and its wording and
actors agree; unsure pairs can be put to the model (``adjudicate``). Clusters are built in a
canonical order, so the result does not depend on the order of the input.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

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
NEIGHBOURS = 5

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


def _words(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOPWORDS and len(w) > 1}


def _actor_key(name: str) -> str:
    parts = _WORD.findall(name.lower())
    return parts[-1] if parts else ""


@dataclass
class _Item:
    """A mention with the word sets it is compared by: ``headline`` (title and actors) and
    ``words`` (those plus the quote's)."""

    index: int
    mention: Mention
    headline: frozenset[str]
    words: frozenset[str]
    headline_weight: float = 0.0
    words_weight: float = 0.0


def _canonical(mention: Mention) -> tuple:
    return (mention.article, mention.offset, mention.chunk, mention.title, mention.quote, mention.when,
            mention.status, tuple(mention.actors))


def dates_compatible(a: DateSpan, b: DateSpan) -> bool | None:
    """Whether two spans can describe the same moment; None when either is unplaced."""
    if not a.is_known or not b.is_known:
        return None
    return a.overlaps(b)


def _score(a: _Item, b: _Item, idf: dict[str, float]) -> float:
    """How alike two mentions are, 0 to 1: words are weighted by rarity (IDF over the mention
    set), so "ironclad" or "peacekeepers" count and "Trump" or "ceasefire" barely do. Half is
    the weighted Jaccard of the headlines, half the weighted overlap of all words."""
    shared_headline = sum(idf[w] for w in a.headline & b.headline)
    union = a.headline_weight + b.headline_weight - shared_headline
    headline = shared_headline / union if union else 0.0
    if a.mention.article == b.mention.article and a.mention.quote == b.mention.quote:
        # One sentence can report several events: a shared quote proves nothing.
        smaller = min(a.headline_weight, b.headline_weight)
        return 0.5 * headline + 0.5 * (shared_headline / smaller if smaller else 0.0)
    smaller = min(a.words_weight, b.words_weight)
    overlap = sum(idf[w] for w in a.words & b.words) / smaller if smaller else 0.0
    return 0.5 * headline + 0.5 * overlap


Adjudicator = Callable[[Mention, Mention], bool]


class AdjudicationOutput(BaseModel):
    """The model's verdict on an unsure pair (prompt: ``adjudicate.j2``)."""

    same: bool


def _candidate_pairs(items: list[_Item], frequency: Counter) -> set[tuple[int, int]]:
    """Blocking: mentions are paired only when they share one of their rarest words or a
    precise date; inside a large block, only with their nearest neighbours in date order.
    Near-linear in the number of mentions."""
    blocks: dict[str, list[_Item]] = defaultdict(list)
    for item in items:
        keys = sorted((k for k in item.words if frequency[k] > 1), key=lambda k: (frequency[k], k))
        for key in keys[:BLOCK_KEYS]:
            blocks[key].append(item)
        span = item.mention.date
        if span.start is not None and span.width_days() <= 7:
            blocks[f"date:{span.start.isoformat()}"].append(item)  # same-day reports always meet
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        if len(members) <= 2 * NEIGHBOURS:
            for i, a in enumerate(members):
                for b in members[i + 1 :]:
                    pairs.add((a.index, b.index))
            continue
        ordered = sorted(members, key=lambda it: (it.mention.date.sort_key(), it.index))
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 : i + 1 + NEIGHBOURS]:
                pairs.add((min(a.index, b.index), max(a.index, b.index)))
    return pairs


def cluster(mentions: Iterable[Mention], adjudicate: Adjudicator | None = None) -> list[list[Mention]]:
    """Group mentions of the same event. Deterministic and independent of input order."""
    ordered = sorted(mentions, key=_canonical)
    items = []
    for i, m in enumerate(ordered):
        headline = frozenset(_words(m.title) | {k for a in m.actors if (k := _actor_key(a))})
        items.append(_Item(i, m, headline, headline | _words(m.quote)))
    frequency = Counter(w for item in items for w in item.words)
    total = len(items) + 1
    idf = {w: math.log(total / count) for w, count in frequency.items()}
    for item in items:
        item.headline_weight = sum(idf[w] for w in item.headline)
        item.words_weight = sum(idf[w] for w in item.words)

    scored = []
    for i, j in _candidate_pairs(items, frequency):
        a, b = items[i], items[j]
        value = _score(a, b, idf)
        if value < UNSURE:
            continue
        if dates_compatible(a.mention.date, b.mention.date) is False and value < STRONG_TEXT:
            continue
        scored.append((-value, i, j))
    scored.sort()

    parent = list(range(len(items)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for negative, i, j in scored:
        root_i, root_j = find(i), find(j)
        if root_i == root_j:
            continue
        if -negative < SAME_EVENT and (adjudicate is None or not adjudicate(items[i].mention, items[j].mention)):
            continue
        parent[max(root_i, root_j)] = min(root_i, root_j)

    groups: dict[int, list[Mention]] = defaultdict(list)
    for item in items:
        groups[find(item.index)].append(item.mention)
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
    by_width = sorted(placed, key=lambda m: (m.date.width_days(), m.date.sort_key(), m.article))
    for candidate in by_width:
        if all(candidate.date.overlaps(other.date) for other in placed):
            return candidate.date, None
    values: dict[str, list[str]] = defaultdict(list)
    for m in placed:
        label = format_span(m.date)
        if m.article not in values[label]:
            values[label].append(m.article)
    chosen = max(placed, key=lambda m: (len(values[format_span(m.date)]), -m.date.width_days()))
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


def _title(mentions: list[Mention]) -> str:
    """The most central of the mentions' titles (closest to all the others)."""
    titles = sorted({m.title for m in mentions})
    if len(titles) == 1:
        return titles[0]
    counts = Counter(m.title for m in mentions)
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
    ordered = sorted(mentions, key=_canonical)
    date, date_conflict = _best_date(ordered)
    statuses = {m.status for m in ordered}
    status = "happened" if "happened" in statuses else "ongoing" if "ongoing" in statuses else "expected"
    conflicts = [c for c in (date_conflict, _figures(ordered), _titles(ordered)) if c]
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
    events = [build_event(group) for group in cluster(mentions, adjudicate)]
    return sorted(events, key=lambda e: (e.date.sort_key(), -e.sources, e.title, e.id))

