"""A real model as the merge's judge (``--adjudicate``) on the two hand-labelled sets of
``merge_quality.py``: B³ F1 with clean and weak titles, beside the merge without a judge, the
questions asked, how many of the judge's answers the hand labels agree with, and its seconds.

Three sources of mentions:

- the labelled sets as a perfect extractor would give them (seeds, and Timeline17's BP articles
  of 16 June 2010, which the merge was not tuned on);
- the seeds as the 1.5B model really extracts them (``--real``): each mention labelled by the
  hand-labelled sentence it quotes; B³ counts only the mentions that quote a labelled sentence.

The judge's answer is read as probabilities (``adjudication``: the log-odds of " true" against
" false" after the reply's forced opening, one forward pass; the verdict is the likelier). Then,
on pairs of known truth drawn from the band the merge can put to the judge (weak titles, dates
that agree, the words' score from ``review_floor`` up to ``strong_text``; ``--band-pairs`` of
each kind per set): how well the log-odds tell the pairs apart (AUC, beside the words' score),
the verdict at even odds and at the cut best on the seeds (and that cut on BP); and on
``--sample-pairs`` of them per set, the reading against a generated greedy reply and a majority
of five replies sampled at temperature 0.7: judge right and seconds of each.

Model calls are cached (``--cache-dir``), so a rerun costs nothing.

    python benchmarks/judge.py --models qwen2.5-coder-1.5b qwen2.5-coder-0.5b
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import heldout_bpoil
import seed_gold
from corpus import timeline17_article
from merge_quality import evaluate, heldout_mentions

from storyline import Pipeline
from storyline.adjudication import ModelJudge
from storyline.errors import UnreliableAdjudicatorError
from storyline.ingest import load_articles
from storyline.merge import DEFAULT_SETTINGS, Adjudicator, merge
from storyline.models import ArticleInfo, Mention, Stats
from storyline.testing import b_cubed

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
SAMPLES = 5


class Recorder:
    """An adjudicator that keeps every question, its answer and the seconds it took."""

    def __init__(self, adjudicate: Adjudicator) -> None:
        self.adjudicate = adjudicate
        self.asked: list[tuple[Mention, Mention, bool]] = []
        self.seconds = 0.0

    def __call__(self, first: Mention, second: Mention) -> bool:
        start = time.perf_counter()
        answer = self.adjudicate(first, second)
        self.seconds += time.perf_counter() - start
        self.asked.append((first, second, answer))
        return answer


def sentence_labels(pairs: list[tuple[str, Mention]]) -> dict[tuple[str, str], set[str]]:
    """(article, quote) -> the happenings that sentence reports."""
    labels: dict[tuple[str, str], set[str]] = {}
    for label, mention in pairs:
        labels.setdefault((mention.article, mention.quote.strip()), set()).add(label)
    return labels


def truly_same(labels: dict, first: Mention, second: Mention) -> bool | None:
    a, b = labels.get((first.article, first.quote.strip())), labels.get((second.article, second.quote.strip()))
    return None if a is None or b is None else bool(a & b)


def agreement(labels: dict, asked: list[tuple[Mention, Mention, bool]]) -> str:
    judged = [(truly_same(labels, a, b), answer) for a, b, answer in asked]
    known = [(truth, answer) for truth, answer in judged if truth is not None]
    if not known:
        return "-"
    return f"{sum(t == a for t, a in known)}/{len(known)}"


def labelled_f1(labels: dict, mentions: list[Mention], adjudicate: Adjudicator | None) -> float:
    """B³ F1 of the merge over the mentions that quote a labelled sentence (the first
    happening of a sentence that reports several)."""
    events = merge(mentions, adjudicate)
    truth, clusters = {}, []
    for event in events:
        cluster = []
        for mention in event.mentions:
            found = labels.get((mention.article, mention.quote.strip()))
            if found:
                truth[len(truth)] = sorted(found)[0]
                cluster.append(len(truth) - 1)
        if cluster:
            clusters.append(cluster)
    return b_cubed(clusters, truth)[2]


def real_seed_mentions(pipeline: Pipeline) -> tuple[list[Mention], list[ArticleInfo]]:
    articles = load_articles([SEEDS])
    return pipeline.extract(articles), [ArticleInfo(**a.model_dump(exclude={"text"})) for a in articles]


def seed_articles() -> list[ArticleInfo]:
    return [ArticleInfo(**a.model_dump(exclude={"text"})) for a in load_articles([SEEDS])]


def bp_articles() -> list[ArticleInfo]:
    found = {}
    for _, reports in heldout_bpoil.HAPPENINGS.values():
        for topic, article, *_ in reports:
            _, published = timeline17_article(topic, article)
            found[f"{topic}-{article}"] = ArticleInfo(id=f"{topic}-{article}", title=topic.split("_")[1],
                                                     published=published)
    return list(found.values())


def judged_run(judge: Recorder, run: Callable[[Adjudicator | None], float]) -> tuple[float, bool]:
    try:
        return run(judge), True
    except UnreliableAdjudicatorError:
        return run(None), False


def _scorer(pairs: list[tuple[str, Mention]], dates: dict) -> Callable[[Adjudicator | None], float]:
    return lambda adjudicate: evaluate(pairs, dates, adjudicate)[2]


def labelled_sets() -> list[tuple]:
    """(name, titles, mentions and their scoring, labels, articles) for every measured case."""
    cases = []
    for name, make, dates, articles in (("seeds", seed_gold.mentions, seed_gold.DATES, seed_articles()),
                                        ("BP 16 Jun 2010 (held out)", heldout_mentions, heldout_bpoil.DATES,
                                         bp_articles())):
        for titles in ("clean", "weak"):
            pairs = make(titles)
            cases.append((name, titles, _scorer(pairs, dates), sentence_labels(pairs), articles))
    return cases


def real_sets(pipeline: Pipeline) -> list[tuple]:
    mentions, articles = real_seed_mentions(pipeline)
    labels = sentence_labels(seed_gold.mentions("clean"))
    weak = [m.model_copy(update={"title": seed_gold.weak_title(m.quote)}) for m in mentions]
    return [(f"seeds, real 1.5B extraction ({len(mentions)} mentions)", titles,
             (lambda adjudicate, chosen=chosen: labelled_f1(labels, chosen, adjudicate)), labels, articles)
            for titles, chosen in (("model's", mentions), ("weak", weak))]


Pair = tuple[Mention, Mention, bool, float]
"""Two reports, whether they are one happening, and their words' score."""


