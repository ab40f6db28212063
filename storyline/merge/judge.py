"""The adjudicator: a model asked whether two reports are one event, and checked before it is
trusted (``check_adjudicator``)."""

from __future__ import annotations

from pydantic import BaseModel

from ..errors import UnreliableAdjudicatorError
from ..models import Mention
from .blocking import place_in_run
from .columns import Columns
from .linking import Adjudicator
from .scoring import Scorer
from .settings import MergeSettings
from .titles import COUNTS


class AdjudicationOutput(BaseModel):
    """The model's verdict on an unsure pair (prompt: ``adjudicate.j2``)."""

    same: bool


def check_adjudicator(adjudicate: Adjudicator, reports: list[Mention], words_only: Scorer, columns: Columns,
                      pairs, values, apart, settings: MergeSettings) -> None:
    """Raise UnreliableAdjudicatorError if the adjudicator gets wrong the pairs that need no
    judge (see ``_surely_different`` and ``_surely_same``). Of each kind, ``settings.controls`` are asked;
    two wrong answers or more that are also a majority of their kind fail it (a judge right nine
    times in ten, each answer drawn independently, fails about one time in sixty). It catches a
    model that answers every pair alike (SmolLM2-135M says "yes" to all), not every weak one
    (Gemma-3-270m, mostly "no", passed on the held-out BP set). With fewer than two pairs of a
    kind, that kind is not checked."""
    kinds = {False: _surely_different(words_only, columns, pairs, values, apart, settings),
             True: _surely_same(columns, pairs, values, apart, settings)}
    for same, (first, second) in kinds.items():
        chosen = list(zip(first[:settings.controls].tolist(), second[:settings.controls].tolist(), strict=True))
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


def _surely_same(columns: Columns, pairs, values, apart, settings: MergeSettings) -> tuple:
    """Reports of two articles in nearly the same words (``strong_text``) on dates that agree,
    most alike first: one event."""
    first, second = pairs
    return _most_alike_first(pairs, values, ~apart & (columns.article[first] != columns.article[second])
                             & (values >= settings.strong_text))


def _surely_different(words_only: Scorer, columns: Columns, pairs, values, apart, settings: MergeSettings) -> tuple:
    """Pairs of reports that are different events: first those of two articles that place them
    on different days (each on a day or a week), most alike in words first; then sentences of
    one article (among its first ``control_reports`` reports) that share no word, name or number.
    Small models rarely give a date storyline can trust, so the second kind is most often all
    there is; one article does not tell one happening in two such sentences (hand labels: 1 of
    355 such pairs on the seeds, 2 of 32 on the BP set, are of one happening)."""
    import numpy as np

    first, second = pairs
    placed = (columns.day[first] >= 0) & (columns.day[second] >= 0)
    dated = _most_alike_first(pairs, values, apart & (columns.article[first] != columns.article[second]) & placed)
    article, n = columns.article, words_only.vectors.n
    position = place_in_run(article)  # reports are in canonical order: by article, then by place in it
    limit = settings.control_reports
    steps = range(1, limit)
    a = np.concatenate([np.arange(n - step) for step in steps])
    b = np.concatenate([np.arange(step, n) for step in steps])
    inside = (article[a] == article[b]) & (position[b] < limit) & (columns.sentence[a] != columns.sentence[b])
    a, b = a[inside], b[inside]
    score = words_only.scores(a, b, *columns.relations(a, b))
    unrelated = np.flatnonzero(score <= 0)
    order = unrelated[np.lexsort((b[unrelated], a[unrelated], score[unrelated]))]
    return np.concatenate((dated[0], a[order])), np.concatenate((dated[1], b[order]))


def without_untrusted_titles(adjudicate: Adjudicator, reports: list[Mention], levels: list[int]) -> Adjudicator:
    """The adjudicator, shown a title only where it counts: a label ("Ceremony") or the
    prompt's own example given to both reports would read to the model as a reason to merge."""
    untitled = {id(m): m.model_copy(update={"title": ""}) for m, level in zip(reports, levels, strict=True)
                if level != COUNTS}

    def shown(mention: Mention) -> Mention:
        return untitled.get(id(mention), mention)

    return lambda first, second: adjudicate(shown(first), shown(second))
