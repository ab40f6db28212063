"""Concurrent runs sharing one cache folder: how many of them fail.

Each round starts four ``storyline summarize seeds/`` processes at once on the generated tiny
model, all with the same fresh cache folder (so they race to write the same cached results and
the same saved instruction states), then a second wave of four on the now-filled folder. It
counts processes that exit non-zero or print anything on stderr, and outputs that differ from
the first one (goal: 0 and 0).

    python benchmarks/concurrent_runs.py --rounds 8      # 8 x (4 + 4) = 64 processes
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import SEEDS

from storyline.testing import make_tiny_gguf


def wave(model: Path, cache: Path, out: Path, label: str) -> tuple[list[str], list[dict]]:
    """Four concurrent runs: their failures (as messages) and their outputs without ``meta``."""
    processes = [subprocess.Popen(
        ["storyline", "summarize", str(SEEDS), "--model", str(model), "--format", "json", "-q",
         "--cache-dir", str(cache), "-o", str(out / f"{label}-{i}.json")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(4)]
    failures, outputs = [], []
    for index, process in enumerate(processes):
        _, stderr = process.communicate(timeout=900)
        if process.returncode != 0 or stderr:
            failures.append(f"{label}-{index}: exit {process.returncode}: {stderr.strip()[:300]}")
            continue
        document = json.loads((out / f"{label}-{index}.json").read_text())
        outputs.append({key: value for key, value in document.items() if key != "meta"})
    return failures, outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    failures: list[str] = []
    outputs: list[dict] = []
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        model = make_tiny_gguf(root / "tiny.gguf")
        for round_ in range(args.rounds):
            cache = root / f"cache-{round_}"
            for label in ("cold", "warm"):
                failed, done = wave(model, cache, root, f"{round_}-{label}")
                failures += failed
                outputs += done
    different = sum(1 for output in outputs if output != outputs[0]) if outputs else 0
    print(f"{args.rounds * 8} processes ({args.rounds} rounds of 4 on an empty cache folder, then 4 on the "
          f"filled one): {len(failures)} failed, {different} outputs differ from the first")
    for failure in failures:
        print("  " + failure)


if __name__ == "__main__":
    main()
