"""Calendar units as spans, and the choice between a unit's occurrences by tense.

Every function here either returns a well-formed :class:`Span` (``start <= end`` whenever both
are set) or raises :class:`Unresolved`: impossible dates ("April 31") and arithmetic beyond the
calendar's ends never escape as ``ValueError`` or ``OverflowError``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Literal

from ..models import Modifier, Precision, Qualifier

Tense = Literal["past", "future"]


class Unresolved(Exception):
    """The expression cannot be placed on the calendar; the message says why."""


@dataclass(frozen=True)
class Span:
    """A stretch of calendar time as a rule produces it (see ``models.DateSpan``)."""

    start: dt.date | None
    end: dt.date | None
    precision: Precision
    qualifier: Qualifier | None = None
    modifier: Modifier | None = None
    vague: bool = False

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise Unresolved(f"the span would end ({self.end}) before it starts ({self.start})")

    def with_(self, **changes) -> Span:
        return replace(self, **changes)

    def distance(self, day: dt.date) -> int:
        """Days from ``day`` to the nearest day of this span (0 inside it)."""
        if self.start is not None and day < self.start:
            return (self.start - day).days
        if self.end is not None and day > self.end:
            return (day - self.end).days
        return 0


def date(year: int, month: int, day: int) -> dt.date:
    """A calendar date, or :class:`Unresolved` naming what is impossible about it."""
    if not 1 <= month <= 12:
        raise Unresolved(f"there is no month {month}")
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise Unresolved(f"the year {year} is outside the calendar")
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise Unresolved(f"{calendar.month_name[month]} {year} has no day {day}")
    return dt.date(year, month, day)


def add_days(day: dt.date, days: int) -> dt.date:
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        raise Unresolved("the date would fall outside the calendar") from None


def shift_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (clamped to the month's last day: 31 January plus one month
    is 28 or 29 February), as ``dateutil.relativedelta`` computes it."""
    from dateutil.relativedelta import relativedelta

    try:
        return day + relativedelta(months=months)
    except (ValueError, OverflowError):
        raise Unresolved("the date would fall outside the calendar") from None


# --- units -----------------------------------------------------------------------------------


def day_span(day: dt.date) -> Span:
    return Span(day, day, Precision.day)


def week_span(day: dt.date) -> Span:
    """The ISO week (Monday to Sunday) holding ``day``."""
    monday = add_days(day, -day.weekday())
    return Span(monday, add_days(monday, 6), Precision.week)


def month_span(year: int, month: int) -> Span:
    first = date(year, month, 1)
    return Span(first, date(year, month, calendar.monthrange(year, month)[1]), Precision.month)


def quarter_span(year: int, quarter: int) -> Span:
    first = 3 * (quarter - 1) + 1
    return Span(month_span(year, first).start, month_span(year, first + 2).end, Precision.quarter)


def half_span(year: int, half: int) -> Span:
    first = 1 if half == 1 else 7
    return Span(date(year, first, 1), month_span(year, first + 5).end, Precision.range)


def season_span(year: int, first_month: int) -> Span:
    """Meteorological seasons; winter ``year`` runs from December ``year`` to February after."""
    end_month = (first_month + 1) % 12 + 1
    end_year = year + 1 if first_month == 12 else year
    return Span(date(year, first_month, 1), month_span(end_year, end_month).end, Precision.season)


def year_span(year: int) -> Span:
    return Span(date(year, 1, 1), date(year, 12, 31), Precision.year)


def decade_span(first_year: int) -> Span:
    return Span(date(first_year, 1, 1), date(first_year + 9, 12, 31), Precision.decade)


def century_span(number: int) -> Span:
    """The n-th century, as news counts it: the 20th century is 1900 to 1999."""
    first = (number - 1) * 100
    return Span(date(max(first, 1), 1, 1), date(first + 99, 12, 31), Precision.century)


def weekend_span(saturday: dt.date) -> Span:
    return Span(saturday, add_days(saturday, 1), Precision.range)


