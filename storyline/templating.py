"""Jinja2 for every prompt and every rendering: a strict environment over template files.

Prompt templates live in ``prompts/`` (shipped inside the wheel as ``storyline/prompts``); a user
directory given with ``--prompts`` overrides any of them by file name and falls back to the
defaults for the rest. Output templates live in ``storyline/templates``. Undefined variables
fail loudly (StrictUndefined), and every template error becomes a :class:`TemplateError` naming
the file and line.
"""

from __future__ import annotations

import hashlib
import shutil
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta

from .errors import TemplateError

PROMPT_NAMES = ("extract", "headline", "summarize", "adjudicate", "retry")
OUTPUT_FORMATS = {"markdown": "markdown.j2", "json": "json.j2", "text": "text.j2", "html": "page.html.j2"}
"""Built-in output formats and their templates (in ``storyline/templates``)."""
_PACKAGE = Path(__file__).parent


def default_prompts_dir() -> Path:
    """The installed prompt pack, or the checkout's ``prompts/`` when running from source."""
    installed = _PACKAGE / "prompts"
    return installed if installed.is_dir() else _PACKAGE.parent / "prompts"


def output_templates_dir() -> Path:
    return _PACKAGE / "templates"


_MARKUP_SUFFIXES = (".html", ".htm", ".xml", ".html.j2", ".htm.j2", ".xml.j2")


def escapes_markup(name: str | None) -> bool:
    """HTML and XML templates escape every value they print (article and model text is data)."""
    return bool(name) and name.lower().endswith(_MARKUP_SUFFIXES)  # type: ignore[union-attr]


def _environment(search_path: list[Path]) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in search_path]),
        undefined=jinja2.StrictUndefined,
        autoescape=escapes_markup,
        keep_trailing_newline=False,
        trim_blocks=False,
    )


def _text_outside_blocks(env: jinja2.Environment, name: str) -> int | None:
    """The line of the first output a prompt template writes outside its blocks, if any: such
    text would be silently dropped, since a prompt is its ``system`` and ``user`` blocks."""
    from jinja2 import nodes

    source, _, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
    for node in env.parse(source).body:
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                if isinstance(child, nodes.TemplateData):
                    if child.data.strip():  # the line of its first visible character
                        return child.lineno + child.data[: len(child.data) - len(child.data.lstrip())].count("\n")
                    continue
                return child.lineno
    return None


def _rewritten(env: jinja2.Environment) -> BaseException:
    """The exception being handled, its traceback rewritten by jinja2 to template lines (done
    for ``Template.render`` but not for block functions called directly)."""
    try:
        env.handle_exception()
    except Exception as error:
        return error
    raise AssertionError("handle_exception always raises")


_TEMPLATE_FILES = (".j2", ".jinja", ".html", ".htm", ".xml", ".txt", "<template>")


def _from_template(error: BaseException) -> bool:
    """Whether an error is the template's: jinja2's own (syntax, an undefined variable, a
    filter's refusal of its argument), or one raised by the template's own code (``{{ 1 / 0 }}``),
    which jinja2 reports at a template line. An error raised inside storyline's code (a filter's
    bug) is not: it is let through, so a bug is never blamed on the user's template."""
    if isinstance(error, jinja2.TemplateError):
        return True
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and frames[-1].filename.endswith(_TEMPLATE_FILES)


def _template_error(error: BaseException, fallback_name: str) -> TemplateError:
    """Describe a jinja2 failure by the template file and line it happened at."""
    path, line = None, None
    if isinstance(error, jinja2.TemplateSyntaxError):
        path, line = error.filename, error.lineno
    else:
        # jinja2 rewrites tracebacks so template frames carry the template's file and line.
        for frame in reversed(traceback.extract_tb(error.__traceback__)):
            if frame.filename.endswith(".j2") or frame.filename.endswith(".jinja"):
                path, line = frame.filename, frame.lineno
                break
    where = f"{path or fallback_name}" + (f", line {line}" if line else "")
    if isinstance(error, jinja2.TemplateNotFound):
        message = f"Template {error.name!r} was not found (needed by {fallback_name})."
    else:
        message = f"Template error in {where}: {error}."
    return TemplateError(
        message + " Fix the template (or remove it from your prompts folder to use the default).",
        path=path,
        line=line,
    )


_SENTENCE = {"n": 1, "text": "A sentence."}
_REPORT = {"article": "sample", "source": "Sample article", "published": "17 Mar 2025", "date": "18 Mar 2025",
           "title": "Sample event", "quote": "A sentence."}
