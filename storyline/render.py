"""Render a result through an output template (Markdown, JSON, plain text or a custom file).

Rendering never calls the model: any result, fresh or loaded from JSON, can be re-rendered.
"""

from __future__ import annotations

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
