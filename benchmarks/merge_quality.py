"""How well the merge groups mentions into happenings: B³ precision, recall and F1, with clean
titles (one per happening), with weak ones (each mention titled by its quote's first ten
words, as a small model often does) and with labels (one title, such as the prompt's example,
for every report of an article, as SmolLM2 and Gemma-3-270m wrote on the seeds), on two
hand-labelled sets:

- the seed articles (tests/seed_gold.py), the set the merge thresholds are tuned on;
- Timeline17's BP oil spill articles of 16 June 2010 from five outlets (heldout_bpoil.py), which
  the thresholds were not tuned on.

Mentions are what a perfect extractor would give: every labelled quote, its time expression as
written, storyline's own date resolver, no actors. "dates right" counts the happenings with a
known day whose event (the one holding most of their mentions) is placed on that day.

A second table shows the merge with an adjudicator (``--adjudicate``), which then decides the
pairs the articles' words leave unsure, as it does by default ("joins": only pairs the words
leave apart) and when it may also keep apart what the words join ("overrules",
``MergeSettings.judge_overrules_words``). The judge is simulated: it answers from the hand
labels, right about pairs of one happening and about pairs of two at the rates shown (each
answer drawn independently; mean of JUDGE_RUNS seeded runs): always, 95, 90 or 80 % of the
time, or "yes" to all, as SmolLM2-135M does. It shows what a judge of a given skill can do (a
real model is not equally good at every pair: Qwen2.5-Coder-1.5B gets the near-identical control
pairs right and most pairs of one happening in the unsure band wrong; ``benchmarks/judge.py``
runs it). "trusted" counts the runs where the judge passed the merge's control pairs; where it
did not, the merge went on without it.

    python benchmarks/merge_quality.py
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import heldout_bpoil
import seed_gold
from corpus import timeline17_article

from storyline.errors import UnreliableAdjudicatorError
from storyline.grounding import date_mention
from storyline.merge import DEFAULT_SETTINGS, Adjudicator, MergeSettings, merge
from storyline.models import Mention
from storyline.testing import b_cubed


def heldout_mentions(titles: seed_gold.Titles) -> list[tuple[str, Mention]]:
    found = []
    for label, (title, reports) in heldout_bpoil.HAPPENINGS.items():
        for topic, article, line, when, status in reports:
            lines, published = timeline17_article(topic, article)
            quote = lines[line]
            found.append((label, Mention(
                article=f"{topic}-{article}", quote=quote, when=when, status=status,
                title=seed_gold.title_for(titles, title, quote, f"{topic}-{article}"),
                date=date_mention(when, quote, status, published), offset=line)))
    return found


def evaluate(pairs: list[tuple[str, Mention]], dates: dict[str, tuple], adjudicate: Adjudicator | None = None,
             settings: MergeSettings = DEFAULT_SETTINGS) -> tuple[float, float, float, int, int, int]:
    mentions = [m for _, m in pairs]
    index = {(m.article, m.offset, m.title, m.quote): i for i, m in enumerate(mentions)}
    events = merge(mentions, adjudicate, settings=settings)
    clusters = [[index[(m.article, m.offset, m.title, m.quote)] for m in event.mentions] for event in events]
    held = {i for cluster in clusters for i in cluster}
    clusters += [[i] for i in range(len(mentions)) if i not in held]  # collapsed as duplicates
    precision, recall, f1 = b_cubed(clusters, {i: label for i, (label, _) in enumerate(pairs)})
    event_of = {i: events[k] for k, cluster in enumerate(clusters[: len(events)]) for i in cluster}
    right = 0
    for label, (start, end) in dates.items():
        members = [i for i, (other, _) in enumerate(pairs) if other == label]
        (most, _), = Counter(id(event_of[i]) for i in members if i in event_of).most_common(1)
        event = next(event_of[i] for i in members if id(event_of.get(i)) == most)
        right += (event.date.start, event.date.end) == (_day(start), _day(end))
    happenings = len({label for label, _ in pairs})
    return precision, recall, f1, right, len(dates), happenings


def _day(value):
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


JUDGE_RUNS = 40


def simulated_judge(pairs: list[tuple[str, Mention]], rates: tuple[float, float],
                    rng: random.Random) -> tuple[Adjudicator, list]:
    """An adjudicator answering from the hand labels, and the list of questions it was asked.
    ``rates``: how often it is right about a pair of one happening, and about a pair of two
    (each answer drawn independently). It is shown copies of the mentions (titles hidden where
    they do not count), so it knows them by their sentence."""
    labels: dict[tuple, set[str]] = {}
    for label, m in pairs:
        labels.setdefault((m.article, m.offset, m.quote), set()).add(label)
    asked: list[tuple[Mention, Mention]] = []

    def judge(first: Mention, second: Mention) -> bool:
        asked.append((first, second))
        same = bool(labels[first.article, first.offset, first.quote] & labels[second.article, second.offset,
                                                                               second.quote])
        return same if rng.random() < rates[not same] else not same

    return judge, asked


def judged(pairs: list[tuple[str, Mention]], dates: dict[str, tuple], judge: Adjudicator,
           settings: MergeSettings) -> tuple[float, bool]:
    """B3 F1 with the judge, and whether it was trusted: a judge that fails the merge's control
    pairs is not used, and the merge goes on without it (as ``Pipeline`` does)."""
    try:
        return evaluate(pairs, dates, judge, settings)[2], True
    except UnreliableAdjudicatorError:
        return evaluate(pairs, dates, settings=settings)[2], False


JUDGES = (("100%", (1.0, 1.0)), ("95%", (0.95, 0.95)), ("90%", (0.9, 0.9)), ("80%", (0.8, 0.8)),
          ("yes to all", (1.0, 0.0)))
MODES = (("joins", DEFAULT_SETTINGS), ("overrules", replace(DEFAULT_SETTINGS, judge_overrules_words=True)))


def with_judges(sets: list) -> None:
    print(f"\n{'with --adjudicate and a simulated judge':<50}{'judge right':<13}{'judge':<11}{'questions':>14}"
          f"{'trusted':>9}{'B3 clean':>10}{'B3 weak':>9}{'weak lose':>11}")
    for name, make, dates in sets:
        for shown, rates in JUDGES:
            for mode, settings in MODES:
                scores, questions, trusted = {}, {}, 0
                runs = 1 if rates in ((1.0, 1.0), (1.0, 0.0)) else JUDGE_RUNS
                for titles in ("clean", "weak"):
                    pairs, f1s, counts = make(titles), [], []
                    for run in range(runs):
                        judge, asked = simulated_judge(pairs, rates, random.Random(run))
                        f1, used = judged(pairs, dates, judge, settings)
                        f1s.append(f1)
                        counts.append(len(asked))
                        trusted += used
                    scores[titles], questions[titles] = statistics.mean(f1s), statistics.mean(counts)
                asked_counts = f"{questions['clean']:.0f} / {questions['weak']:.0f}"
                print(f"{name:<50}{shown:<13}{mode:<11}{asked_counts:>14}{f'{trusted}/{2 * runs}':>9}"
                      f"{scores['clean']:>10.3f}{scores['weak']:>9.3f}{scores['clean'] - scores['weak']:>11.3f}")


def main() -> None:
    sets = [("seeds (tuning set)", seed_gold.mentions, seed_gold.DATES),
            ("Timeline17 BP oil spill, 16 Jun 2010 (held out)", heldout_mentions, heldout_bpoil.DATES)]
    print(f"{'set':<50}{'titles':<8}{'mentions':>9}{'happenings':>11}{'events':>8}{'B3 P':>7}{'B3 R':>7}"
          f"{'B3 F1':>7}{'dates right':>13}")
    for name, make, dates in sets:
        scores = {}
        for titles in ("clean", "weak", "labels"):
            pairs = make(titles)
            precision, recall, f1, right, dated, happenings = evaluate(pairs, dates)
            scores[titles] = f1
            events = len(merge([m for _, m in pairs]))
            print(f"{name:<50}{titles:<8}{len(pairs):>9}{happenings:>11}{events:>8}{precision:>7.3f}{recall:>7.3f}"
                  f"{f1:>7.3f}{f'{right} of {dated}':>13}")
        print(f"{'':<50}weak titles lose {scores['clean'] - scores['weak']:.3f} B3 F1, "
              f"labels {scores['clean'] - scores['labels']:.3f}")
    with_judges(sets)


if __name__ == "__main__":
    main()