SAMPLE_VALUES: dict[str, dict[str, Any]] = {
    "extract": {"article": {"id": "sample", "title": None, "published": None}, "chunk": {"index": 0},
                "sentences": [_SENTENCE]},
    "summarize": {"events": [{"date": "18 Mar 2025", "title": "Sample event", "status": "happened", "sources": 2,
                              "actors": ["Someone"], "speaker": "Someone", "outlet": "Sample outlet",
                              "conflicts": ["sources differ"], "quote": "A sentence.", "verbatim": "A sentence."}],
                  "articles": [], "omitted": 0},
    "adjudicate": {"first": _REPORT, "second": _REPORT},
    "headline": {"sentences": [_SENTENCE]},
    "retry": {"error": "- e: sample error"},
}
"""Stand-ins with the shape of what each prompt is given in a run (``extract.article_view``,
``extract.NumberedSentence``, ``summary.event_view``, ``adjudication.ModelJudge.report``)."""


class PromptSet:
    """The prompt templates of a run: user overrides first, shipped defaults behind them."""

    def __init__(self, override_dir: str | Path | None = None):
        self.default_dir = default_prompts_dir()
        self.override_dir = Path(override_dir) if override_dir else None
        if self.override_dir is not None and not self.override_dir.is_dir():
            raise TemplateError(
                f"Prompts folder {self.override_dir} does not exist. Create it with "
                "`storyline prompts export DIR`, then edit the files you want to change.",
                path=str(self.override_dir),
            )
        search = [self.override_dir, self.default_dir] if self.override_dir else [self.default_dir]
        self._env = _environment(search)
        self._templates: dict[str, jinja2.Template] = {}

    def source_of(self, name: str) -> Path:
        """The file a prompt is read from."""
        if self.override_dir and (self.override_dir / f"{name}.j2").is_file():
            return self.override_dir / f"{name}.j2"
        return self.default_dir / f"{name}.j2"

    def template(self, name: str) -> jinja2.Template:
        if name not in self._templates:
            try:
                template = self._env.get_template(f"{name}.j2")
                stray = _text_outside_blocks(self._env, f"{name}.j2") if template.blocks else None
            except jinja2.TemplateError as error:
                raise _template_error(error, str(self.source_of(name))) from None
            if stray is not None:
                path = self.source_of(name)
                raise TemplateError(
                    f"Template {path}, line {stray}: text outside the {{% block system %}} and {{% block user %}} "
                    "blocks is never sent to the model. Move it into one of the blocks.",
                    path=str(path), line=stray)
            self._templates[name] = template
        return self._templates[name]

    def check(self) -> None:
        """Render every prompt once with stand-in values (``SAMPLE_VALUES``), so a broken template
        fails before any model call, with its file and line."""
        for name, values in SAMPLE_VALUES.items():
            if name == "retry":
                self.render_text(name, **values)
            else:
                self.messages(name, **values)

    def fingerprint(self, name: str) -> str:
        """A hash of the prompt's source and of every template it includes, imports or extends
        (as the loader finds them, overrides first), for cache keys of results that depend on it."""
        digest = hashlib.sha256()
        pending, seen = [f"{name}.j2"], set()
        while pending:
            template_name = pending.pop()
            if template_name in seen:
                continue
            seen.add(template_name)
            try:
                source, _, _ = self._env.loader.get_source(self._env, template_name)  # type: ignore[union-attr]
                referenced = jinja2.meta.find_referenced_templates(self._env.parse(source))
            except jinja2.TemplateError as error:
                raise _template_error(error, str(self.source_of(name))) from None
            digest.update(template_name.encode() + b"\0" + source.encode() + b"\0")
            # a name computed at render time (None) cannot be followed; the rendered prompt still is keyed
            pending += sorted(r for r in referenced if r is not None)
        return digest.hexdigest()[:16]

    def _render(self, name: str, block: str | None, variables: dict[str, Any]) -> str:
        template = self.template(name)
        try:
            if block is None:
                return template.render(variables).strip()
            if block not in template.blocks:
                raise TemplateError(
                    f"Template {self.source_of(name)} has no {{% block {block} %}}; prompt templates "
                    "need a `system` and a `user` block.",
                    path=str(self.source_of(name)),
                )
            context = template.new_context(variables)
            render_block: Callable = template.blocks[block]
            return "".join(render_block(context)).strip()
        except TemplateError:
            raise
        except Exception:
            rewritten = _rewritten(self._env)
            if not _from_template(rewritten):
                raise
            raise _template_error(rewritten, str(self.source_of(name))) from None

    def messages(self, name: str, **variables: Any) -> tuple[tuple[str, str], ...]:
        """The chat messages of a prompt: its system block (rendered with no variables, so it
        is identical in every call) and its user block."""
        return (("system", self._render(name, "system", {})), ("user", self._render(name, "user", variables)))

    def render_text(self, name: str, **variables: Any) -> str:
        return self._render(name, None, variables)

    def listing(self) -> list[tuple[str, Path, str]]:
        """(name, file, "custom" or "default") for every prompt."""
        rows = []
        for name in PROMPT_NAMES:
            path = self.source_of(name)
            origin = "custom" if self.override_dir and path.parent == self.override_dir else "default"
            rows.append((name, path, origin))
        return rows

    def export(self, target: str | Path, *, overwrite: bool = False) -> list[Path]:
        """Copy the default prompts into ``target`` for editing."""
        target = Path(target)
        target.mkdir(parents=True, exist_ok=True)
        written = []
        for name in PROMPT_NAMES:
            destination = target / f"{name}.j2"
            if destination.exists() and not overwrite:
                raise TemplateError(
                    f"{destination} already exists; pass --force to overwrite it.", path=str(destination)
                )
            shutil.copyfile(self.default_dir / f"{name}.j2", destination)
            written.append(destination)
        return written


