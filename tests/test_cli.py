from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys
from dataclasses import dataclass

import jsonschema
import pytest
from conftest import SEEDS

TUESDAY_CALL_000 = ("US President Donald Trump will speak with Russian President Vladimir Putin on Tuesday to discuss "
                    "a potential ceasefire in Ukraine, following diplomatic engagements between US and Russian "
                    "officials in Moscow.")


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def _storyline(*args, env=None, input=None):
    """The command run in this process by click's test runner (exit code, stdout and stderr as
    a process would give them). Tests that need a process of their own use ``_process``."""
    from click.testing import CliRunner

    from storyline.cli import main

    result = CliRunner().invoke(main, [str(a) for a in args], env=env, input=input, catch_exceptions=False)
    return Run(result.exit_code, result.stdout, result.stderr)


def _process(*args, env=None, input=None):
    return subprocess.run(["storyline", *args], capture_output=True, text=True, env={**os.environ, **(env or {})},
                          input=input, timeout=600)


def _quote_is_a_sentence_of(quote: str, text: str) -> bool:
    """The quote occurs in the file and starts and ends where sentences do."""
    at = text.find(quote)
    if at < 0:
        return False
    before, after = text[:at].rstrip(" "), text[at + len(quote):]
    return (at == 0 or before.endswith(("\n", ".", "?", "!", "”", '"'))) and (after == "" or after[0] in " \n")


@pytest.mark.slow
def test_end_to_end_on_the_real_llama_cpp_path(tiny_gguf, tmp_path):
    out = tmp_path / "result.json"
    run = _storyline("summarize", str(SEEDS), "--model", str(tiny_gguf), "--format", "json", "-o", str(out),
                     "--cache-dir", str(tmp_path / "cache"), "--quiet")
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    document = json.loads(out.read_text())
    schema = json.loads(_storyline("schema").stdout)
    jsonschema.validate(document, schema)

    assert [a["id"] for a in document["articles"]] == sorted(p.stem for p in SEEDS.glob("*.txt"))
    assert {a["published"] for a in document["articles"]} == {"2025-03-17", "2025-03-18"}
    texts = {p.stem: p.read_text() for p in SEEDS.glob("*.txt")}
    for event in document["timeline"]:
        assert set(event["date"]) >= {"start", "end", "precision"}
        for mention in event["mentions"]:
            assert _quote_is_a_sentence_of(mention["quote"], texts[mention["article"]]), mention["quote"]
    stats = document["meta"]["stats"]
    stages = stats["stages"]
    # a random model may run a reply to its token limit: that call is made again once, larger
    assert 5 <= stats["chunks"] <= stats["extract_calls"] <= stats["chunks"] + stages["extract"]["truncated"]
    assert stats["summary_calls"] <= 1 + stages["summarize"]["truncated"]
    assert stats["llm_calls"] == sum(stage["calls"] for stage in stages.values())
    assert stats["truncated"] == sum(stage["truncated"] for stage in stages.values())
    assert stats["retries"] == 0  # constrained decoding: valid JSON on the first attempt
    # the shared instruction prefix is evaluated once, not per chunk
    assert 0 < stats["extract_prompt_tokens_evaluated"] < 1.25 * stats["source_tokens"]

    again = _storyline("summarize", str(SEEDS), "--model", str(tiny_gguf), "--format", "json",
                       "--cache-dir", str(tmp_path / "cache"), "--quiet")
    assert again.returncode == 0, again.stderr
    rerun = json.loads(again.stdout)
    # every call that gave an answer is answered from the cache; a reply that failed (ran past its
    # token limit) is not kept, so it alone is asked again
    rerun_stages = rerun["meta"]["stats"]["stages"]
    assert rerun_stages["extract"]["cache_hits"] == stats["chunks"] - stats["failed_chunks"] >= 5
    assert rerun_stages["extract"]["calls"] <= stages["extract"]["truncated"]
    if document["summary"]:
        assert rerun_stages["summarize"]["calls"] == 0 and rerun_stages["summarize"]["cache_hits"] == 1
    assert {k: v for k, v in rerun.items() if k != "meta"} == {k: v for k, v in document.items() if k != "meta"}


