"""Opt-in: the README's run command with the default model, Qwen2.5-Coder-1.5B-Instruct, end to
end on the seeds. It takes minutes on a laptop CPU, so it runs only with
``STORYLINE_TEST_DEFAULT_MODEL=1`` and the ``model`` extra installed; CI does not run it (the
test suite's real instruct model is the 0.5B one, in test_real_models.py)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from conftest import SEEDS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("STORYLINE_TEST_DEFAULT_MODEL"),
                       reason="opt-in: STORYLINE_TEST_DEFAULT_MODEL=1, with pip install '.[model]'"),
]


def test_the_readme_run_command_prints_a_dated_timeline_of_the_seeds(tmp_path):
    env = {**os.environ, "STORYLINE_MODEL": ""}
    run = subprocess.run(["storyline", "summarize", str(SEEDS), "--cache-dir", str(tmp_path), "--format", "json"],
                         capture_output=True, text=True, env=env, timeout=3600)
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    assert document["meta"]["model"] == "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    days: dict[tuple, list[dict]] = {}
    for event in document["timeline"]:
        days.setdefault((event["date"]["start"], event["date"]["end"]), []).append(event)
    assert max(e["sources"] for e in days[("2025-03-18", "2025-03-18")]) == 5  # every seed reports the call
    assert ("2025-03-15", "2025-03-16") in days  # talks in Moscow over the weekend
    assert ("2025-03-16", "2025-03-16") in days  # what was said on Sunday
    assert document["summary"].endswith((".", "!", "?", "”"))
    markdown = subprocess.run(["storyline", "summarize", str(SEEDS), "--cache-dir", str(tmp_path)],
                              capture_output=True, text=True, env=env, timeout=600)
    assert markdown.returncode == 0 and markdown.stdout.startswith("# Timeline of the story")
