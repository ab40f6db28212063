"""How merge time grows with the number of mentions (goal: 100,000 in under 5 s, and linear).

Generates synthetic mention sets (events reported 2 to 6 times in different words, on different
precisions of the same date, among distractors that share actors) and times ``merge``.

    python benchmarks/merge_scale.py            # 1k, 10k, 100k, 3 runs each
    python benchmarks/merge_scale.py --runs 1 --sizes 1000 10000
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import random
import statistics
import time

from storyline.merge import merge
from storyline.models import DateSpan, Mention, Precision

ACTORS = [f"{first} {last}" for first in ("Anna", "Boris", "Carla", "David", "Elena", "Farid", "Grace", "Hugo",
                                           "Irina", "Jonas", "Kemal", "Lucia", "Marek", "Nadia", "Omar", "Paula")
          for last in ("Adler", "Brandt", "Costa", "Dumas", "Eriksen", "Ferro", "Gallo", "Horvat", "Ivanov",
                       "Jensen", "Kowalski", "Lund", "Moreau", "Novak", "Olsen", "Petrov", "Quinn", "Rossi")]
VERBS = ["meets", "criticises", "signs", "rejects", "proposes", "announces", "visits", "sanctions", "accuses",
         "praises", "calls", "warns", "approves", "blocks", "negotiates with", "condemns", "supports", "sues"]
OBJECTS = [f"{adjective} {noun}" for adjective in ("new", "draft", "border", "energy", "trade", "security", "water",
                                                    "grain", "tax", "budget", "nuclear", "cyber", "election", "health")
           for noun in ("deal", "treaty", "plan", "law", "agreement", "summit", "ceasefire", "tariff", "inquiry",
                        "pipeline", "reform", "strike", "sanctions", "report", "vote", "programme")]
# Every real event has details of its own (a place, a figure, a name); one of these per event.
PLACES = [a + b + c for a in ("Bel", "Cor", "Dar", "Fen", "Gal", "Hol", "Kar", "Lor", "Mir", "Nor", "Ost", "Pra",
                              "Ros", "Sal", "Tor", "Val", "Wen", "Zar")
          for b in ("a", "e", "i", "o", "u", "ar", "en")
          for c in ("burg", "dale", "field", "grad", "haven", "mont", "stad", "ville", "wick", "port")]
FILLER = ("officials said the move followed weeks of talks and drew criticism from opposition figures while "
          "analysts expected further steps in the coming days according to people familiar with the matter").split()


def mention_set(size: int, seed: int = 0) -> list[Mention]:
    rng = random.Random(seed)
    start = dt.date(2020, 1, 1)
    mentions: list[Mention] = []
    event = 0
    while len(mentions) < size:
        event += 1
        who = rng.sample(ACTORS, 2)
        verb, thing, place = rng.choice(VERBS), rng.choice(OBJECTS), rng.choice(PLACES)
        day = start + dt.timedelta(days=rng.randrange(10 * 365))  # a decade of news
        for report in range(rng.randint(2, 6)):
            words = [who[0].split()[1], verb, who[1].split()[1] if rng.random() < 0.6 else "", thing,
                     f"in {place}" if rng.random() < 0.5 else ""]
            title = " ".join(w for w in words if w)
            quote = " ".join([who[0], verb, thing, "with", who[1], "in", place, *rng.sample(FILLER, 12)]) + "."
            kind = rng.random()
            if kind < 0.7:
                date = DateSpan(start=day, end=day, precision=Precision.day)
            elif kind < 0.85:
                first = day.replace(day=1)
                last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
                date = DateSpan(start=first, end=last, precision=Precision.month)
            else:
                date = DateSpan(end=day + dt.timedelta(days=rng.randint(0, 3)), qualifier="before", vague=True)
            mentions.append(Mention(article=f"a{event % 997}-{report}", quote=quote, title=title,
                                    actors=who[: rng.randint(1, 2)], date=date, offset=report))
    return mentions[:size]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    medians: dict[int, float] = {}
    print(f"{'mentions':>9} {'events':>8} {'median s':>9} {'min s':>7} {'us/mention':>11}")
    for size in args.sizes:
        mentions = mention_set(size)
        times, events = [], 0
        for _ in range(args.runs):
            started = time.perf_counter()
            events = len(merge(mentions))
            times.append(time.perf_counter() - started)
        medians[size] = statistics.median(times)
        print(f"{size:>9} {events:>8} {medians[size]:>9.2f} {min(times):>7.2f} {1e6 * medians[size] / size:>11.1f}")
    sizes = sorted(medians)
    for small, large in itertools.pairwise(sizes):
        print(f"growth {small} -> {large}: time x{medians[large] / medians[small]:.1f} for mentions "
              f"x{large / small:.0f}")


if __name__ == "__main__":
    main()