def narrow(span: Span, modifier: Modifier) -> Span:
    """The early, mid or late part of a closed span.

    Months split at the 10th and 20th, years into four-month thirds, decades into 0-3, 4-6 and
    7-9; anything else into thirds of its days. A span of one or two days has no middle third:
    "mid" keeps it whole, "early" and "late" take its first and last day.
    """
    start, end = span.start, span.end
    if start is None or end is None:
        raise Unresolved(f"cannot take the {modifier} part of an open span")
    days = (end - start).days + 1
    if span.precision == Precision.month:
        lo, hi = {"early": (1, 10), "mid": (11, 20), "late": (21, days)}[modifier]
        bounds = (start.replace(day=lo), start.replace(day=hi))
    elif span.precision == Precision.year:
        first, last = {"early": (1, 4), "mid": (5, 8), "late": (9, 12)}[modifier]
        bounds = (date(start.year, first, 1), month_span(start.year, last).end)
    elif span.precision in (Precision.decade, Precision.century):
        step = 10 if span.precision == Precision.decade else 100
        lo, hi = {"early": (0, 0.3), "mid": (0.4, 0.6), "late": (0.7, 0.9)}[modifier]
        bounds = (date(start.year + int(lo * step), 1, 1), date(start.year + int(hi * step) + step // 10 - 1, 12, 31))
    elif days < 3:
        bounds = {"early": (start, start), "mid": (start, end), "late": (end, end)}[modifier]
    else:
        third = days // 3
        bounds = {"early": (start, add_days(start, third - 1)),
                  "mid": (add_days(start, third), add_days(end, -third)),
                  "late": (add_days(end, -(third - 1)), end)}[modifier]
    return span.with_(start=bounds[0], end=bounds[1], modifier=modifier)


# --- choosing an occurrence ------------------------------------------------------------------

Direction = Literal["last", "this", "next"]


def pick(occurrences: Iterable[Span], reference: dt.date, tense: Tense | None, *,
         default: Tense | None = None, slack: int = 0) -> Span:
    """The occurrence of a repeating unit ("March", "Tuesday", "Q1") a sentence refers to.

    An occurrence that holds the reference date fits either tense. Past tense takes the latest
    one that starts by the reference date, future tense the earliest that ends on or after it;
    ``slack`` days of tolerance let "March 19" in a past-tense sentence published on 18 March
    stay on 19 March (a time-zone difference, not a year-old event). Without a tense,
    ``default`` decides, and with no default the nearest occurrence wins (the earlier on a tie).
    """
    spans = sorted(occurrences, key=lambda s: (s.start or dt.date.min))
    if not spans:
        raise Unresolved("no such date near the publication date")
    direction = tense or default
    if direction == "past":
        fitting = [s for s in spans if s.start is not None and s.start <= add_days(reference, slack)]
        if fitting:
            return fitting[-1]
    elif direction == "future":
        fitting = [s for s in spans if s.end is not None and s.end >= add_days(reference, -slack)]
        if fitting:
            return fitting[0]
    return min(spans, key=lambda s: (s.distance(reference), s.start or dt.date.min))


def relative_occurrence(occurrences: Iterable[Span], reference: dt.date, direction: Direction) -> Span:
    """"last", "this" or "next" occurrence: the latest one that ended before the reference date,
    the one that holds it (else the next one), or the first that starts after it."""
    spans = sorted(occurrences, key=lambda s: (s.start or dt.date.min))
    holding = [s for s in spans if s.distance(reference) == 0]
    if direction == "last":
        before = [s for s in spans if s.end is not None and s.end < reference]
        if before:
            return before[-1]
    elif direction == "next":
        after = [s for s in spans if s.start is not None and s.start > reference]
        if after:
            return after[0]
    else:
        if holding:
            return holding[0]
        after = [s for s in spans if s.start is not None and s.start > reference]
        if after:
            return after[0]
    raise Unresolved(f"no {direction} occurrence near the publication date")


def around(reference: dt.date, make: Callable[[int], Span], years: Iterable[int] = (-1, 0, 1)) -> list[Span]:
    """``make(year)`` for the years around the reference date that exist on the calendar."""
    spans = []
    for offset in years:
        try:
            spans.append(make(reference.year + offset))
        except Unresolved:
            continue
    return spans