def band_pairs(pairs: list[tuple[str, Mention]], per_kind: int, rng: random.Random) -> list[Pair]:
    """Up to ``per_kind`` pairs of one happening and as many of two, drawn from the pairs the
    merge could put to the judge: reports of two sentences whose dates agree and whose words alone
    score from ``review_floor`` up to ``strong_text`` (the titles do not count: weak titles)."""
    import numpy as np

    from storyline.merge.columns import Columns
    from storyline.merge.scoring import Scorer
    from storyline.merge.text import Vectors

    labels = sentence_labels(pairs)
    reports = list({(m.article, m.quote.strip()): m for _, m in pairs}.values())
    vectors, columns = Vectors(reports), Columns(reports)
    first, second = np.triu_indices(len(reports), 1)
    values = Scorer(vectors, DEFAULT_SETTINGS.weights).scores(first, second, *columns.relations(first, second))
    window = columns.window
    agree = ~((window[first, 0] > window[second, 1]) | (window[second, 0] > window[first, 1]))
    band = agree & (values >= DEFAULT_SETTINGS.review_floor) & (values < DEFAULT_SETTINGS.strong_text)
    chosen = []
    for same in (True, False):
        found = [(reports[a], reports[b], same, value) for a, b, value
                 in zip(first[band].tolist(), second[band].tolist(), values[band].tolist(), strict=True)
                 if truly_same(labels, reports[a], reports[b]) is same]
        chosen += rng.sample(found, min(per_kind, len(found)))
    return chosen


def _auc(scores: list[float], truth: list[bool]) -> float:
    """The chance that a pair of one happening scores above a pair of two (ties count half)."""
    same = [v for v, t in zip(scores, truth, strict=True) if t]
    different = [v for v, t in zip(scores, truth, strict=True) if not t]
    wins = sum((a > b) + 0.5 * (a == b) for a in same for b in different)
    return wins / (len(same) * len(different))


def _rates(odds: list[float], truth: list[bool], cut: float) -> tuple[float, float]:
    """(share of pairs of one happening called one, share of pairs of two called two)."""
    same = [o > cut for o, t in zip(odds, truth, strict=True) if t]
    different = [o <= cut for o, t in zip(odds, truth, strict=True) if not t]
    return sum(same) / len(same), sum(different) / len(different)


