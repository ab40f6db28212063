"""Timeline summarization on Timeline17 topics: storyline against two baselines on the same
articles, scored by ``storyline eval``'s measures against the journalists' gold timelines.

The articles are a topic's, published within its gold timelines' date range (all of them with
``--whole-topic``), in publication order (``--articles N`` takes the first N, ``--skip N`` leaves
out the first N; ``--sample N`` takes N spread evenly over the range, first and last included).
Several topics (``--topics``) print a row each and the means. Three systems see the same
articles:

- **storyline** with a real model (default: the default model, Qwen2.5-Coder-1.5B-Instruct);
  every model result is cached (``--cache-dir``, default ``~/.cache/storyline-bench``), so a
  rerun or a run resumed after an interruption costs only what is missing;
- **lead**: each article's first sentence on its publication date;
- **date frequency**, in the spirit of DATEWISE (Ghalandari & Ifrim 2020): days ranked by how
  many articles are published on them or mention them (time expressions found and resolved by
  storyline's own date rules, day-precise only); each day's summary is its candidate sentence
  nearest the centroid of the day's candidates (TF-IDF, cosine).

Each timeline is limited as the research protocol does (the gold's date range, number of days
and sentences a day) and scored against every gold timeline of the topic; the mean F1 is
printed. storyline's result is scored twice: as ``storyline eval`` reads it by default (events
placed on a day), and with ``--undated published`` (events no time expression dates stand on
their article's publication date, as timeline summarization systems date such sentences).
Minutes are wall-clock minutes of this run on this machine (cached calls cost nothing: the cache
hits are printed).

    python benchmarks/tls.py --topic H1N1_guardian --whole-topic
    python benchmarks/tls.py --topics bpoil_bbc H1N1_bbc SyrianCrisis_bbc --sample 60   # rows and the mean
    python benchmarks/tls.py --topic bpoil_bbc --articles 60
    python benchmarks/tls.py --topic bpoil_bbc --skip 60 --model qwen2.5-coder-0.5b
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import TIMELINE17, timeline17

from storyline.chunk import split_sentences
from storyline.dates import resolve
from storyline.dates.finder import find_expressions
from storyline.evaluate import MEASURES, Timeline, day_weights, evaluate, from_result, mean_f1, read_timelines
from storyline.models import Article, Result
from storyline.pipeline import Pipeline
from storyline.render import result_json

_WORD = re.compile(r"[a-z0-9]+")


def lead_baseline(articles: list[Article]) -> Timeline:
    """Each article's first sentence (its first non-empty line) on its publication date."""
    timeline: Timeline = {}
    for article in articles:
        first = next((line.strip() for line in article.text.splitlines() if line.strip()), "")
        if first and article.published:
            timeline.setdefault(article.published, []).append(first)
    return timeline


def _day_mentions(article: Article) -> list[tuple[str, dt.date | None]]:
    """Each sentence of an article with the day it mentions (day-precise expressions only)."""
    found = []
    for span in split_sentences(article.text):
        sentence = article.text[span.start:span.end]
        day = None
        for expression in find_expressions(sentence):
            date = resolve(expression.text, article.published, sentence)
            if date.start is not None and date.start == date.end and date.qualifier is None:
                day = date.start
                break
        found.append((sentence, day))
    return found


def date_frequency_baseline(articles: list[Article], days: int, first: dt.date, last: dt.date) -> Timeline:
    """The ``days`` days from ``first`` to ``last`` (the protocol gives every system the gold's
    range) most often published on or mentioned; each summarized by the candidate sentence
    nearest its candidates' TF-IDF centroid. Candidates are the sentences that mention the day
    and the first sentences of the articles published on it."""
    votes: Counter = Counter()
    candidates: dict[dt.date, list[str]] = defaultdict(list)
    for article in articles:
        votes[article.published] += 1
        sentences = _day_mentions(article)
        if sentences:
            candidates[article.published].append(sentences[0][0])
        for sentence, day in sentences:
            if day is not None:
                votes[day] += 1
                candidates[day].append(sentence)
    all_sentences = [s for texts in candidates.values() for s in texts]
    frequency = Counter(w for s in all_sentences for w in set(_WORD.findall(s.lower())))
    total = len(all_sentences)

    def vector(text: str) -> dict[str, float]:
        counts = Counter(_WORD.findall(text.lower()))
        return {w: c * math.log((total + 1) / (frequency[w] + 1)) for w, c in counts.items()}

    def cosine(a: dict[str, float], b: dict[str, float]) -> float:
        dot = sum(v * b.get(w, 0.0) for w, v in a.items())
        norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
        return dot / norm if norm else 0.0

    timeline: Timeline = {}
    in_range = {day: count for day, count in votes.items() if first <= day <= last}
    for day, _ in sorted(in_range.items(), key=lambda kv: (-kv[1], kv[0]))[:days]:
        texts = list(dict.fromkeys(candidates.get(day, [])))
        if not texts:
            continue
        vectors = [vector(t) for t in texts]
        centroid: dict[str, float] = defaultdict(float)
        for v in vectors:
            for w, x in v.items():
                centroid[w] += x / len(vectors)
        best = max(range(len(texts)), key=lambda i: (cosine(vectors[i], centroid), -i))
        timeline[day] = [texts[best]]
    return timeline


