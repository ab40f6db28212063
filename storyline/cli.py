"""The ``storyline`` command: a thin layer over :mod:`storyline.pipeline`.

Library errors become a one-paragraph message and an exit code here, and only here. Heavy
imports happen inside the commands so ``storyline --help`` stays fast.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import tempfile
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import StorylineError


class _DateType(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date; write it as YYYY-MM-DD, e.g. 2025-03-17.", param, ctx)


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


def _setup_logging(quiet: bool) -> None:
    """Warnings on stderr, and storyline's own stage messages unless --quiet."""
    logging.basicConfig(level=logging.ERROR if quiet else logging.WARNING,
                        format="storyline: %(message)s", stream=sys.stderr)
    logging.getLogger("storyline").setLevel(logging.ERROR if quiet else logging.INFO)


def _write_output(text: str, output: str | None) -> None:
    """Write to stdout, or atomically to a file (a failed run never leaves half a file)."""
    if not output or output == "-":
        click.echo(text, nl=False)
        return
    target = Path(output)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=target.parent, delete=False,
                                     prefix=f".{target.name}.", suffix=".tmp") as handle:
        handle.write(text)
    os.replace(handle.name, target)


def _print_stats(stats) -> None:
    click.echo(f"{'stage':<11}{'calls':>7}{'cached':>8}{'retries':>9}{'prompt eval':>13}"
               f"{'generated':>11}{'seconds':>9}", err=True)
    for name, stage in stats.stages.items():
        click.echo(f"{name:<11}{stage.calls:>7}{stage.cache_hits:>8}{stage.retries:>9}"
                   f"{stage.prompt_tokens_evaluated:>13}{stage.completion_tokens:>11}{stage.seconds:>9.2f}",
                   err=True)
    ratio = stats.extract_prompt_tokens_evaluated / stats.source_tokens if stats.source_tokens else 0.0
    click.echo(f"source tokens {stats.source_tokens}; extraction prompt tokens evaluated / source "
               f"tokens = {ratio:.3f}; mentions {stats.mentions}; ungrounded dropped "
               f"{stats.ungrounded_dropped}", err=True)


