"""Render a result through an output template (Markdown, JSON, plain text or a custom file).

Rendering never calls the model: any result, fresh or loaded from JSON, can be re-rendered.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

from .errors import InputError
from .models import Result
from .templating import output_template, render_output


def result_json(result: Result) -> str:
    """The result's JSON: stable key order and formatting, so equal results are equal bytes."""
    return result.model_dump_json(indent=2)


def render(result: Result, template: str = "markdown") -> str:
    """``template`` is a format name (markdown, json, text) or a path to a jinja2 file, which
    receives ``result`` and ``result_json``."""
    text = render_output(output_template(template), result=result, result_json=result_json(result))
    return text if text.endswith("\n") else text + "\n"


def read_result(path: str, *, stdin: IO[str] | None = None) -> Result:
    """A JSON result written by ``storyline summarize --format json`` (``-`` reads stdin)."""
    from pydantic import ValidationError

    where = "stdin" if path == "-" else path
    try:
        if path == "-":
            import sys

            source = stdin or sys.stdin
            raw = getattr(source, "buffer", source).read()
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        else:
            text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{where} does not exist.") from None
    except IsADirectoryError:
        raise InputError(f"{where} is a folder; give the JSON file written by `storyline summarize --format json`.") \
            from None
    except UnicodeDecodeError:
        raise InputError(f"{where} is not UTF-8 text; give the JSON file written by "
                         "`storyline summarize --format json`.") from None
    except OSError as error:
        raise InputError(f"{where} cannot be read: {error.strerror}.") from None
    try:
        return Result.model_validate_json(text)
    except ValidationError as error:
        first = error.errors()[0]
        place = ".".join(str(p) for p in first["loc"]) or "the document"
        raise InputError(f"{where} is not a storyline JSON result ({place}: {first['msg']}; "
                         f"{error.error_count()} problem(s) in all). Write one with "
                         "`storyline summarize ... --format json -o result.json`.") from None