def storyline_run(model: str, articles: list[Article], cache: Path, out: Path | None):
    """storyline's result on the articles, with the wall seconds and the run's figures."""
    started = time.perf_counter()
    pipeline = Pipeline(model=model, cache_dir=cache, progress=sys.stderr.isatty())
    try:
        result = pipeline.run(articles)
    finally:
        pipeline.close()
    seconds = time.perf_counter() - started
    if out is not None:
        out.write_text(result_json(result), encoding="utf-8")
    return result, seconds


def model_seconds(stats) -> float:
    """Seconds the model spent on the calls this run made (cached calls cost none)."""
    return sum(stage.seconds for stage in stats.stages.values())


def spread(articles: list[Article], count: int) -> list[Article]:
    """``count`` articles spread evenly over ``articles`` (in publication order): the first, the
    last and those evenly between, so a sample reaches the whole story, not its first weeks."""
    if count >= len(articles):
        return articles
    if count == 1:
        return articles[:1]
    return [articles[round(i * (len(articles) - 1) / (count - 1))] for i in range(count)]


def topic_articles(topic: str, args) -> tuple[list[Article], list[Timeline]]:
    golds = read_timelines(TIMELINE17 / topic / "timelines.jsonl")
    first, last = min(min(g) for g in golds), max(max(g) for g in golds)
    articles = sorted((a for a in timeline17(topic) if args.whole_topic or first <= a.published <= last),
                      key=lambda a: (a.published, a.id))[args.skip: args.articles]
    return (spread(articles, args.sample) if args.sample else articles), golds


def topic_rows(topic: str, args) -> list[tuple[str, dict[str, float]]]:
    """Each system's mean F1 figures on one topic, printed as a table."""
    articles, golds = topic_articles(topic, args)
    first, last = min(min(g) for g in golds), max(max(g) for g in golds)
    print(f"\n{topic}: {len(articles)} articles ({articles[0].published} to {articles[-1].published}); "
          f"{len(golds)} gold timeline(s) of {', '.join(str(len(g)) for g in golds)} days")
    gold_days = max(len(g) for g in golds)
    rows: list[tuple[str, Timeline, dict | None, str]] = [
        ("lead baseline", lead_baseline(articles), None, ""),
        ("date-frequency baseline", date_frequency_baseline(articles, gold_days, first, last), None, ""),
    ]
    if args.result:
        result = Result.model_validate_json(args.result.read_text(encoding="utf-8"))
        note = f"{len(result.timeline)} events, read from {args.result}"
    elif not args.baselines_only:
        out = args.out / f"{topic}.json" if args.out else None
        result, seconds = storyline_run(args.model, articles, args.cache_dir, out)
        stats = result.meta.stats
        minutes = seconds / 60
        note = (f"{len(result.timeline)} events, {minutes:.1f} min, {len(articles) / max(minutes, 1e-9):.1f} "
                f"articles/min; {stats.llm_calls} calls made in {model_seconds(stats):.0f} s of model time, "
                f"{stats.cache_hits} answered from the cache")
    if args.result or not args.baselines_only:
        rows.append(("storyline", from_result(result), day_weights(result), note))
        rows.append(("  the same, undated events on publication days", from_result(result, undated="published"),
                     day_weights(result, "published"), "storyline eval --undated published"))
    print(f"{'':<48}{'days':>5}" + "".join(f"{name:>15}" for name in MEASURES))
    figures_of = []
    for name, timeline, weights, note in rows:
        figures = mean_f1(evaluate(timeline, golds, weights=weights))
        figures_of.append((name, figures))
        print(f"{name:<48}{len(timeline):>5}" + "".join(f"{figures[m]:>15.3f}" for m in MEASURES)
              + (f"   ({note})" if note else ""))
    sys.stdout.flush()
    return figures_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topic", "--topics", dest="topics", nargs="+", default=["H1N1_guardian"])
    parser.add_argument("--articles", type=int, help="the first N articles in the gold range (default: all)")
    parser.add_argument("--sample", type=int, help="N articles spread evenly over the gold range (the first, the "
                        "last and those evenly between) instead of the first N")
    parser.add_argument("--skip", type=int, default=0, help="leave out the first N of them (to run the rest of a "
                        "topic, say with another model, after --articles N)")
    parser.add_argument("--whole-topic", action="store_true", help="all of the topic's articles, also those "
                        "published outside the gold range")
    parser.add_argument("--model", default=None, help="model spec (default: storyline's default model)")
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "storyline-bench")
    parser.add_argument("--out", type=Path, help="a folder to write storyline's JSON result of each topic to")
    parser.add_argument("--baselines-only", action="store_true")
    parser.add_argument("--result", type=Path, help="score this storyline JSON result (written by --out on "
                        "the same articles) instead of running storyline (one topic)")
    args = parser.parse_args()
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    every = [topic_rows(topic, args) for topic in args.topics]
    print("\nmean F1 over the gold timelines; days = days on the predicted timeline before the protocol's limits")
    if len(every) > 1:
        print(f"\nmean over {len(every)} topics{'':<22}" + "".join(f"{m:>15}" for m in ("date F1", "AR-1")))
        for row, (name, _) in enumerate(every[0]):
            means = [sum(topic[row][1][m] for topic in every) / len(every) for m in ("date F1", "AR-1")]
            print(f"{name:<48}" + "".join(f"{value:>15.3f}" for value in means))


if __name__ == "__main__":
    main()