def _model_options(command: Callable) -> Callable:
    options = [
        click.option("--model", "-m", metavar="M", help="A .gguf path or a Hugging Face reference "
                     "owner/repo:file.gguf. Default: $STORYLINE_MODEL, else the default model "
                     "(downloaded once into the user cache)."),
        click.option("--prompts", "prompts_dir", metavar="DIR", type=click.Path(file_okay=False),
                     help="Folder of prompt templates that override the defaults by file name."),
        click.option("--published", type=_DateType(), help="Publication date for articles whose "
                     "metadata gives none (relative dates are resolved against it)."),
        click.option("--seed", type=int, default=0, show_default=True, help="Sampling seed, passed on every call."),
        click.option("--temperature", type=float, default=0.0, show_default=True),
        click.option("--max-retries", type=int, default=2, show_default=True,
                     help="Extra attempts when a reply fails validation."),
        click.option("--cache-dir", type=click.Path(file_okay=False), help="Where model results are "
                     "cached (default: the user cache directory)."),
        click.option("--no-cache", is_flag=True, help="Neither read nor write cached results."),
        click.option("--ctx", "context_window", type=int, help="Context window in tokens "
                     "(default: the model's, at most 8192)."),
        click.option("--threads", type=int, help="CPU threads (default: all cores)."),
        click.option("--batch-size", type=int, default=512, show_default=True,
                     help="Prompt tokens per llama.cpp batch."),
        click.option("--max-chunk-tokens", type=int, default=2048, show_default=True,
                     help="Largest chunk of article text per extraction call."),
        click.option("--adjudicate/--no-adjudicate", default=False, show_default=True,
                     help="Ask the model about pairs of mentions the merge rules are unsure of."),
        click.option("--stats", "show_stats", is_flag=True,
                     help="Print per-stage calls, tokens and seconds to stderr."),
        click.option("--quiet", "-q", is_flag=True, help="No progress or warnings on stderr."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _pipeline(backend=None, **kwargs: Any):
    from .pipeline import Options, Pipeline

    options = Options(
        model=kwargs["model"], prompts=kwargs["prompts_dir"], published=kwargs["published"],
        seed=kwargs["seed"], temperature=kwargs["temperature"], max_retries=kwargs["max_retries"],
        cache_dir=Path(kwargs["cache_dir"]) if kwargs["cache_dir"] else None, use_cache=not kwargs["no_cache"],
        context_window=kwargs["context_window"], threads=kwargs["threads"], batch_size=kwargs["batch_size"],
        max_chunk_tokens=kwargs["max_chunk_tokens"], adjudicate=kwargs["adjudicate"],
        progress=not kwargs["quiet"] and sys.stderr.isatty(),
    )
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
@click.option("--format", "output_format", type=click.Choice(["markdown", "json", "text"]),
              default="markdown", show_default=True, help="Built-in output template.")
@click.option("--template", type=click.Path(dir_okay=False), help="Custom jinja2 output template "
              "(receives `result` and `result_json`); overrides --format.")
@click.option("--output", "-o", metavar="FILE", help="Write here instead of stdout.")
@click.option("--from-mentions", type=click.Path(dir_okay=False), help="Build the timeline from a "
              "mentions file written by `storyline extract` (no extraction calls).")
@click.option("--dry-run", is_flag=True, help="Show the chunks and rendered prompts that would be "
              "sent, with token counts (tiktoken estimates); loads no model.")
@_friendly_errors
def summarize(paths: tuple[str, ...], output_format: str, template: str | None, output: str | None,
              from_mentions: str | None, dry_run: bool, show_stats: bool, **kwargs: Any) -> None:
    """Extract, merge and summarize the articles at PATH... (files, folders of .txt/.md, or - for
    stdin). Each article may carry metadata in YAML front matter or in a manifest.toml beside it."""
    from .render import render

    _setup_logging(kwargs["quiet"])
    if not paths and not from_mentions:
        raise click.UsageError("give at least one PATH (or --from-mentions FILE).")
    if paths and from_mentions:
        raise click.UsageError("give PATHs or --from-mentions, not both.")
    pipeline = _pipeline(**kwargs)
    try:
        pipeline.check_templates()
        from .templating import output_template

        output_template(template or output_format)  # a broken output template fails now, too
        if dry_run:
            _dry_run(pipeline, paths)
            return
        if from_mentions:
            from .pipeline import read_mentions

            articles, mentions = read_mentions(from_mentions)
            result = pipeline.run_from_mentions(articles, mentions)
        else:
            result = pipeline.run(paths, stdin=sys.stdin)
        _write_output(render(result, template or output_format), output)
        if not kwargs["quiet"]:
            for warning in result.meta.warnings:
                click.echo(f"storyline: warning: {warning}", err=True)
        if show_stats:
            _print_stats(result.meta.stats)
    finally:
        pipeline.close()


def _dry_run(pipeline, paths: tuple[str, ...]) -> None:
    from .tokens import TiktokenTokenizer, chat_prompt_tokens

    articles = pipeline.ingest(paths, stdin=sys.stdin)
    tokenizer = TiktokenTokenizer()
    window = pipeline.options.context_window or 8192

    def count(messages: tuple[tuple[str, str], ...]) -> int:
        return chat_prompt_tokens(tokenizer.count, messages)

    planned = pipeline.plan(articles, tokenizer=tokenizer, context_window=window, count_prompt=count)
    system = planned[0].request.messages[0][1] if planned else ""
    click.echo(f"# Dry run: {len(articles)} article(s), {len(planned)} extraction call(s); context "
               f"window {window}; token counts are tiktoken estimates (no model loaded).\n")
    click.echo(f"## System prompt (identical in every extraction call, {tokenizer.count(system)} tokens)\n")
    click.echo(system + "\n")
    for call in planned:
        click.echo(f"## {call.article.id} chunk {call.chunk.index}: {len(call.chunk.sentences)} sentences, "
                   f"{call.chunk.token_count} text tokens, {call.prompt_tokens} prompt tokens, "
                   f"max {call.request.max_tokens} reply tokens\n")
        click.echo(call.request.messages[1][1] + "\n")
    click.echo("## Then: merge (no model calls unless --adjudicate) and one summary call (prompt: "
               f"{pipeline.prompts.source_of('summarize')}).")
    for warning in pipeline.warnings:
        click.echo(f"storyline: warning: {warning}", err=True)


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

    from .pipeline import write_mentions

    _setup_logging(kwargs["quiet"])
    pipeline = _pipeline(**kwargs)
    try:
        articles = pipeline.ingest(paths, stdin=sys.stdin)
        mentions = pipeline.extract(articles)
        buffer = io.StringIO()
        write_mentions(articles, mentions, buffer)
        _write_output(buffer.getvalue(), output)
        logging.getLogger("storyline").info("Wrote %d mentions from %d article(s) to %s.", len(mentions),
                                            len(articles), output)
        if not kwargs["quiet"]:
            for warning in pipeline.warnings:
                click.echo(f"storyline: warning: {warning}", err=True)
        if show_stats:
            pipeline.stats.settle()
            _print_stats(pipeline.stats)
    finally:
        pipeline.close()


@main.command("render")
@click.argument("result_file", type=click.Path(dir_okay=False))
@click.option("--format", "output_format", type=click.Choice(["markdown", "json", "text"]),
              default="markdown", show_default=True)
@click.option("--template", type=click.Path(dir_okay=False), help="Custom jinja2 output template.")
@click.option("--output", "-o", metavar="FILE", help="Write here instead of stdout.")
@_friendly_errors
def render_command(result_file: str, output_format: str, template: str | None, output: str | None) -> None:
    """Re-render a JSON result (from `summarize --format json`) with another template. Never
    calls the model."""
    from pydantic import ValidationError

    from .errors import InputError
    from .models import Result
    from .render import render

    path = Path(result_file)
    try:
        result = Result.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path} does not exist.") from None
    except ValidationError as error:
        raise InputError(f"{path} is not a storyline JSON result ({error.error_count()} problems).") from None
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
