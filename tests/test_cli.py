from __future__ import annotations

import json
import os
import subprocess
import sys

import jsonschema
from conftest import SEEDS


def _storyline(*args, env=None, input=None, cwd=None):
    return subprocess.run(
        ["storyline", *args],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, input=input, cwd=cwd, timeout=600,
    )


def test_end_to_end_on_the_real_llama_cpp_path(tiny_gguf, tmp_path):
    out = tmp_path / "result.json"
    run = _storyline("summarize", str(SEEDS), "--model", str(tiny_gguf), "--format", "json", "-o", str(out),
                     "--cache-dir", str(tmp_path / "cache"), "--quiet")
    assert run.returncode == 0, run.stderr
    document = json.loads(out.read_text())
    schema = json.loads(_storyline("schema").stdout)
    jsonschema.validate(document, schema)

    assert [a["id"] for a in document["articles"]] == sorted(p.stem for p in SEEDS.glob("*.txt"))
    assert {a["published"] for a in document["articles"]} == {"2025-03-17", "2025-03-18"}
    texts = {p.stem: p.read_text() for p in SEEDS.glob("*.txt")}
    for event in document["timeline"]:
        assert set(event["date"]) >= {"start", "end", "precision"}
        for mention in event["mentions"]:
            assert mention["quote"] in texts[mention["article"]]  # verbatim, checked
    stats = document["meta"]["stats"]
    for counter in ("llm_calls", "extract_calls", "summary_calls", "prompt_tokens_evaluated",
                    "completion_tokens", "source_tokens", "cache_hits"):
        assert isinstance(stats[counter], int)
    assert stats["extract_calls"] == stats["chunks"] >= 5 and stats["summary_calls"] in (0, 1)
    assert stats["llm_calls"] == stats["extract_calls"] + stats["summary_calls"] + stats["retries"]
    assert stats["retries"] == 0  # constrained decoding: valid JSON on the first attempt
    # llama.cpp's own counters: the shared instruction prefix is evaluated once, not per chunk.
    assert 0 < stats["extract_prompt_tokens_evaluated"] < 1.25 * stats["source_tokens"]
    assert isinstance(document["summary"], str)

    fresh = _storyline("summarize", str(SEEDS), "--model", str(tiny_gguf), "--format", "json",
                       "--cache-dir", str(tmp_path / "other-cache"), "--quiet")
    assert fresh.returncode == 0, fresh.stderr
    again_fresh = json.loads(fresh.stdout)
    # Determinism: same inputs, model, prompts and seed with a fresh cache give the same JSON.
    assert {k: v for k, v in again_fresh.items() if k != "meta"} == {k: v for k, v in document.items() if k != "meta"}
    assert again_fresh["meta"]["warnings"] == document["meta"]["warnings"]

    again = _storyline("summarize", str(SEEDS), "--model", str(tiny_gguf), "--format", "json",
                       "--cache-dir", str(tmp_path / "cache"), "--quiet")
    assert again.returncode == 0, again.stderr
    rerun = json.loads(again.stdout)
    assert rerun["meta"]["stats"]["llm_calls"] == 0 and rerun["meta"]["stats"]["cache_hits"] >= 5
    assert {k: v for k, v in rerun.items() if k != "meta"} == {k: v for k, v in document.items() if k != "meta"}


def test_markdown_is_the_default_output(tiny_gguf, tmp_path):
    run = _storyline("summarize", str(SEEDS), "--model", str(tiny_gguf), "--cache-dir", str(tmp_path), "-q")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("# Timeline") and "## Sources" in run.stdout


def test_offline_without_a_model_is_a_short_error(tmp_path):
    env = {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "STORYLINE_MODEL": ""}
    run = _storyline("summarize", str(SEEDS), "--cache-dir", str(tmp_path / "c"), env=env)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert "--model" in run.stderr and "offline" in run.stderr


def test_missing_model_file_and_missing_input_are_clear_errors(tmp_path):
    run = _storyline("summarize", str(SEEDS), "--model", str(tmp_path / "none.gguf"))
    assert run.returncode == 2 and "does not exist" in run.stderr and "Traceback" not in run.stderr
    run = _storyline("summarize", str(tmp_path / "missing.txt"), "--model", "x.gguf")
    assert run.returncode == 2 and "missing.txt" in run.stderr and "Traceback" not in run.stderr
    run = _storyline("summarize", str(SEEDS), "--published", "17/03/2025")
    assert run.returncode == 2 and "YYYY-MM-DD" in run.stderr


def test_import_and_help_do_not_load_llama_cpp():
    code = ("import sys, storyline; from storyline.cli import main\n"
            "try:\n    main(['--help'], prog_name='storyline')\nexcept SystemExit:\n    pass\n"
            "assert 'llama_cpp' not in sys.modules, 'llama_cpp was imported'\n"
            "storyline.summarize; storyline.Result\n"
            "assert 'llama_cpp' not in sys.modules, 'llama_cpp was imported'\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "Usage: storyline" in run.stdout


def test_dry_run_shows_prompts_without_loading_a_model(tmp_path):
    run = _storyline("summarize", str(SEEDS), "--dry-run", "--model", str(tmp_path / "absent.gguf"))
    assert run.returncode == 0, run.stderr
    assert "5 extraction call(s)" in run.stdout
    assert "\n1. US President Donald Trump will speak" in run.stdout
    assert "prompt tokens" in run.stdout


def test_prompts_export_list_and_broken_custom_prompt(tmp_path):
    folder = tmp_path / "mine"
    run = _storyline("prompts", "export", str(folder))
    assert run.returncode == 0 and (folder / "extract.j2").is_file()
    (folder / "extract.j2").write_text("{% block system %}x{% endblock %}{% block user %}{{ nope }}{% endblock %}")
    listing = _storyline("prompts", "list", "--prompts", str(folder)).stdout
    assert "custom" in listing and str(folder / "extract.j2") in listing
    run = _storyline("summarize", str(SEEDS), "--prompts", str(folder), "--model", str(tmp_path / "absent.gguf"))
    assert run.returncode == 2 and "extract.j2" in run.stderr and "Traceback" not in run.stderr
    again = _storyline("prompts", "export", str(folder))
    assert again.returncode == 2 and "--force" in again.stderr


def test_extract_then_summarize_from_mentions(tiny_gguf, tmp_path):
    mentions = tmp_path / "mentions.jsonl"
    run = _storyline("extract", str(SEEDS), "--model", str(tiny_gguf), "-o", str(mentions),
                     "--cache-dir", str(tmp_path / "c"), "-q")
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in mentions.read_text().splitlines()]
    assert [line["kind"] for line in lines[:5]] == ["article"] * 5
    for line in lines[5:]:
        assert line["kind"] == "mention" and {"article", "quote", "when", "title"} <= set(line)
    run = _storyline("summarize", "--from-mentions", str(mentions), "--model", str(tiny_gguf), "--format", "json",
                     "--no-cache", "-q")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["meta"]["stats"]["extract_calls"] == 0


def test_render_command_rerenders_a_json_result(tiny_gguf, tmp_path):
    out = tmp_path / "r.json"
    assert _storyline("summarize", str(SEEDS), "--model", str(tiny_gguf), "--format", "json", "-o", str(out),
                      "--cache-dir", str(tmp_path), "-q").returncode == 0
    run = _storyline("render", str(out), "--format", "text")
    assert run.returncode == 0 and run.stdout.strip()
