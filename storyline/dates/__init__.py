"""Turn time expressions as written in news ("on Tuesday", "last August") into date spans.

The model only copies the expression; all calendar arithmetic happens here, in an ordered table
of small rules (``rules``). The sentence's tense (``tense``) decides the direction of weekdays,
months, quarters and named days, combined with the model's status label as
:func:`tense.direction` documents.

Conventions: weeks run Monday to Sunday (ISO); a month spans its first to last day; a year
1 January to 31 December; seasons are meteorological and northern (spring = March-May, winter N
= December N to February N+1); a weekday equal to the reference day is that day. Expressions
counted from another event ("two days later", "the following day") are not placed: the
reference is the publication date, never a guess at the story's own clock.

:func:`resolve` never raises: an expression that cannot be placed comes back unplaced, with its
text and a note saying why.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from ..models import DateSpan, Precision
from .rules import UNRECOGNISED, Context, normalize, resolve_text
from .spans import Tense, Unresolved
from .tense import direction, sentence_tense

__all__ = ["UNRECOGNISED", "Tense", "detect_tense", "format_day", "format_span", "resolve"]

MAX_EXPRESSION_CHARS = 120
"""Longer text is not a time expression (and is not worth the regular expressions' time)."""


def detect_tense(context: str, expression: str) -> Tense | None:
    """The tense governing ``expression`` in the sentence ``context``, or None if it shows none."""
    found = sentence_tense(context, expression)
    return found[0] if found else None


def resolve(
    expression: str | None,
    reference: dt.date | None,
    context: str | None = None,
    *,
    tense: Tense | None = None,
    status_tense: Tense | None = None,
) -> DateSpan:
    """Resolve ``expression`` against ``reference`` (the article's publication date).

    ``context`` is the sentence the expression was taken from; its tense decides the direction
    of bare weekdays and months. ``status_tense`` is the direction the model's status label
    implies ("happened" is past, "expected" future); how it combines with the sentence's tense
    is :func:`tense.direction`'s rule. ``tense`` overrides both. Unresolvable expressions come
    back with precision ``unknown`` and a note; they never get an invented day.
    """
    written = " ".join((expression or "").split())
    if not written:
        return DateSpan(expression=None, note="no time expression")
    if len(written) > MAX_EXPRESSION_CHARS:
        return DateSpan(expression=written, note="too long to be a time expression")
    if tense is None:
        tense = direction(context, written, status_tense)
    return _resolve_cached(written, reference, tense)


@lru_cache(maxsize=65536)
def _resolve_cached(written: str, reference: dt.date | None, tense: Tense | None) -> DateSpan:
    try:
        span = resolve_text(normalize(written), Context(reference, tense))
    except Unresolved as unresolved:
        return DateSpan(expression=written, note=str(unresolved) or "could not be resolved")
    return DateSpan(expression=written, start=span.start, end=span.end, precision=span.precision,
                    qualifier=span.qualifier, modifier=span.modifier, vague=span.vague)


# --- rendering -------------------------------------------------------------------------------


def format_day(d: dt.date) -> str:
    """"18 Mar 2025": the form every date in storyline's output and prompts takes."""
    return f"{d.day} {d.strftime('%b')} {d.year}"


def _month(d: dt.date) -> str:
    return f"{d.strftime('%b')} {d.year}"


def format_span(span: DateSpan) -> str:
    """Human form that shows the precision: "18 Mar 2025", "Feb 2025", "15–16 Mar 2025"."""
    if not span.is_known:
        return "undated"
    vague = f" ({span.expression})" if span.vague and span.expression else ""
    whole = span.precision in (Precision.month, Precision.year, Precision.decade)
    if span.qualifier == "before" and span.end:
        # before a whole month or year ends the day before it: show the month ("before Mar 2025")
        shown = _period(span.end + dt.timedelta(days=1), span.precision) if whole else format_day(span.end)
        return f"before {shown}{vague}"
    if span.qualifier == "after" and span.start:
        shown = _period(span.start - dt.timedelta(days=1), span.precision) if whole else format_day(span.start)
        return f"after {shown}{vague}"
    if span.qualifier == "since" and span.start:
        if span.precision in (Precision.month, Precision.year, Precision.decade):
            return "since " + _unit(span.start, span.precision)
        return f"since {format_day(span.start)}"
    if span.qualifier in ("by", "until") and span.end:
        return f"{span.qualifier} {format_day(span.end)}"
    return _closed(span)


def _period(day: dt.date, precision: Precision) -> str:
    """The month, year or decade that holds ``day``."""
    return _unit(dt.date(day.year // 10 * 10, 1, 1) if precision == Precision.decade else day, precision)


def _unit(start: dt.date, precision: Precision) -> str:
    if precision == Precision.month:
        return _month(start)
    if precision == Precision.decade:
        return f"{start.year}s"
    return str(start.year)


_SEASONS = {3: "spring", 6: "summer", 9: "autumn", 12: "winter"}


def _closed(span: DateSpan) -> str:
    start, end = span.start, span.end
    if start is None or end is None:
        return format_day(start or end)  # type: ignore[arg-type]
    prefix = f"{span.modifier} " if span.modifier else ""
    if span.precision == Precision.day or start == end:
        return format_day(start)
    if span.precision in (Precision.month, Precision.year, Precision.decade):
        return prefix + _unit(start, span.precision)
    if span.precision == Precision.century:
        number = start.year // 100 + 1
        suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
        return f"{prefix}{number}{suffix} century"
    if span.precision == Precision.quarter:
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    season = _SEASONS.get(start.month) if start.day == 1 else None
    if span.precision == Precision.season and season is not None:
        # A merged event's span may be a season cut short by another report's date ("spring
        # 2010" and "after 5 May"): only a span that starts with its season is named after it.
        return f"{season} {start.year}" + (f"/{str(end.year)[2:]}" if end.year != start.year else "")
    if start.year == end.year and start.month == end.month:
        return f"{start.day}–{end.day} {_month(start)}"
    if start.year == end.year:
        return f"{start.day} {start.strftime('%b')} – {format_day(end)}"
    return f"{format_day(start)} – {format_day(end)}"

