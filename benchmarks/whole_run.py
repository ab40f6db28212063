"""storyline's whole run against the floor: raw llama.cpp reading every source token once.

For the default model (or ``--model``), side by side in one process on these cores:

1. **the floor**: raw llama.cpp (its C API, no storyline code) evaluating each article's tokens
   once from position 0 in batches of 512, with the weights in llama.cpp's plain layout and in
   its repacked one (``use_extra_bufts``); the faster of the two is the floor;
2. **storyline's whole run** (ingest, extraction, merge, headlines, summary) with a cold cache
   (a new cache folder: no result, saved prefix or batch check from an earlier run), timed from
   the articles to the result, with the model already loaded (the floor loads it too, apart);
3. with ``--control``, the same run reading every sentence (``read_share=None``), as the
   quality control; its model results are kept in ``--control-cache`` (a rerun costs only what
   changed), so its seconds are a cold run's only where no call was answered from the cache.

Corpora: the seeds, the first 100 articles of Timeline17 bpoil_bbc in its gold range and the
first 50 of SyrianCrisis_bbc (``--corpora`` picks some). For each it prints wall seconds,
source tokens a second and **whole run / floor**; per stage the calls, tokens and seconds; on
Timeline17 the research measures of ``benchmarks/tls.py`` (date F1, AR-1) against the gold
timelines, and on the seeds the happenings of ``tests/seed_gold.py`` found and dated right.
Progress lines go to stderr.

    python benchmarks/whole_run.py                      # seeds, bpoil_bbc 100, SyrianCrisis_bbc 50
    python benchmarks/whole_run.py --control            # and reading everything, for quality
    python benchmarks/whole_run.py --corpora seeds bpoil --bpoil 30
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from corpus import SEEDS, TIMELINE17, timeline17
from raw_llama import RawModel

from storyline.backends.llama import LlamaCppBackend, LlamaOptions
from storyline.evaluate import day_weights, evaluate, from_result, mean_f1, read_timelines
from storyline.ingest import load_articles
from storyline.models import Article, Result
from storyline.packaged import PACKAGED
from storyline.pipeline import Pipeline


def floor_seconds(path: Path, articles: list[Article], repack: bool, threads: int) -> float:
    """Raw llama.cpp (``raw_llama``) evaluating each article's tokens once, from position 0."""
    raw = RawModel(path, repack=repack, threads=threads)
    try:
        return raw.floor([article.text for article in articles])
    finally:
        raw.close()


def gold_range_articles(topic: str, count: int) -> tuple[list[Article], list]:
    golds = read_timelines(TIMELINE17 / topic / "timelines.jsonl")
    first, last = min(min(g) for g in golds), max(max(g) for g in golds)
    articles = sorted((a for a in timeline17(topic) if first <= a.published <= last), key=lambda a: (a.published, a.id))
    return articles[:count], golds


# --- storyline --------------------------------------------------------------------------------------


def run(backend: LlamaCppBackend, articles: list[Article], read_share: float | None, folder: Path
        ) -> tuple[Result, float]:
    """A whole run from the articles to the result, with a new cache folder."""
    pipeline = Pipeline(backend, cache_dir=folder, read_share=read_share)
    started = time.perf_counter()
    result = pipeline.run(articles)
    seconds = time.perf_counter() - started
    pipeline.close()
    return result, seconds


def seed_happenings(result: Result) -> tuple[int, int, int]:
    """Of ``seed_gold.HAPPENINGS``: how many an event reports (one of its mentions quotes a
    sentence of one of the happening's reports), and of those with a known day
    (``seed_gold.DATES``) how many such events are dated within it."""
    from seed_gold import DATES, HAPPENINGS, IDS

    found = dated = 0
    for label, (_, reports) in HAPPENINGS.items():
        quotes = {(IDS[article], quote) for article, quote, _, _ in reports}
        events = [e for e in result.timeline if any((m.article, m.quote) in quotes
                                                    or any(m.article == a and (m.quote in q or q in m.quote)
                                                           for a, q in quotes) for m in e.mentions)]
        found += bool(events)
        if label in DATES and events:
            start, end = DATES[label]
            dated += any(e.date.start is not None and start <= e.date.start
                         and (end is None or (e.date.end is not None and e.date.end <= end)) for e in events)
    return found, len(HAPPENINGS), dated