def reading_against_sampling(pipeline: Pipeline, per_kind: int, sampled: int) -> None:
    """The judge's answer read as probabilities, on pairs of known truth from the unsure band of
    both labelled sets: how well its log-odds tell the pairs apart (AUC, beside the words' own
    score), its verdict at even odds and at the cut best on the seeds; then, on the first
    ``sampled`` pairs of each set, the reading against a generated greedy reply and against a
    majority of SAMPLES replies drawn at temperature 0.7."""
    import numpy as np

    rng = random.Random(7)
    sets = [("seeds", seed_gold.mentions("weak"), seed_articles()),
            ("BP (held out)", heldout_mentions("weak"), bp_articles())]
    cuts = np.round(np.arange(-1.5, 1.51, 0.1), 1)
    best = None
    print(f"{'':<4}{'set':<16}{'pairs':>7}{'AUC log-odds':>14}{'AUC words':>11}{'even odds: one, two':>22}"
          f"{'cut':>6}{'at cut: one, two':>19}")
    for name, pairs, articles in sets:
        asked = band_pairs(pairs, per_kind, rng)
        judge = pipeline.adjudicator(articles)
        odds = [judge.log_odds(a, b) for a, b, _, _ in asked]
        truth = [t for _, _, t, _ in asked]
        words = [w for _, _, _, w in asked]
        if best is None:  # the cut with the best balanced rates on the seeds, kept for BP
            best = max(cuts, key=lambda cut: sum(_rates(odds, truth, cut)))
        even, at_cut = _rates(odds, truth, 0.0), _rates(odds, truth, best)
        print(f"{'':<4}{name:<16}{len(asked):>7}{_auc(odds, truth):>14.3f}{_auc(words, truth):>11.3f}"
              f"{f'{even[0]:.2f}, {even[1]:.2f}':>22}{best:>6.1f}{f'{at_cut[0]:.2f}, {at_cut[1]:.2f}':>19}")
        first = asked[:sampled // 2] + asked[per_kind:per_kind + sampled // 2]
        _three_ways(pipeline, articles, first)


def _three_ways(pipeline: Pipeline, articles, pairs: list[Pair]) -> None:
    """Judge right and seconds on the same pairs, each call made afresh (no cache, so the
    seconds compare): the reading, a generated greedy reply, and a majority of SAMPLES replies
    drawn at temperature 0.7."""
    fresh = Pipeline(pipeline.backend, adjudicate=True, use_cache=False)
    reading = fresh.adjudicator(articles)
    generated = ModelJudge(fresh.backend, fresh.prompts, Stats(), cache=None, articles=articles, read_answers=False)
    samplers = [Pipeline(pipeline.backend, adjudicate=True, temperature=0.7, seed=seed, use_cache=False)
                for seed in range(1, SAMPLES + 1)]
    voters = [sampler.adjudicator(articles) for sampler in samplers]
    right = {"reading": 0, "generated": 0, "majority": 0}
    agree = 0
    for first, second, truth, _ in pairs:
        read, made = reading(first, second), generated(first, second)
        majority = 2 * sum(voter(first, second) for voter in voters) > SAMPLES
        agree += read == made
        right["reading"] += read == truth
        right["generated"] += made == truth
        right["majority"] += majority == truth
    n = len(pairs)
    seconds = [judge.stats.stage("adjudicate").seconds for judge in (reading, generated)]
    sampled = sum(voter.stats.stage("adjudicate").seconds for voter in voters)
    print(f"{'':<8}{n} of these pairs: reading right {right['reading']}/{n}, {seconds[0]:.1f} s; generated "
          f"greedy reply right {right['generated']}/{n} (same verdict as the reading {agree}/{n}), "
          f"{seconds[1]:.1f} s; majority of {SAMPLES} at temperature 0.7 right {right['majority']}/{n}, "
          f"{sampled:.1f} s (model seconds, every call made afresh)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["qwen2.5-coder-1.5b"])
    parser.add_argument("--real", action="store_true", help="also the 1.5B model's real extraction of the seeds")
    parser.add_argument("--band-pairs", type=int, default=40, help="pairs of each kind per set for the reading")
    parser.add_argument("--sample-pairs", type=int, default=20, help="of those, pairs per set also sampled five times")
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "storyline-bench")
    args = parser.parse_args()

    extractor = Pipeline(model="qwen2.5-coder-1.5b", cache_dir=args.cache_dir) if args.real else None
    print(f"{'set':<48}{'titles':<9}{'judge':<20}{'questions':>10}{'right':>9}{'trusted':>8}{'B3 F1':>7}"
          f"{'seconds':>9}")
    for model in args.models:
        pipeline = Pipeline(model=model, adjudicate=True, cache_dir=args.cache_dir)
        cases = labelled_sets() + (real_sets(extractor) if extractor else [])
        for name, titles, score, labels, articles in cases:
            alone = score(None)
            print(f"{name:<48}{titles:<9}{'none':<20}{'':>10}{'':>9}{'':>8}{alone:>7.3f}")
            judge = Recorder(pipeline.adjudicator(articles))
            f1, trusted = judged_run(judge, score)
            print(f"{'':<48}{titles:<9}{model:<20}{len(judge.asked):>10}{agreement(labels, judge.asked):>9}"
                  f"{'yes' if trusted else 'no':>8}{f1:>7.3f}{judge.seconds:>9.1f}")
        print(f"{model}, its answer read as probabilities on pairs of the unsure band (weak titles):")
        reading_against_sampling(pipeline, args.band_pairs, args.sample_pairs)
        pipeline.close()
    if extractor:
        extractor.close()


if __name__ == "__main__":
    main()