@pytest.mark.slow
def test_same_seed_same_output_across_processes_and_another_seed_differs(tiny_gguf, tmp_path):
    def run(seed: int, cache: str) -> tuple[dict, int]:
        """The result without its run figures, and the tokens the model wrote (the tiny model's
        words never ground, so its choices show in what it wrote, not in the timeline)."""
        result = _process("summarize", str(SEEDS), "--model", str(tiny_gguf), "--format", "json", "--temperature",
                          "1.0", "--seed", str(seed), "--cache-dir", str(tmp_path / cache), "-q")
        assert result.returncode == 0, result.stderr
        document = json.loads(result.stdout)
        return {k: v for k, v in document.items() if k != "meta"}, document["meta"]["stats"]["completion_tokens"]

    first, second = run(7, "a"), run(7, "b")  # fresh caches: both really sampled
    assert first == second
    assert run(8, "c")[1] != first[1]


@pytest.mark.slow
def test_markdown_is_the_default_output(tiny_gguf, tmp_path):
    run = _storyline("summarize", str(SEEDS), "--model", str(tiny_gguf), "--cache-dir", str(tmp_path), "-q")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("# Timeline") and "## Sources" in run.stdout


@pytest.mark.slow
def test_warnings_appear_as_they_happen_and_quiet_silences_them(tiny_gguf, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(TUESDAY_CALL_000 + "\n")
    (folder / "empty.txt").write_text("")
    (folder / "page.html").write_text("<p>x</p>")
    args = ["summarize", str(folder), "--model", str(tiny_gguf), "--cache-dir", str(tmp_path / "c"),
            "--published", "2025-03-17"]
    run = _storyline(*args)
    assert run.returncode == 0, run.stderr
    lines = run.stderr.splitlines()
    named = next(i for i, line in enumerate(lines) if f"Model: {tiny_gguf.name}" in line)
    assert named < next(i for i, line in enumerate(lines) if "merged into" in line)  # before the work
    assert "empty.txt is empty" in run.stderr and "page.html" in run.stderr
    assert "llama_context" not in run.stderr  # llama.cpp's own log only with --verbose
    quiet = _storyline(*args, "-q")
    assert quiet.returncode == 0 and quiet.stderr == ""
    verbose = _storyline(*args, "-v", "--no-cache")
    assert "llama_context" in verbose.stderr


@pytest.mark.slow
def test_offline_without_a_model_is_a_short_error(tmp_path):
    """With the default model's packages not installed (hidden here) and no network, the run
    stops at once and says how to get a model."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "STORYLINE_MODEL": ""}
    hide_packages = ("import sys, storyline.packaged as p; p.PackagedModel.installed_parts = lambda self: None; "
                     "from storyline.cli import main; sys.argv[0] = 'storyline'; main()")
    run = subprocess.run([sys.executable, "-c", hide_packages, "summarize", str(SEEDS), "--cache-dir",
                          str(tmp_path / "c")], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert "--model" in run.stderr and "offline" in run.stderr and "storyline[model]" in run.stderr


def test_missing_model_file_and_missing_input_are_clear_errors(tmp_path):
    run = _storyline("summarize", str(SEEDS), "--model", str(tmp_path / "none.gguf"), "--cache-dir", str(tmp_path))
    assert run.returncode == 2 and "does not exist" in run.stderr and "--model" in run.stderr
    assert "Traceback" not in run.stderr
    run = _storyline("summarize", str(SEEDS), "--cache-dir", str(tmp_path),
                     env={"STORYLINE_MODEL": str(tmp_path / "env.gguf")})
    assert run.returncode == 2 and "$STORYLINE_MODEL" in run.stderr
    run = _storyline("summarize", str(tmp_path / "missing.txt"), "--model", "x.gguf")
    assert run.returncode == 2 and "missing.txt" in run.stderr and "Traceback" not in run.stderr
    run = _storyline("summarize", str(SEEDS), "--published", "17/03/2025")
    assert run.returncode == 2 and "YYYY-MM-DD" in run.stderr


@pytest.mark.parametrize("flag", [("--batch-size", "-1"), ("--batch-size", "0"), ("--ctx", "-5"), ("--ctx", "100"),
                                  ("--temperature", "-1"), ("--seed", "-1"), ("--seed", "4294967295"),
                                  ("--threads", "0"), ("--max-chunk-tokens", "0"), ("-O", "top_k=-3"),
                                  ("-O", "no_such_setting=1"), ("--read", "0"), ("--read", "1.5"),
                                  ("--read", "most"), ("--parallel", "0")])
def test_numeric_options_are_checked_at_the_command_edge(tiny_gguf, tmp_path, flag):
    run = _storyline("summarize", str(SEEDS), "--model", str(tiny_gguf), "--cache-dir", str(tmp_path), *flag)
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr and "Segmentation" not in run.stderr
    assert flag[0] in run.stderr or flag[1].split("=")[0] in run.stderr


def test_output_folder_is_refused_before_any_model_work(tiny_gguf, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    run = _storyline("summarize", str(SEEDS), "--model", str(tiny_gguf), "-o", str(folder),
                     "--cache-dir", str(tmp_path / "c"))
    assert run.returncode == 2 and "is a folder" in run.stderr
    assert not (tmp_path / "c" / "calls").exists()  # no model call was made or cached
    assert list(folder.iterdir()) == [] and not list(tmp_path.glob(".*.tmp"))


@pytest.mark.slow
def test_output_files_respect_the_umask_and_keep_their_mode(tiny_gguf, tmp_path):
    fresh, existing = tmp_path / "fresh.md", tmp_path / "existing.md"
    existing.write_text("old")
    existing.chmod(0o640)
    for target in (fresh, existing):
        run = _storyline("summarize", str(SEEDS), "--model", str(tiny_gguf), "-o", str(target),
                         "--cache-dir", str(tmp_path / "c"), "-q")
        assert run.returncode == 0, run.stderr
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE(existing.stat().st_mode) == 0o640
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.slow
def test_import_and_help_do_not_load_llama_cpp():
    code = ("import sys, storyline; from storyline.cli import main\n"
            "try:\n    main(['--help'], prog_name='storyline')\nexcept SystemExit:\n    pass\n"
            "assert 'llama_cpp' not in sys.modules, 'llama_cpp was imported'\n"
            "storyline.summarize; storyline.Result\n"
            "assert 'llama_cpp' not in sys.modules, 'llama_cpp was imported'\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "Usage: storyline" in run.stdout


def test_dry_run_counts_with_the_model_tokenizer_without_loading_it(tiny_gguf):
    run = _storyline("summarize", str(SEEDS), "--dry-run", "--model", str(tiny_gguf))
    assert run.returncode == 0, run.stderr
    assert "5 extraction call(s)" in run.stdout and f"token counts by gguf:{tiny_gguf.name}" in run.stdout
    assert "\n1 US President Donald Trump will speak" in run.stdout


def test_read_chooses_how_much_of_a_large_story_the_model_reads(tmp_path):
    """A large story (the seeds, twelve times over, each copy told apart so that nothing is a
    repeat) is read in part by default, more with a larger share, whole with 'all'."""
    for copy in range(12):
        for path in SEEDS.glob("*.txt"):
            text = path.read_text().replace(" the ", f" the {copy}-th ")
            (tmp_path / f"{copy}-{path.name}").write_text(text)
    reads = {}
    for share in ("auto", "0.3", "all"):
        run = _storyline("summarize", str(tmp_path), "--dry-run", "--published", "2025-03-17", "--read", share,
                         env={"STORYLINE_MODEL": ""})
        assert run.returncode == 0, run.stderr
        read, total = map(int, run.stdout.split("the model reads ")[1].split(" sentences")[0].split(" of "))
        reads[share] = (read, total)
    totals = {total for _, total in reads.values()}
    assert len(totals) == 1 and reads["all"][0] == totals.pop()
    assert reads["auto"][0] < reads["0.3"][0] < reads["all"][0]


def test_dry_run_without_a_model_works_offline(tmp_path):
    env = {"STORYLINE_MODEL": "", "TIKTOKEN_CACHE_DIR": str(tmp_path / "empty"), "HF_HUB_OFFLINE": "1"}
    run = _storyline("summarize", str(SEEDS), "--dry-run", env=env)
    assert run.returncode == 0, run.stderr
    assert "5 extraction call(s)" in run.stdout and "no model given" in run.stdout


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


@pytest.mark.slow
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


@pytest.mark.parametrize(("content", "message"), [(b"\xff\xfe\x00\x81", "not UTF-8"), (b"[1, 2]\n", "line 1")])
def test_bad_mentions_files_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "m.jsonl"
    path.write_bytes(content)
    run = _storyline("summarize", "--from-mentions", str(path), "--no-cache")
    assert run.returncode == 2 and message in run.stderr and "Traceback" not in run.stderr


@pytest.mark.slow
def test_render_command_rerenders_a_json_result_from_a_file_or_stdin(tiny_gguf, tmp_path):
    out = tmp_path / "r.json"
    assert _storyline("summarize", str(SEEDS), "--model", str(tiny_gguf), "--format", "json", "-o", str(out),
                      "--cache-dir", str(tmp_path), "-q").returncode == 0
    run = _storyline("render", str(out), "--format", "text")
    assert run.returncode == 0 and run.stdout.strip()
    piped = _storyline("render", "-", "--format", "text", input=out.read_text())
    assert piped.returncode == 0 and piped.stdout == run.stdout
    wrong = _storyline("render", str(SEEDS.parent / "README.md"))
    assert wrong.returncode == 2 and "not a storyline JSON result" in wrong.stderr and "problems" not in wrong.stderr


def test_models_lists_what_is_available_offline(tmp_path):
    env = {"HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1", "STORYLINE_MODEL": ""}
    run = _storyline("models", env=env)
    assert run.returncode == 0, run.stderr
    assert "Default model: Qwen2.5-Coder-1.5B-Instruct (Q4_K_M)" in run.stdout
    assert "pip install 'storyline[model]'" in run.stdout
    assert "SmolLM2-135M-Instruct.Q4_1.gguf" in run.stdout  # installed by the test extra


@pytest.mark.slow
def test_cache_shows_sizes_and_clears_after_asking(tiny_gguf, tmp_path):
    cache = tmp_path / "cache"
    assert _storyline("summarize", str(SEEDS), "--model", str(tiny_gguf), "--cache-dir", str(cache), "-q"
                      ).returncode == 0
    shown = _storyline("cache", "--cache-dir", str(cache))
    assert shown.returncode == 0 and str(cache) in shown.stdout
    sizes = {line.split("  ")[1].strip(): float(line.split()[-2]) for line in shown.stdout.splitlines()[1:]}
    assert sizes["model results"] > 0 and sizes["saved instruction states"] > 0
    refused = _storyline("cache", "--cache-dir", str(cache), "--clear", input="n\n")
    assert "Nothing deleted" in refused.stdout and (cache / "calls").exists()
    cleared = _storyline("cache", "--cache-dir", str(cache), "--clear", "--yes")
    assert cleared.returncode == 0 and not (cache / "calls").exists() and not (cache / "prefix").exists()


def test_storyline_log_lists_the_calls_and_shows_what_was_sent_and_the_raw_reply(tmp_path):
    """A run with a cache keeps its calls; `storyline log` lists them newest first and --show
    prints the messages and the reply as the model wrote it, an invalid one included. A rerun
    answered from the cache is logged as such."""
    from conftest import event, events, is_extraction, oracle

    from storyline import summarize
    from storyline.backends.scripted import ScriptedBackend
    from storyline.models import Article

    article = Article(id="a", text="The minister resigned on Monday.\n", published=dt.date(2025, 3, 18))
    replies = iter(['{"events": [["Minister resigns", "one"]]}', json.dumps(events(event("Minister resigns", 1)))])

    def respond(request):
        return next(replies) if is_extraction(request) else oracle(request)

    cache = tmp_path / "cache"
    summarize([article], backend=ScriptedBackend(responder=respond, identity="logged"), cache_dir=cache)
    listed = _storyline("log", "--cache-dir", cache, "--stage", "extract")
    lines = listed.stdout.splitlines()
    assert listed.returncode == 0 and len(lines) == 2 and all(" extract " in line for line in lines)
    newest, first = (int(line.split()[0]) for line in lines)
    assert newest > first
    shown = _storyline("log", "--cache-dir", cache, "--show", first)
    assert '"one"' in shown.stdout  # the invalid reply, as written
    assert "--- user\n" in shown.stdout and "1 The minister resigned on Monday." in shown.stdout
    retry = _storyline("log", "--cache-dir", cache, "--show", newest).stdout
    assert "did not pass validation" in retry and retry.endswith('--- reply\n{"events": [["Minister resigns", 1]]}\n')

    summarize([article], backend=ScriptedBackend(responder=respond, identity="logged"), cache_dir=cache)
    again = _storyline("log", "--cache-dir", cache, "--stage", "extract", "-n", "1").stdout
    assert again.split()[-1] == "cache" and int(again.split()[0]) > newest
    missing = _storyline("log", "--cache-dir", cache, "--show", 99999)
    assert missing.returncode == 2 and "storyline log" in missing.stderr
