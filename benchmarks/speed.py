"""storyline against a naive pipeline, on the same model and corpus, in one process.

For each corpus it prints, for storyline (cold: first run in a process; warm: a later run that
loads the saved state of the instruction prefix) and for the naive baseline (naive.py): model
calls, retries, prompt tokens llama.cpp evaluated divided by source tokens, tokens generated in
all and per event, and wall time, then the naive/storyline ratios. Run by hand, not in tests:

    python benchmarks/speed.py                       # tiny random model, seeds + 200 articles
    python benchmarks/speed.py --model some.gguf --topic SyrianCrisis_bbc --articles 200

With the tiny test model the words are gibberish: what it measures is the cost structure.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
if (Path(__file__).resolve().parents[2] / "shared" / "tiktoken").is_dir():
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(Path(__file__).resolve().parents[2] / "shared" / "tiktoken"))

from corpus import SEEDS, timeline17
from naive import NaiveExtractor

from storyline.backends.llama import LlamaCppBackend, LlamaOptions
from storyline.ingest import load_articles
from storyline.pipeline import Pipeline
from storyline.testing import make_tiny_gguf


def run_storyline(model: Path, articles, state_dir: Path, threads: int | None) -> dict:
    backend = LlamaCppBackend(model, LlamaOptions(threads=threads), state_dir=state_dir)
    pipeline = Pipeline(backend, use_cache=False)
    started = time.perf_counter()
    mentions = pipeline.extract(articles)
    seconds = time.perf_counter() - started
    stats, stage = pipeline.stats, pipeline.stats.stage("extract")
    return {"calls": stage.calls, "retries": stage.retries, "evaluated": stage.prompt_tokens_evaluated,
            "generated": stage.completion_tokens, "events": len(mentions), "source": stats.source_tokens,
            "seconds": seconds, "plan": pipeline.plan(articles)}


def run_naive(model: Path, articles, plan, threads: int | None, max_tokens: int) -> dict:
    import llama_cpp

    llm = llama_cpp.Llama(str(model), n_ctx=8192, n_threads=threads or os.cpu_count(),
                          n_threads_batch=threads or os.cpu_count(), verbose=False)
    naive = NaiveExtractor(llm, max_tokens=max_tokens)
    started = time.perf_counter()
    for call in plan:
        naive.extract(call.article, call.chunk)
    seconds = time.perf_counter() - started
    return {"calls": naive.calls, "retries": naive.failed_attempts, "evaluated": naive.prompt_tokens_evaluated,
            "generated": naive.completion_tokens, "events": naive.events, "seconds": seconds,
            "failed_chunks": naive.failed_chunks}


def report(name: str, rows: dict[str, dict], source: int) -> None:
    print(f"\n== {name}: {source} source tokens (model's tokenizer)")
    print(f"{'pipeline':<17}{'calls':>7}{'retries':>9}{'prompt eval':>13}{'eval/source':>13}{'generated':>11}"
          f"{'gen/event':>11}{'events':>8}{'wall s':>9}")
    for label, row in rows.items():
        per_event = f"{row['generated'] / row['events']:.1f}" if row["events"] else "n/a"
        print(f"{label:<17}{row['calls']:>7}{row['retries']:>9}{row['evaluated']:>13}"
              f"{row['evaluated'] / source:>13.3f}{row['generated']:>11}{per_event:>11}{row['events']:>8}"
              f"{row['seconds']:>9.1f}")
    cold, naive = rows["storyline (cold)"], rows["naive"]
    print("naive / storyline (cold): "
          f"prompt eval x{naive['evaluated'] / cold['evaluated']:.2f}, "
          f"generated x{naive['generated'] / max(cold['generated'], 1):.2f}, "
          f"calls x{naive['calls'] / cold['calls']:.2f}, wall x{naive['seconds'] / cold['seconds']:.2f}; "
          f"naive chunks with no valid JSON after retries: {naive['failed_chunks']} of {cold['calls']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="GGUF to use (default: the tiny random test model)")
    parser.add_argument("--topic", default="SyrianCrisis_bbc", help="Timeline17 topic (one story)")
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--naive-max-tokens", type=int, default=256,
                        help="reply limit of the naive pipeline's unconstrained generation")
    parser.add_argument("--skip-corpus", action="store_true", help="seeds only")
    args = parser.parse_args()
    logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or make_tiny_gguf(Path(tmp) / "tiny.gguf")
        corpora = [("seeds (5 articles)", load_articles([SEEDS]))]
        if not args.skip_corpus:
            corpora.append((f"Timeline17 {args.topic} ({args.articles} articles)",
                            timeline17(args.topic, args.articles)))
        print(f"model {model.name}; threads {args.threads or os.cpu_count()}")
        for name, articles in corpora:
            state = Path(tmp) / f"prefix-{len(articles)}"
            cold = run_storyline(model, articles, state, args.threads)
            warm = run_storyline(model, articles, state, args.threads)  # a new backend: as a later run
            naive = run_naive(model, articles, cold["plan"], args.threads, args.naive_max_tokens)
            report(name, {"storyline (cold)": cold, "storyline (warm)": warm, "naive": naive}, cold["source"])


if __name__ == "__main__":
    main()
