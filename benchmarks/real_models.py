"""storyline on real GGUF models from the package registry, against raw llama.cpp and its floor.

For each model (default: Qwen2.5-Coder-1.5B-Instruct, the default model; ``--models`` takes
names from ``storyline models`` or ``smollm2``/``gemma``), in one process, storyline's backend
beside raw llama.cpp (``raw_llama``: the C API alone, one sequence, the same weight layout):

1. raw llama.cpp rates, no grammar: prompt evaluation (tokens/s, a 512-token prompt) and greedy
   generation (tokens/s, 128 tokens after that prompt); median of three, measured before and
   after the storyline runs;
2. the **floor**: the seconds raw llama.cpp takes just to evaluate every article's tokens once
   (each article from position 0, in the backend's batches) -- no prompt, no output;
3. storyline on the seeds and on Timeline17 articles: per stage the prompt tokens llama.cpp
   evaluated, the tokens generated, the seconds, and **model time ÷ raw time**. Raw time is
   measured by replaying every call one at a time with plain llama.cpp: the same prompt tokens
   evaluated from the same position, then as many tokens generated greedily with no grammar
   (storyline writes several replies together, so its stage seconds are each reply's share);
4. per article: extraction seconds (wall clock of the extraction stage, everything included) and
   tokens generated; extraction time ÷ the floor; generated ÷ source tokens; extraction prompt
   tokens evaluated ÷ source tokens; events and mentions of the timeline.

    python benchmarks/real_models.py                                   # 1.5B: seeds + 20 Timeline17 articles
    python benchmarks/real_models.py --models qwen2.5-coder-0.5b smollm2 gemma --articles 0
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import SEEDS, timeline17
from raw_llama import RawModel

from storyline.backends.llama import LlamaCppBackend, LlamaOptions
from storyline.ingest import load_articles
from storyline.packaged import PACKAGED
from storyline.pipeline import Pipeline
from storyline.testing import gemma_path, smollm2_path


def model_path(name: str, folder: Path) -> Path | None:
    if name in PACKAGED:
        return PACKAGED[name].path() if PACKAGED[name].is_installed() else None
    return {"smollm2": smollm2_path, "gemma": lambda: gemma_path(folder)}[name]()


def run_storyline(backend: LlamaCppBackend, articles, state_dir: Path):
    """A cold run (no cached result), with every model call recorded (stage, prompt tokens,
    evaluated, generated), and the wall-clock seconds of the extraction stage."""
    calls = []
    generate = backend.generate

    def recorded(request, progress=None):
        generation = generate(request, progress)
        properties = request.json_schema.get("properties", {})
        stage = next((s for key, s in (("events", "extract"), ("headlines", "headline"), ("same", "adjudicate"))
                      if key in properties), "summarize")
        tokens = backend.chat.tokens(request.messages)
        tokens += tokens[-1:] * (generation.prompt_tokens - len(tokens))  # the reply's opening, read with it
        calls.append((stage, tokens, generation.prompt_tokens_evaluated, generation.completion_tokens))
        return generation

    backend.generate = recorded
    try:
        pipeline = Pipeline(backend, use_cache=False, cache_dir=state_dir)
        articles = pipeline.ingest(articles)
        started = time.perf_counter()
        mentions = pipeline.extract(articles)
        extraction_seconds = time.perf_counter() - started
        result = pipeline.run_from_mentions(articles, mentions)
    finally:
        del backend.generate
    return pipeline, result, calls, extraction_seconds


def replay_raw(raw: RawModel, calls: list) -> dict[str, float]:
    """Seconds plain llama.cpp takes for the same calls, one at a time: the same prompt tokens
    evaluated from the same position, then as many tokens generated greedily, no grammar."""
    seconds: dict[str, float] = {}
    for stage, tokens, evaluated, generated in calls:
        kept = len(tokens) - evaluated
        raw.clear()
        if kept:
            raw.evaluate(tokens[:kept])  # what storyline held in its KV cache: not timed
        started = time.perf_counter()
        raw.evaluate(tokens[kept:], kept)
        raw.generate(generated, len(tokens))
        seconds[stage] = seconds.get(stage, 0.0) + time.perf_counter() - started
    raw.clear()
    return seconds


def report(name: str, articles, pipeline: Pipeline, result, raw_seconds: dict[str, float], floor: float,
           extraction_seconds: float) -> None:
    stats = pipeline.stats
    print(f"\n== {name}")
    print(f"{'stage':<11}{'calls':>6}{'prompt eval':>13}{'generated':>11}{'seconds':>9}{'raw s':>8}{'model/raw':>11}")
    for stage_name, stage in stats.stages.items():
        if not stage.calls:
            continue
        raw = raw_seconds[stage_name]
        print(f"{stage_name:<11}{stage.calls:>6}{stage.prompt_tokens_evaluated:>13}{stage.completion_tokens:>11}"
              f"{stage.seconds:>9.1f}{raw:>8.1f}{stage.seconds / raw:>11.3f}")
    extract = stats.stage("extract")
    count = len(articles)
    print(f"floor (raw llama.cpp evaluating the {stats.source_tokens} source tokens once): {floor:.1f} s")
    print(f"extraction: {extraction_seconds:.1f} s wall = {extraction_seconds / floor:.2f} x the floor; "
          f"{extraction_seconds / count:.1f} s and {extract.completion_tokens / count:.1f} generated tokens per "
          f"article; generated / source tokens = {extract.completion_tokens / stats.source_tokens:.3f}; "
          f"prompt tokens evaluated / source tokens = {extract.prompt_tokens_evaluated / stats.source_tokens:.3f}")
    print(f"events {len(result.timeline)}, mentions {sum(len(e.mentions) for e in result.timeline)}, "
          f"dated sentences added {stats.dated_sentences_added}, headlines not grounded {stats.ungrounded_dropped}, "
          f"repeated headlines {stats.duplicates_dropped}, truncated replies {stats.truncated}, "
          f"failed chunks {stats.failed_chunks}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["qwen2.5-coder-1.5b"])
    parser.add_argument("--articles", type=int, default=20, help="Timeline17 articles (0: seeds only)")
    parser.add_argument("--topic", default="SyrianCrisis_bbc")
    parser.add_argument("--threads", type=int)
    args = parser.parse_args()
    corpora = [("seeds (5 articles)", load_articles([SEEDS]))]
    if args.articles:
        corpora.append((f"Timeline17 {args.topic} ({args.articles} articles)", timeline17(args.topic, args.articles)))
    with tempfile.TemporaryDirectory() as folder:
        for model_name in args.models:
            path = model_path(model_name, Path(folder))
            if path is None:
                print(f"\n# {model_name}: not installed, skipped")
                continue
            backend = LlamaCppBackend(path, LlamaOptions(threads=args.threads))
            raw = RawModel(path, repack=backend.options.repack, threads=args.threads or len(os.sched_getaffinity(0)))
            prompt = raw.tokenize(SEEDS.joinpath("001_c294f2ccbd6d00ec.txt").read_text())[:512]
            before = raw.rates(prompt)
            runs = []
            for corpus_name, articles in corpora:
                floor = raw.floor([article.text for article in articles])
                state = Path(folder) / f"state-{model_name}-{len(runs)}"
                pipeline, result, calls, seconds = run_storyline(backend, articles, state)
                runs.append((corpus_name, articles, pipeline, result, replay_raw(raw, calls), floor, seconds))
            after = raw.rates(prompt)
            raw.close()
            rates = (statistics.median([before[0], after[0]]), statistics.median([before[1], after[1]]))
            print(f"\n# {model_name} ({path.name}): raw llama.cpp, no grammar: prompt evaluation {rates[0]:.1f} "
                  f"tokens/s (before {before[0]:.1f}, after {after[0]:.1f}); generation {rates[1]:.1f} tokens/s "
                  f"(before {before[1]:.1f}, after {after[1]:.1f}) at position 512")
            for corpus_name, articles, pipeline, result, raw_seconds, floor, seconds in runs:
                report(f"{model_name} on {corpus_name}", articles, pipeline, result, raw_seconds, floor, seconds)
            backend.close()


if __name__ == "__main__":
    main()
