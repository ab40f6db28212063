"""Building one timeline event from the mentions of one cluster: its date (or the sources'
disagreement about it), title, status, actors, and the figures and roles its sources give
differently."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence
from itertools import pairwise

from rapidfuzz import fuzz, process

from ..dates import format_span
from ..models import Conflict, DateSpan, Event, Mention
from ..words import stem
from .columns import OPEN
from .titles import COUNTS, UNRELATED


def canonical(mention: Mention) -> tuple:
    return (mention.article, mention.offset, mention.chunk, mention.title, mention.quote, mention.when,
            mention.status, tuple(mention.actors))


def _in_canonical_order(mentions: list[Mention]) -> bool:
    """Clusters come out in canonical order already; checking is cheaper than sorting again."""
    keys = [(m.article, m.offset) for m in mentions]
    return all(a < b for a, b in pairwise(keys))


def _best_date(mentions: list[Mention]) -> tuple[DateSpan, Conflict | None]:
    """The most precise span consistent with every placed mention, if they all share a day; if
    not, the span that most sources' spans hold (the most precise of those), and a conflict.

    A span that overlaps every other one without that shared day ("last week" beside reports of
    20 April and of 22 April) is not chosen: it would hide the sources' disagreement behind a
    vaguer date, and take the event off the days it is reported on."""
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
    lows = [m.date.start.toordinal() if m.date.start else OPEN[0] for m in placed]
    highs = [m.date.end.toordinal() if m.date.end else OPEN[1] for m in placed]
    latest_start, earliest_end = max(lows), min(highs)
    if latest_start <= earliest_end:
        # Every span holds the shared days, so each overlaps every other one.
        best = min(placed, key=lambda m: (m.date.width_days(), m.date.sort_key(), m.article))
        return best.date, None
    values: dict[str, list[str]] = defaultdict(list)
    spans: dict[tuple[int, int], set[str]] = defaultdict(set)  # few distinct spans, however many reports
    for m, low, high in zip(placed, lows, highs, strict=True):
        label = format_span(m.date)
        if m.article not in values[label]:
            values[label].append(m.article)
        spans[low, high].add(m.article)
    # How many sources give a span that holds each one.
    support = {key: len(set().union(*(ids for (lo, hi), ids in spans.items() if lo <= key[0] and key[1] <= hi)))
               for key in spans}
    chosen = max(zip(placed, lows, highs, strict=True),
                 key=lambda p: (support[p[1], p[2]], -p[0].date.width_days(), format_span(p[0].date)))[0]
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
            noun_key = stem(noun.lower())
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


def _title(mentions: list[Mention], trust: Sequence[int]) -> str:
    """The most central of the most frequent titles (closest to the others), so a large
    cluster costs a bounded number of comparisons. Only the most trusted titles are candidates
    (``trust``, one level per mention: see ``titles``). An event none of whose mentions has a
    title, or only titles unrelated to their quotes or labels the model gave many things, gets
    none here: it is named later (``headlines``)."""
    import numpy as np

    titled = [(m, level) for m, level in zip(mentions, trust, strict=True) if m.title]
    best = max((level for _, level in titled), default=UNRELATED)
    if best == UNRELATED:
        return ""
    counts: dict[str, int] = {}
    for m, level in titled:
        if level == best:
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
    central = max(range(len(titles)), key=lambda i: (centrality[i], -len(titles[i]), titles[i]))
    return titles[central]


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


def _dating_reports_first(mentions: list[Mention], levels: list[int],
                          date: DateSpan) -> tuple[list[Mention], list[int]]:
    """The reports that give the event its date first, the rest after, each part in canonical
    order. The first report stands for the event (its headline is asked for that sentence, the
    summary and ``storyline eval`` quote it, the page shows it first), so it should be the one
    that says when: for the blast of 20 April, "Eleven workers were killed in the explosion on
    20 April", not a later article's aside ("the bid, which comes more than a month after the rig
    exploded, ...")."""
    placement = (date.start, date.end, date.qualifier)
    dating = [i for i, m in enumerate(mentions) if (m.date.start, m.date.end, m.date.qualifier) == placement]
    if not dating or dating[0] == 0:
        return mentions, levels
    first = set(dating)
    order = dating + [i for i in range(len(mentions)) if i not in first]
    return [mentions[i] for i in order], [levels[i] for i in order]


def build_event(mentions: list[Mention], title_trust: Sequence[int] | None = None) -> Event:
    """One timeline event from the mentions of one cluster.

    Mentions quoting the same text of the same article are one report: only the first (in
    canonical order) is kept, so a quote never appears twice in an event. ``title_trust``, one
    level per mention (from the clustering: see ``titles``), keeps titles that are not about
    their quotes from naming the event; without it every title counts.
    """
    trust = list(title_trust) if title_trust is not None else [COUNTS] * len(mentions)
    pairs = list(zip(mentions, trust, strict=True))
    if not _in_canonical_order(mentions):
        pairs.sort(key=lambda pair: canonical(pair[0]))
    reports: dict[tuple[str, int, str], tuple[Mention, int]] = {}
    for mention, level in pairs:
        reports.setdefault((mention.article, mention.offset, mention.quote), (mention, level))
    ordered = [mention for mention, _ in reports.values()]
    levels = [level for _, level in reports.values()]
    date, date_conflict = _best_date(ordered)
    ordered, levels = _dating_reports_first(ordered, levels, date)
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
        title=_title(ordered, levels),
        date=date,
        status=status,
        actors=_actors(ordered)[:MAX_EVENT_ACTORS],
        mentions=ordered,
        sources=len({m.article for m in ordered}),
        conflicts=conflicts,
    )
