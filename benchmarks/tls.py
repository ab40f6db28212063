"""Timeline summarization figures on one Timeline17 topic: storyline against a simple extractive
baseline, scored by ``storyline eval``'s measures against the journalists' gold timeline(s).

storyline runs on the topic's earliest ``--articles`` articles published within the gold
timelines' date range, with the generated tiny random model and with SmolLM2-135M (if installed
and not ``--tiny-only``). The baseline puts each of the same articles' first
sentence on its publication date (the "lead" baseline of news summarization). Every prediction
is scored with the research protocol (limited to the gold's date range, number of days and
sentences a day) against the topic's gold timelines, and the mean F1 is printed.

Tiny models write poor timelines, and a few articles cannot cover a gold timeline made from
hundreds: the figures are low. The point is a number that moves when the model or the prompts
change.

    python benchmarks/tls.py                         # H1N1_guardian, 8 articles
    python benchmarks/tls.py --topic bpoil_bbc --articles 20
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import TIMELINE17, timeline17

from storyline.backends.llama import LlamaCppBackend
from storyline.evaluate import MEASURES, Timeline, evaluate, from_result, mean_f1, read_timelines
from storyline.models import Article
from storyline.pipeline import Pipeline
from storyline.testing import make_tiny_gguf, smollm2_path


def lead_baseline(articles: list[Article]) -> Timeline:
    """Each article's first sentence (its first non-empty line) on its publication date."""
    timeline: Timeline = {}
    for article in articles:
        first = next((line.strip() for line in article.text.splitlines() if line.strip()), "")
        if first and article.published:
            timeline.setdefault(article.published, []).append(first)
    return timeline


def storyline_timeline(model: Path, articles: list[Article], cache: Path) -> tuple[Timeline, float, int]:
    """storyline's timeline of the articles (first quotes on each event's day), the seconds the run
    took and the number of events."""
    started = time.perf_counter()
    pipeline = Pipeline(LlamaCppBackend(model), use_cache=False, cache_dir=cache)
    try:
        result = pipeline.run(articles)
    finally:
        pipeline.close()
    return from_result(result), time.perf_counter() - started, len(result.timeline)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topic", default="H1N1_guardian")
    parser.add_argument("--articles", type=int, default=8)
    parser.add_argument("--tiny-only", action="store_true", help="leave SmolLM2 out")
    args = parser.parse_args()
    golds = read_timelines(TIMELINE17 / args.topic / "timelines.jsonl")
    first, last = min(min(g) for g in golds), max(max(g) for g in golds)
    articles = sorted((a for a in timeline17(args.topic) if first <= a.published <= last),
                      key=lambda a: (a.published, a.id))[: args.articles]
    print(f"{args.topic}: {len(articles)} articles ({min(a.published for a in articles)} to "
          f"{max(a.published for a in articles)}); {len(golds)} gold timeline(s) of "
          f"{', '.join(str(len(g)) for g in golds)} days")
    rows: list[tuple[str, Timeline, str]] = [("lead baseline", lead_baseline(articles), "")]
    with tempfile.TemporaryDirectory() as folder:
        models = {"tiny random model": make_tiny_gguf(Path(folder) / "tiny.gguf")}
        if not args.tiny_only and (smollm2 := smollm2_path()) is not None:
            models["SmolLM2-135M"] = smollm2
        for name, path in models.items():
            timeline, seconds, events = storyline_timeline(path, articles, Path(folder) / name)
            rows.append((f"storyline, {name}", timeline, f"{events} events, {seconds:.0f} s"))
    print(f"\n{'':<30}{'days':>5}" + "".join(f"{name:>15}" for name in MEASURES))
    for name, timeline, note in rows:
        figures = mean_f1(evaluate(timeline, golds))
        print(f"{name:<30}{len(timeline):>5}" + "".join(f"{figures[m]:>15.3f}" for m in MEASURES)
              + (f"   ({note})" if note else ""))
    print("\nmean F1 over the gold timelines; days = days on the predicted timeline before the protocol's limits")


if __name__ == "__main__":
    main()
