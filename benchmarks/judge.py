"""A real model as the merge's judge (``--adjudicate``) on the two hand-labelled sets of
``merge_quality.py``: B³ F1 with clean and weak titles, beside the merge without a judge, the
questions asked, how many of the judge's answers the hand labels agree with, and its seconds.

Three sources of mentions:

- the labelled sets as a perfect extractor would give them (seeds, and Timeline17's BP articles
  of 16 June 2010, which the merge was not tuned on);
- the seeds as the 1.5B model really extracts them (``--real``): each mention labelled by the
  hand-labelled sentence it quotes; B³ counts only the mentions that quote a labelled sentence.

Then, on the first ``--sample-pairs`` questions the judge was asked, one answer (greedy: the
likelier of "true" and "false" on the constrained token, which is what reading the answer as a
probability and cutting at one half gives) against a majority of five answers sampled at
temperature 0.7: judge right and seconds of each.

Model calls are cached (``--cache-dir``), so a rerun costs nothing.

    python benchmarks/judge.py --models qwen2.5-coder-1.5b qwen2.5-coder-0.5b
"""

from __future__ import annotations

import argparse
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
from storyline.errors import UnreliableAdjudicatorError
from storyline.ingest import load_articles
from storyline.merge import Adjudicator, merge
from storyline.models import ArticleInfo, Mention
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


def majority_against_greedy(judge_pipeline: Pipeline, articles, labels: dict,
                            questions: list[tuple[Mention, Mention, bool]], cache_dir: Path) -> None:
    """Judge right and seconds on the same questions: one greedy answer, and the majority of
    SAMPLES answers drawn at temperature 0.7."""
    greedy = Recorder(judge_pipeline.adjudicator(articles))
    samplers = [Pipeline(judge_pipeline.backend, adjudicate=True, temperature=0.7, seed=seed, cache_dir=cache_dir)
                for seed in range(1, SAMPLES + 1)]
    voters = [Recorder(p.adjudicator(articles)) for p in samplers]
    greedy_answers, majority = [], []
    for first, second, _ in questions:
        greedy_answers.append((first, second, greedy(first, second)))
        votes = sum(voter(first, second) for voter in voters)
        majority.append((first, second, 2 * votes > SAMPLES))
    print(f"{'':<4}one greedy answer: right {agreement(labels, greedy_answers)}, {greedy.seconds:.1f} s; "
          f"majority of {SAMPLES} at temperature 0.7: right {agreement(labels, majority)}, "
          f"{sum(v.seconds for v in voters):.1f} s (seconds are 0 where the cache answered)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["qwen2.5-coder-1.5b"])
    parser.add_argument("--real", action="store_true", help="also the 1.5B model's real extraction of the seeds")
    parser.add_argument("--sample-pairs", type=int, default=40)
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "storyline-bench")
    args = parser.parse_args()

    extractor = Pipeline(model="qwen2.5-coder-1.5b", cache_dir=args.cache_dir) if args.real else None
    print(f"{'set':<48}{'titles':<9}{'judge':<20}{'questions':>10}{'right':>9}{'trusted':>8}{'B3 F1':>7}"
          f"{'seconds':>9}")
    for model in args.models:
        pipeline = Pipeline(model=model, adjudicate=True, cache_dir=args.cache_dir)
        cases = labelled_sets() + (real_sets(extractor) if extractor else [])
        sample = None
        for name, titles, score, labels, articles in cases:
            alone = score(None)
            print(f"{name:<48}{titles:<9}{'none':<20}{'':>10}{'':>9}{'':>8}{alone:>7.3f}")
            judge = Recorder(pipeline.adjudicator(articles))
            f1, trusted = judged_run(judge, score)
            print(f"{'':<48}{titles:<9}{model:<20}{len(judge.asked):>10}{agreement(labels, judge.asked):>9}"
                  f"{'yes' if trusted else 'no':>8}{f1:>7.3f}{judge.seconds:>9.1f}")
            if sample is None and titles == "weak":
                sample = (articles, labels, judge.asked[: args.sample_pairs])
        if sample:
            print(f"{model}, the first {len(sample[2])} questions on the seeds with weak titles:")
            majority_against_greedy(pipeline, sample[0], sample[1], sample[2], args.cache_dir)
        pipeline.close()
    if extractor:
        extractor.close()


if __name__ == "__main__":
    main()
