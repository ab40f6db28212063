"""Non-model overhead for 1,000 Timeline17 articles (target: under 2 s).

Runs ingest (from .txt files), chunking and prompt rendering, extraction bookkeeping (validation,
grounding, date resolution) with a zero-cost scripted backend, merging and rendering, and prints
the seconds of each stage (medians over runs). Time spent in the model's place is measured and
reported apart: the scripted backend's calls, and the tokenizer (tiktoken, standing in for the
model's own tokenizer) counting the articles' and sentences' tokens.

    python benchmarks/overhead.py [--articles 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
if (Path(__file__).resolve().parents[2] / "shared" / "tiktoken").is_dir():
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(Path(__file__).resolve().parents[2] / "shared" / "tiktoken"))

from corpus import timeline17, write_txt

from storyline.backends.scripted import ScriptedBackend
from storyline.pipeline import Pipeline
from storyline.render import render
from storyline.tokens import TiktokenTokenizer

_LINE = re.compile(r"^(\d+) (.*)$", re.M)


class TimedTokenizer:
    """The scripted backend's tokenizer, with the time spent in it recorded."""

    def __init__(self, inner) -> None:
        self.inner, self.seconds, self.name = inner, 0.0, inner.name

    def count_many(self, texts: list[str]) -> list[int]:
        started = time.perf_counter()
        try:
            return self.inner.count_many(texts)
        finally:
            self.seconds += time.perf_counter() - started


class ZeroCostModel:
    """Answers each extraction call with up to three headlines from its sentences, and every
    headline call, instantly."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self, request) -> str:
        started = time.perf_counter()
        properties = request.json_schema.get("properties", {})
        lines = _LINE.findall(request.messages[1][1])
        if "sentences" in properties:
            reply = '{"sentences": ["A summary."]}'
        elif "headlines" in properties:
            reply = json.dumps({"headlines": [" ".join(text.split()[:5])[:48] or "Event" for _, text in lines]})
        else:
            picks = {1, len(lines) // 2 or 1, len(lines)}
            events = [[" ".join(text.split()[:5])[:48] or "Event", int(number)] for number, text in lines
                      if int(number) in picks]
            reply = json.dumps({"events": events[: properties["events"]["maxItems"]]})
        self.seconds += time.perf_counter() - started
        return reply


def run_once(folder: Path) -> dict[str, float]:
    model = ZeroCostModel()
    tokenizer = TimedTokenizer(TiktokenTokenizer())
    tokenizer.count_many(["warm up: load the encoding"])
    tokenizer.seconds = 0.0
    backend = ScriptedBackend(responder=model, tokenizer=tokenizer)
    calls = {"seconds": 0.0, "tokenizer": 0.0}
    generate = backend.generate

    def timed_generate(request, progress=None):
        started, counted = time.perf_counter(), tokenizer.seconds
        try:
            return generate(request, progress)
        finally:
            calls["seconds"] += time.perf_counter() - started
            calls["tokenizer"] += tokenizer.seconds - counted

    backend.generate = timed_generate  # type: ignore[method-assign]
    pipeline = Pipeline(backend, use_cache=False)
    times: dict[str, float] = {}
    started = time.perf_counter()
    articles = pipeline.ingest([folder])
    times["ingest"] = time.perf_counter() - started

    # Chunking, prompt rendering, validation, grounding and dates; without the time spent in the
    # model's place (its calls, and its tokenizer counting the articles and sentences).
    started = time.perf_counter()
    mentions = pipeline.extract(articles)
    tokenizer_outside_calls = tokenizer.seconds - calls["tokenizer"]
    times["chunk+extract"] = time.perf_counter() - started - calls["seconds"] - tokenizer_outside_calls

    started = time.perf_counter()
    events = pipeline.merge(mentions)
    times["merge"] = time.perf_counter() - started

    result = pipeline.result(articles, events, "")
    started = time.perf_counter()
    render(result, "markdown")
    render(result, "json")
    times["render"] = time.perf_counter() - started
    times["storyline overhead"] = sum(times.values())
    times["tokenizer (model side)"] = tokenizer_outside_calls
    times["scripted calls (model side)"] = calls["seconds"]
    times["all"] = times["storyline overhead"] + tokenizer_outside_calls + calls["seconds"]
    times["_counts"] = (len(articles), pipeline.stats.chunks, len(mentions), len(events))  # type: ignore[assignment]
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "articles"
        write_txt(timeline17(limit=args.articles), folder)
        runs = [run_once(folder) for _ in range(args.runs)]
    articles, chunks, mentions, events = runs[0]["_counts"]
    print(f"{articles} articles, {chunks} chunks, {mentions} mentions, {events} events; "
          f"median of {args.runs} runs")
    for stage in ("ingest", "chunk+extract", "merge", "render", "storyline overhead", "tokenizer (model side)",
                  "scripted calls (model side)", "all"):
        values = [run[stage] for run in runs]
        print(f"{stage:<27}{statistics.median(values):>8.3f} s   (min {min(values):.3f})")


if __name__ == "__main__":
    main()