def _safe_url(url: str | None) -> str:
    """A link target only if it is a web address (no ``javascript:`` from an article's metadata)."""
    return url if url and url.lower().startswith(("http://", "https://")) else ""


_CONFLICT_NAMES = {"date": "Sources give different dates", "figure": "Sources give different figures",
                   "title": "Sources describe a person differently (job title)"}


def _precision_label(span) -> str:
    """How exactly a date is known, in words: "a day", "a month", "before a date" ..."""
    if not span.is_known:
        return "no date"
    if span.qualifier in ("before", "after", "since", "until", "by"):
        return f"{'only a side: ' if span.vague else ''}{span.qualifier} a date"
    return {"day": "a day", "week": "a week", "month": "a month", "quarter": "a quarter", "season": "a season",
            "year": "a year", "decade": "a decade", "century": "a century", "range": "a span of days"}.get(
        str(span.precision), str(span.precision))


def _expects(name: str, kind: type | tuple[type, ...], what: str, function):
    """A filter that refuses an argument of the wrong kind as the template's mistake."""

    def checked(value, *args):
        if not isinstance(value, kind):
            raise jinja2.exceptions.FilterArgumentError(
                f"the {name} filter takes {what}, not {type(value).__name__} {value!r:.40}")
        return function(value, *args)

    return checked


def output_filters() -> dict[str, Any]:
    """The filters output templates may use (see the README): ``span`` (a date span as text),
    ``precision`` (how exactly it is known, in words), ``safe_url`` (a link only if it is a web
    address) and ``conflict_name`` (what a kind of disagreement is called)."""
    from .dates import format_span
    from .models import DateSpan

    date = "a date span (such as event.date)"
    return {"span": _expects("span", DateSpan, date, format_span),
            "precision": _expects("precision", DateSpan, date, _precision_label),
            "safe_url": _expects("safe_url", (str, type(None)), "an address or nothing", _safe_url),
            "conflict_name": _expects("conflict_name", str, "a kind of disagreement",
                                      lambda kind: _CONFLICT_NAMES.get(kind, kind))}


def output_template(format_or_path: str) -> jinja2.Template:
    """A built-in output template by format name, or a custom one by file path.

    A custom template can include or extend the built-in ones by name.
    """
    if format_or_path in OUTPUT_FORMATS:
        path = output_templates_dir() / OUTPUT_FORMATS[format_or_path]
    else:
        path = Path(format_or_path)
        if not path.is_file():
            raise TemplateError(f"Output template {path} does not exist.", path=str(path))
    env = _environment([path.parent.resolve(), output_templates_dir()])
    env.filters.update(output_filters())
    try:
        return env.get_template(path.name)
    except jinja2.TemplateError as error:
        raise _template_error(error, str(path)) from None


def render_output(template: jinja2.Template, **variables: Any) -> str:
    try:
        return template.render(variables)
    except Exception as error:  # render() has already rewritten the traceback to template lines
        if not _from_template(error):
            raise
        raise _template_error(error, template.filename or template.name or "template") from None
