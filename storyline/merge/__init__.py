"""Merge event mentions from all chunks and articles into one timeline.

The parts, each with one job: ``text`` (the mentions as words and sparse vectors), ``columns``
(dates, articles, sentences, statuses), ``titles`` (which titles are evidence), ``scoring`` (a
pair's score), ``blocking`` (which pairs are compared at all), ``linking`` (pairs joined into
clusters under a date guard and a cohesion guard), ``judge`` (the model asked about unsure pairs,
checked first) and ``events`` (an event from a cluster). The tuned numbers are one
``MergeSettings`` (``settings``), passed in.

Candidates are blocked, never compared all-pairs, and scored all at once (numpy, scipy). A pair
merges when its dates are compatible and its wording and names agree; unsure pairs can be put to
the model (``adjudicate``). Clusters are built in a canonical order, so the result does not
depend on the order of the input.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from ..models import Event, Mention
from .blocking import candidate_pairs
from .columns import Columns
from .events import build_event, canonical
from .judge import AdjudicationOutput, check_adjudicator, without_untrusted_titles
from .linking import Adjudicator, Linker
from .scoring import Scorer, score_pairs
from .settings import DEFAULT_SETTINGS, MergeSettings, Weights
from .text import Vectors
from .titles import title_trust

__all__ = ["DEFAULT_SETTINGS", "AdjudicationOutput", "Adjudicator", "MergeSettings", "Weights", "build_event",
           "cluster", "merge", "story_topic"]


def cluster(mentions: Iterable[Mention], adjudicate: Adjudicator | None = None, *,
            settings: MergeSettings = DEFAULT_SETTINGS) -> list[list[Mention]]:
    """Group mentions of the same event. Deterministic and independent of input order.

    The same text of one article with the same title, time expression and status, given more
    than once (a reply that names one sentence twice), is one report and is
    linked once: a title copied from that text is no evidence, so the copies could not
    otherwise be told to belong together.
    """
    return [[mention for mention, _ in group] for group in _clusters(mentions, adjudicate, settings)]


def _clusters(mentions: Iterable[Mention], adjudicate: Adjudicator | None,
              settings: MergeSettings) -> list[list[tuple[Mention, int]]]:
    """The groups of ``cluster``, each mention with how far its title can be trusted."""
    ordered = sorted(mentions, key=canonical)
    first_copy: dict[str, int] = {}
    copy_of = [first_copy.setdefault(
        f"{m.article}\x00{m.title.casefold()}\x00{m.when.casefold()}\x00{m.status}\x00{m.quote}", i)
               for i, m in enumerate(ordered)]
    reports = [m for i, m in enumerate(ordered) if copy_of[i] == i]
    place = {index: k for k, index in enumerate(first_copy.values())}
    parent, trust = _link(reports, adjudicate, settings)
    groups: dict[int, list[tuple[Mention, int]]] = defaultdict(list)
    for index, mention in enumerate(ordered):
        report = place[copy_of[index]]
        groups[parent[report]].append((mention, trust[report]))
    return list(groups.values())


def _link(reports: list[Mention], adjudicate: Adjudicator | None,
          settings: MergeSettings) -> tuple[list[int], list[int]]:
    """Each report's cluster, as the index of a representative (reports in canonical order),
    and its title's trust (``titles.TitleTrust.levels``)."""
    import numpy as np

    vectors, columns = Vectors(reports), Columns(reports)
    titles = title_trust(vectors, columns, settings)
    trust = titles.levels()
    if len(reports) < 2:
        return list(range(len(reports))), trust
    window = columns.window
    first, second = candidate_pairs(vectors, columns, titles.informative, settings)
    values = score_pairs(Scorer(vectors, settings.weights, titles), columns, first, second)
    linker = Linker((first, second), values, window, reports, settings)
    apart = (window[first, 0] > window[second, 1]) | (window[second, 0] > window[first, 1])
    if adjudicate is None:  # unsure pairs can never merge: drop them before the loop
        keep = values >= np.where(apart, settings.strong_text, settings.same_event)
        return linker.link(first[keep], second[keep], values[keep], None, None), trust
    words_only = ~(titles.informative[first] & titles.informative[second])
    keep = values >= np.where(apart, settings.strong_text, np.where(words_only, settings.review_floor,
                                                                    settings.unsure))
    overruled = settings.strong_text if settings.judge_overrules_words else settings.same_event
    asked = np.where(words_only, values < overruled, values < settings.same_event)
    adjudicate = without_untrusted_titles(adjudicate, reports, trust)
    if asked[keep].any():  # no question, no need to check the judge
        check_adjudicator(adjudicate, reports, Scorer(vectors, settings.weights), columns, (first, second), values,
                          apart, settings)
    return linker.link(first[keep], second[keep], values[keep], asked[keep], adjudicate), trust


def story_topic(mentions: Iterable[Mention], settings: MergeSettings = DEFAULT_SETTINGS) -> frozenset[str]:
    """The story's commonest words, folded as ``grounding.content_keys`` folds them (those at
    least ``settings.topic_share`` of the quotes write, and ``settings.topic_quotes`` at least):
    a headline that writes one its sentence does not is a guess (``headlines.accepted``; the
    merge tests its titles so, on all at once: ``titles``)."""
    from ..grounding import content_keys

    quotes = [m.quote for m in mentions]
    writing = Counter(key for quote in quotes for key in set(content_keys(quote)))
    floor = max(settings.topic_quotes, settings.topic_share * len(quotes))
    return frozenset(key for key, count in writing.items() if count >= floor)


def merge(mentions: Iterable[Mention], adjudicate: Adjudicator | None = None, *,
          settings: MergeSettings = DEFAULT_SETTINGS) -> list[Event]:
    """The merged timeline, in date order (unplaced events last)."""
    events = [build_event([m for m, _ in group], [level for _, level in group])
              for group in _clusters(mentions, adjudicate, settings)]
    return sorted(events, key=lambda e: (e.date.sort_key(), -e.sources, e.title, e.id))