def report(name: str, articles: list[Article], result: Result, seconds: float, floor: float, golds: list | None
           ) -> None:
    stats = result.meta.stats
    cached = f", {stats.cache_hits} calls answered from the cache" if stats.cache_hits else ""
    print(f"  {name}: {seconds:.1f} s wall, {stats.source_tokens / seconds:.0f} source tokens/s, "
          f"whole run / floor = {seconds / floor:.2f}{cached}; {len(articles)} articles, {len(result.timeline)} "
          f"events, sentences read {stats.sentences_read}, unread {stats.sentences_unread}")
    for stage_name, stage in stats.stages.items():
        if stage.calls:
            print(f"    {stage_name:<10} {stage.calls:>4} calls {stage.prompt_tokens_evaluated:>7} prompt tokens "
                  f"{stage.completion_tokens:>6} generated {stage.seconds:>7.1f} s")
    if golds is not None:
        figures = mean_f1(evaluate(from_result(result), golds, weights=day_weights(result)))
        print(f"    date F1 {figures['date F1']:.3f}, AR-1 {figures['AR-1']:.3f}")
    else:
        found, total, dated = seed_happenings(result)
        print(f"    seed happenings found {found} of {total}; of those with a known day, dated right {dated}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--corpora", nargs="+", default=["seeds", "bpoil", "syria"])
    parser.add_argument("--bpoil", type=int, default=100, help="bpoil_bbc articles (default 100)")
    parser.add_argument("--syria", type=int, default=50, help="SyrianCrisis_bbc articles (default 50)")
    parser.add_argument("--control", action="store_true", help="also run reading every sentence")
    parser.add_argument("--control-cache", type=Path, default=Path.home() / ".cache" / "storyline-bench" / "control",
                        help="where the control's model results are kept between runs")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--keep", type=Path, default=None,
                        help="a folder to write each run's result to as JSON, to read the timelines and summaries")
    parser.add_argument("--layouts", nargs="+", choices=["plain", "repacked"], default=["plain", "repacked"],
                        help="weight layouts the floor is measured with (default both; the faster is the floor)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stderr)
    logging.getLogger("storyline.llama_cpp").setLevel(logging.ERROR)
    path = PACKAGED[args.model].path() if args.model in PACKAGED else Path(args.model)
    corpora: list[tuple[str, list[Article], list | None]] = []
    if "seeds" in args.corpora:
        corpora.append(("seeds", load_articles([SEEDS]), None))
    if "bpoil" in args.corpora:
        corpora.append((f"bpoil_bbc, first {args.bpoil}", *gold_range_articles("bpoil_bbc", args.bpoil)))
    if "syria" in args.corpora:
        corpora.append((f"SyrianCrisis_bbc, first {args.syria}", *gold_range_articles("SyrianCrisis_bbc", args.syria)))
    backend = LlamaCppBackend(path, LlamaOptions(threads=args.threads))
    threads = args.threads or len(__import__("os").sched_getaffinity(0))
    print(f"# {path.name}, {threads} threads; {backend.options.parallel} replies written together at most")
    for name, articles, golds in corpora:
        floors = {layout: floor_seconds(path, articles, layout == "repacked", threads) for layout in args.layouts}

        floor = min(floors.values())
        with tempfile.TemporaryDirectory() as folder:
            result, seconds = run(backend, articles, Pipeline().options.read_share, Path(folder) / "run")
            control = run(backend, articles, None, args.control_cache) if args.control else None
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            slug = name.split(",")[0]
            (args.keep / f"{slug}.json").write_text(result.model_dump_json(indent=1))
            if control is not None:
                (args.keep / f"{slug}-control.json").write_text(control[0].model_dump_json(indent=1))
        source = result.meta.stats.source_tokens
        print(f"\n## {name}: {len(articles)} articles, {source} source tokens")
        layouts = "; ".join(f"{layout} layout {seconds:.1f} s" for layout, seconds in floors.items())
        print(f"  floor: {floor:.1f} s ({source / floor:.0f} tokens/s; {layouts})")
        report("storyline", articles, result, seconds, floor, golds)
        if control is not None:
            report("control, reading every sentence", articles, *control, floor, golds)
        sys.stdout.flush()
    backend.close()


if __name__ == "__main__":
    main()
