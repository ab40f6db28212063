"""The ordered table of date rules: a pattern and a small handler each.

``resolve_text`` normalises the expression (``NORMALIZERS``), then tries ``RULES`` in order;
the first pattern that matches the whole text decides. Order matters only where two patterns
can match the same text, and those places are commented. Compound rules ("since X", "early X",
"between X and Y", "on X") resolve their inner expression through the same table.

Written by hand, because dateparser does not do it (it is the last rule, for absolute dates in
any written form): the direction of weekdays, months and quarters from the sentence's tense,
weekends, "last August", seasons, decades, early/mid/late, open spans ("since", "by", "until",
"before", "after"), and vague words that must never become a precise day.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import NamedTuple

from ..models import Modifier, Precision
from . import spans as cal
from .named_days import PATTERN as NAMED_DAY
from .named_days import named_day
from .spans import Span, Tense, Unresolved

WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
}  # fmt: skip
MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}  # fmt: skip
NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "a couple of": 2, "twenty-four": 24, "forty-eight": 48,
}  # fmt: skip
ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "twenty-first": 21, "final": 4, "last": 4,
}  # fmt: skip
SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}  # first month

DIRECTION_WORDS: dict[str, cal.Direction] = {
    "last": "last", "past": "last", "previous": "last", "this past": "last",
    "this": "this", "current": "this",
    "next": "next", "coming": "next", "following": "next",
}  # fmt: skip
"""Every word that points a repeating unit (a weekday, a month, a season, a week ...) at its
last, this or next occurrence, and what it means: one table, so "previous March" and "last
March" cannot drift apart."""

_WD = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_MO = "|".join(sorted(MONTHS, key=len, reverse=True))
_NUM = r"\d+|" + "|".join(sorted(NUMBERS, key=len, reverse=True))
_UNIT = r"(hour|day|week|fortnight|month|year|decade)s?"
_ORD = r"(?:st|nd|rd|th)?"
_DAY = rf"(\d{{1,2}}){_ORD}"
_YEAR_WORDS = r"\d{4}|last year|this year|next year|the year|the current year"
_SEASON = "spring|summer|autumn|fall|winter"


UNRECOGNISED = "not a recognised time expression"
"""The note of an expression no rule understands (as opposed to one that cannot be placed)."""


# --- normalisation ---------------------------------------------------------------------------

NORMALIZERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[’‘`´]"), "'"),
    (re.compile(r"[–—‐‑−]"), "-"),
    (re.compile(r"\s+"), " "),
    # "a.m." -> "am" before any dot is dropped.
    (re.compile(r"\b([ap])\.m\.?", re.I), r"\1m"),
    (re.compile(rf"\b({_MO})\.", re.I), r"\1"),  # "feb." -> "feb"
    # Possessives of calendar words: "tuesday's" -> "tuesday", "last year's" -> "last year"
    # (but not "new year's eve", a name).
    (re.compile(rf"\b({_WD}|{_MO}|today|yesterday|tomorrow|tonight|week|weekend|month|quarter|(?<!new )year)'s\b"),
     r"\1"),
    # Times of day carry no date: "march 18 at 10 am gmt" -> "march 18".
    (re.compile(r"\b(?:at |around |about )?(?:\d{1,2}(?::\d{2})? ?(?:am|pm)|\d{1,2}:\d{2}|noon|midnight)"
                r"(?: (?:gmt|utc|bst|cet|cest|est|edt|et|pst|pdt|pt|local time))?\b"), ""),
    (re.compile(r"\s*,\s*"), ", "),
    (re.compile(r"\s+"), " "),
)


def normalize(expression: str) -> str:
    text = expression.strip().lower()
    for pattern, replacement in NORMALIZERS:
        text = pattern.sub(replacement, text)
    return text.strip(" .,;:!?\"'()[]")


# --- what handlers receive -------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """The reference date (publication date), the tense, and recursion into the table."""

    reference: dt.date | None
    tense: Tense | None

    def ref(self) -> dt.date:
        if self.reference is None:
            raise Unresolved("relative expression and no publication date to resolve it against")
        return self.reference

    def sub(self, text: str, tense: Tense | type[Ellipsis] | None = ..., reference: dt.date | None = None) -> Span:
        """Resolve an inner expression, with another tense or reference if given."""
        return resolve_text(normalize(text), Context(
            reference or self.reference, self.tense if tense is ... else tense))  # type: ignore[arg-type]


Handler = Callable[[re.Match[str], Context], Span]


class Rule(NamedTuple):
    name: str
    pattern: re.Pattern[str]
    handle: Handler


def number(word: str) -> int:
    value = int(word) if word.isdigit() else NUMBERS.get(word)
    if value is None:
        raise Unresolved(f"not a count: {word!r}")
    return value


def _year_of(words: str | None, ctx: Context) -> int | None:
    """An explicit year: digits, or "last/this/next year" against the reference."""
    if not words:
        return None
    if words.isdigit():
        return int(words)
    step = {"last year": -1, "next year": 1}.get(words, 0)
    return ctx.ref().year + step


def _unit_at(day: dt.date, unit: str) -> Span:
    """The calendar unit holding ``day``."""
    unit = unit.rstrip("s")
    if unit in ("hour", "day"):
        return cal.day_span(day)
    if unit in ("week", "fortnight"):
        return cal.week_span(day)
    if unit == "month":
        return cal.month_span(day.year, day.month)
    if unit == "decade":
        return cal.decade_span(day.year - day.year % 10)
    return cal.year_span(day.year)


def _offset(day: dt.date, count: int, unit: str) -> dt.date:
    """``day`` moved by ``count`` units (months and years keep the day of the month)."""
    unit = unit.rstrip("s")
    if unit == "hour":
        return cal.add_days(day, -((-count) // 24) if count > 0 else -((-count + 23) // 24))
    if unit == "day":
        return cal.add_days(day, count)
    if unit in ("week", "fortnight"):
        return cal.add_days(day, count * (14 if unit == "fortnight" else 7))
    months = {"month": 1, "year": 12, "decade": 120}[unit]
    return cal.shift_months(day, count * months)


# --- handlers ----------------------------------------------------------------------------------


def _now(m, ctx):
    return cal.day_span(ctx.ref())


def _vague_before(m, ctx):
    return Span(None, ctx.ref(), Precision.unknown, qualifier="before", vague=True)


def _vague_after(m, ctx):
    return Span(ctx.ref(), None, Precision.unknown, qualifier="after", vague=True)


def _since(m, ctx):
    inner = ctx.sub(m[1], "past")
    if inner.start is None:
        raise Unresolved("'since' needs a starting point")
    return inner.with_(end=None, qualifier="since", vague=False)


def _until(m, ctx):
    """"until 7 June": the end of a state, read as the nearest such day unless the sentence
    points ahead. A state that began in the past mostly ends ahead ("Eton advised to close until
    7 June", a closure done, in May 2009: the model's "happened" sent it to 7 June 2008), so the
    past is never taken from the tense; the future is ("this might only last until the autumn",
    in May 2009, is the coming autumn, not the one just gone)."""
    inner = ctx.sub(m[1], "future" if ctx.tense == "future" else None)
    if inner.end is None:
        raise Unresolved("'until' needs an end point")
    return inner.with_(start=None, qualifier="until", vague=False)


def _by(m, ctx):
    inner = ctx.sub(m[1], ctx.tense or "future")
    if inner.end is None:
        raise Unresolved("'by' needs a deadline")
    return inner.with_(start=None, qualifier="by", vague=False)


def _before(m, ctx):
    inner = ctx.sub(m[1])
    if inner.start is None:
        raise Unresolved("'before' needs a point in time")
    return Span(None, cal.add_days(inner.start, -1), inner.precision, qualifier="before")


def _after(m, ctx):
    inner = ctx.sub(m[1])
    if inner.end is None:
        raise Unresolved("'after' needs a point in time")
    return Span(cal.add_days(inner.end, 1), None, inner.precision, qualifier="after")


def _between(m, ctx):
    first, second_text = ctx.sub(m[1]), m[2]
    if first.start is None:
        raise Unresolved("a range needs a start")
    if re.fullmatch(r"\d{1,2}(?:st|nd|rd|th)?", second_text) and first.precision == Precision.day:
        second = cal.day_span(cal.date(first.start.year, first.start.month, int(re.sub(r"\D", "", second_text))))
    else:
        second = ctx.sub(second_text)
        if second.end is not None and second.end < first.start:
            # "between December and February": the second part comes after the first.
            second = ctx.sub(second_text, "future", reference=first.start)
    if second.end is None or second.end < first.start:
        raise Unresolved("the range ends before it starts")
    return Span(first.start, second.end, Precision.range)


_MODIFIER_WORDS: dict[str, Modifier] = {
    "early": "early", "mid": "mid", "late": "late", "end of": "late", "beginning of": "early",
    "start of": "early", "middle of": "mid", "turn of": "early",
}  # fmt: skip


def _modifier(m, ctx):
    modifier = _MODIFIER_WORDS[re.sub(r"^the | the$", "", m[1])]
    return cal.narrow(ctx.sub(m[2]), modifier)


def _iso_day(m, ctx):
    return cal.day_span(cal.date(int(m[1]), int(m[2]), int(m[3])))


def _iso_week(m, ctx):
    try:
        monday = dt.date.fromisocalendar(int(m[1]), int(m[2]), 1)
    except ValueError:
        raise Unresolved(f"{m[1]} has no week {m[2]}") from None
    return cal.week_span(monday)


def _year_dash(m, ctx):
    """"2024-25" and "2010-2015" are runs of years; "2025-03" is a month."""
    first, second = int(m[1]), m[2]
    full = int(second) if len(second) == 4 else first - first % 100 + int(second)
    if len(second) == 2 and full != first + 1 and 1 <= int(second) <= 12:
        return cal.month_span(first, int(second))
    if full <= first:
        raise Unresolved("the run of years ends before it starts")
    return Span(cal.year_span(first).start, cal.year_span(full).end, Precision.range)


_DAY_WORDS = {
    "today": 0, "tonight": 0, "this morning": 0, "this afternoon": 0, "this evening": 0,
    "earlier today": 0, "later today": 0, "early today": 0, "late today": 0, "yesterday": -1,
    "last night": -1, "last evening": -1, "yesterday morning": -1, "yesterday afternoon": -1,
    "yesterday evening": -1, "late yesterday": -1, "early yesterday": -1, "tomorrow": 1,
    "tomorrow morning": 1, "tomorrow afternoon": 1, "tomorrow night": 1, "tomorrow evening": 1,
    "the day before yesterday": -2, "day before yesterday": -2, "the day after tomorrow": 2,
    "day after tomorrow": 2,
}  # fmt: skip


def _day_word(m, ctx):
    return cal.day_span(cal.add_days(ctx.ref(), _DAY_WORDS[m[0]]))


def _overnight(m, ctx):
    ref = ctx.ref()
    return Span(cal.add_days(ref, -1), ref, Precision.range)


def direction_of(word: str | None) -> cal.Direction | None:
    """What a direction word means (see ``DIRECTION_WORDS``); None for no word."""
    return DIRECTION_WORDS[word] if word else None


def _weekday(m, ctx):
    ref, target = ctx.ref(), WEEKDAYS[m[2]]
    word = direction_of(m[1])
    if word == "this":
        return cal.day_span(cal.add_days(ref, target - ref.weekday()))
    if word == "last":
        return cal.day_span(cal.add_days(ref, -((ref.weekday() - target) % 7 or 7)))
    if word == "next":
        return cal.day_span(cal.add_days(ref, (target - ref.weekday()) % 7 or 7))
    days = [cal.day_span(cal.add_days(ref, delta)) for delta in range(-7, 8)
            if (ref.weekday() + delta) % 7 == target]
    return cal.pick(days, ref, ctx.tense, default="past")


def _weekday_and_date(m, ctx):
    """"Tuesday, March 18": the date decides (the weekday only repeats it)."""
    inner = ctx.sub(m[2])
    if inner.precision != Precision.day:
        raise Unresolved("a weekday before something that is not a day")
    return inner


def _ago(m, ctx):
    """"three days ago", "2 weeks ago": the unit holding that day. Years and decades ago are
    about that long before the article, not a calendar unit ("two years ago" in January 2025
    can be December 2022): the year (decade) around that day."""
    count, unit = number(m[1]), m[2].rstrip("s")
    if unit not in ("year", "decade"):
        return _unit_at(_offset(ctx.ref(), -count, unit), unit)
    then, half = _offset(ctx.ref(), -count, unit), 6 if unit == "year" else 60
    return Span(cal.shift_months(then, -half), cal.add_days(cal.shift_months(then, half), -1), Precision.range)


def _hours_ago(m, ctx):
    """"five hours ago", "the past 24 hours": the day(s) those hours can fall on."""
    hours = number(m[1])
    ref = ctx.ref()
    return Span(cal.add_days(ref, -((hours + 23) // 24)), ref, Precision.range)


def _relative_to_other_event(m, ctx):
    raise Unresolved("counted from another event, not from the publication date")


def _hours_ahead(m, ctx):
    """"in two hours", "six hours from now": the publication day or the days the hours reach;
    its hour is not known, so not one precise day."""
    hours = number(m[1])
    ref = ctx.ref()
    return Span(ref, cal.add_days(ref, (hours + 23) // 24), Precision.range)


def _in_count(m, ctx):
    return _unit_at(_offset(ctx.ref(), number(m[1]), m[2]), m[2])


def _within_count(m, ctx):
    ref = ctx.ref()
    return Span(ref, _offset(ref, number(m[1]), m[2]), Precision.range)


def _rolling_past(m, ctx):
    """"the past three weeks": a run of days up to the publication date."""
    ref = ctx.ref()
    return Span(_offset(ref, -number(m[1]), m[2]), ref, Precision.range)


def _rolling_past_one(m, ctx):
    """"the past week", "over the last year": the last seven days, twelve months..."""
    ref = ctx.ref()
    return Span(_offset(ref, -1, m[1]), ref, Precision.range)


def _rolling_next(m, ctx):
    ref = ctx.ref()
    return Span(ref, _offset(ref, number(m[1]), m[2]), Precision.range)


def _part_of_unit(m, ctx):
    """"earlier this week" (this unit up to yesterday), "later this month" (from tomorrow)."""
    ref = ctx.ref()
    unit = _unit_at(ref, m[2])
    assert unit.start is not None and unit.end is not None
    if m[1] == "earlier":
        return Span(unit.start, max(unit.start, cal.add_days(ref, -1)), Precision.range)
    return Span(min(unit.end, cal.add_days(ref, 1)), unit.end, Precision.range)


def _weekend(m, ctx):
    ref = ctx.ref()
    word = direction_of(m[1])
    weekends = [cal.weekend_span(cal.add_days(ref, delta)) for delta in range(-13, 14)
                if cal.add_days(ref, delta).weekday() == 5]
    if word in ("last", "next"):
        return cal.relative_occurrence(weekends, ref, word)
    if word == "this":
        return cal.pick(weekends, ref, ctx.tense, default="future")
    return cal.pick(weekends, ref, ctx.tense, default="past")


_STEP = {"last": -1, "this": 0, "next": 1}


def _this_unit(m, ctx):
    """last/this/next week, month, quarter, year, decade, century: the calendar unit."""
    ref, step, unit = ctx.ref(), _STEP[direction_of(m[1])], m[2]
    if unit == "week":
        return cal.week_span(cal.add_days(ref, 7 * step))
    if unit == "month":
        shifted = cal.shift_months(ref.replace(day=1), step)
        return cal.month_span(shifted.year, shifted.month)
    if unit == "quarter":
        shifted = cal.shift_months(ref.replace(day=1), 3 * step)
        return cal.quarter_span(shifted.year, (shifted.month - 1) // 3 + 1)
    if unit == "decade":
        return cal.decade_span(ref.year - ref.year % 10 + 10 * step)
    if unit == "century":
        return cal.century_span(ref.year // 100 + 1 + step)
    return cal.year_span(ref.year + step)


def _year_end(m, ctx):
    return cal.narrow(_this_unit(("", "this", "year"), ctx), "late")


def _bare_unit(m, ctx):
    """"the end of the month": the unit holding the publication date."""
    return _this_unit(("", "this", m[1]), ctx)


def _month_day(month: int, first: int, last: int | None, year: int | None, ctx: Context) -> Span:
    if last is not None and last <= first:
        raise Unresolved(f"the range {first}-{last} ends before it starts")
    if year is not None:
        start = cal.date(year, month, first)
        return Span(start, cal.date(year, month, last), Precision.range) if last else cal.day_span(start)
    longest = 29 if month == 2 else cal.month_span(2001, month).end.day  # type: ignore[union-attr]
    if not 1 <= first <= longest or (last is not None and last > longest):
        raise Unresolved(f"{list(MONTHS)[2 * month - 2].capitalize()} has no day {last or first}")
    ref = ctx.ref()

    def occurrence(y: int) -> Span:
        start = cal.date(y, month, first)
        return Span(start, cal.date(y, month, last), Precision.range) if last else cal.day_span(start)

    years = range(-4, 5) if (month, max(first, last or 0)) == (2, 29) else (-1, 0, 1)
    return cal.pick(cal.around(ref, occurrence, years), ref, ctx.tense, slack=1)


def _month_day_first(m, ctx):
    return _month_day(MONTHS[m[1]], int(m[2]), int(m[3]) if m[3] else None, _year_of(m[4], ctx), ctx)


def _day_month_first(m, ctx):
    return _month_day(MONTHS[m[3]], int(m[1]), int(m[2]) if m[2] else None, _year_of(m[4], ctx), ctx)


def _day_of_month_only(m, ctx):
    """"the 18th": that day of the reference month, or of a neighbouring one by tense."""
    ref, day = ctx.ref(), int(m[1])
    occurrences = []
    for step in (-1, 0, 1):
        month = cal.shift_months(ref.replace(day=1), step)
        try:
            occurrences.append(cal.day_span(cal.date(month.year, month.month, day)))
        except Unresolved:
            continue
    return cal.pick(occurrences, ref, ctx.tense, slack=1)


def _across_months(first_month: str, first_day: str, last_month: str, last_day: str, year_words: str | None,
                   ctx: Context) -> Span:
    """A day range across months: both ends in the year the first one falls in; a range across
    New Year ends in the next ("December 30-January 2", whose written year is its end's)."""
    written, wraps = _year_of(year_words, ctx), MONTHS[last_month] < MONTHS[first_month]
    first = _month_day(MONTHS[first_month], int(first_day), None,
                       written - 1 if written is not None and wraps else written, ctx)
    assert first.start is not None
    year = first.start.year + (1 if wraps else 0)
    return Span(first.start, cal.date(year, MONTHS[last_month], int(last_day)), Precision.range)


def _cross_month_range(m, ctx):
    """"March 30-April 2"."""
    return _across_months(m[1], m[2], m[3], m[4], m[5], ctx)


def _cross_month_range_day_first(m, ctx):
    """"22 April - 15 May"."""
    return _across_months(m[2], m[1], m[4], m[3], m[5], ctx)


def _month(m, ctx):
    month, year = MONTHS[m[2]], _year_of(m[3], ctx)
    if year is not None:
        return cal.month_span(year, month)
    ref = ctx.ref()
    occurrences = cal.around(ref, lambda y: cal.month_span(y, month))
    word = direction_of(m[1])
    if word in ("last", "next"):
        return cal.relative_occurrence(occurrences, ref, word)
    if word == "this":
        return cal.month_span(ref.year, month)
    return cal.pick(occurrences, ref, ctx.tense)


def _month_range(m, ctx):
    """"January-March 2024": the second month in the year after the first if it comes earlier."""
    first_month, last_month = MONTHS[m[1]], MONTHS[m[2]]
    if m[3]:
        first = cal.month_span(int(m[3]), first_month)
    else:
        ref = ctx.ref()
        first = cal.pick(cal.around(ref, lambda y: cal.month_span(y, first_month)), ref, ctx.tense)
    assert first.start is not None
    year = first.start.year + (1 if last_month < first_month else 0)
    return Span(first.start, cal.month_span(year, last_month).end, Precision.range)


def _year(m, ctx):
    return cal.year_span(int(m[1]))


def _decade(m, ctx):
    tens = int(m[2])
    if m[1]:
        century = int(m[1])
    elif ctx.reference is not None:  # "the '90s": the latest such decade not after the reference year
        century = ctx.reference.year // 100 - (1 if tens * 10 > ctx.reference.year % 100 else 0)
    else:
        century = 19 if tens >= 3 else 20
    return cal.decade_span(century * 100 + tens * 10)


def _century(m, ctx):
    value = int(m[1]) if m[1] else ORDINALS.get(m[2] or "", 0)
    if not 1 <= value <= 100:
        raise Unresolved("no such century")
    return cal.century_span(value)


def _by_tense(make: Callable[[int], Span], year_words: str | None, ctx: Context, *, default: Tense) -> Span:
    """A unit that repeats every year (a quarter, a half), in the year given or picked by tense."""
    year = _year_of(year_words, ctx)
    if year is not None:
        return make(year)
    ref = ctx.ref()
    return cal.pick(cal.around(ref, make), ref, ctx.tense, default=default)


def _quarter(m, ctx, *, number_at: int = 1, year_at: int = 2):
    word = m[number_at]
    quarter = ORDINALS.get(word) or int(word[0])
    return _by_tense(lambda y: cal.quarter_span(y, quarter), m[year_at], ctx, default="past")


def _half(m, ctx):
    half = {"first": 1, "1st": 1, "second": 2, "2nd": 2}.get(m[1]) or int(m[1])
    return _by_tense(lambda y: cal.half_span(y, half), m[2], ctx, default="past")


def _season(m, ctx):
    first = SEASONS[m[2]]
    if m[3]:
        return cal.season_span(int(m[3]), first)
    ref = ctx.ref()
    occurrences = cal.around(ref, lambda y: cal.season_span(y, first), years=(-2, -1, 0, 1))
    word = direction_of(m[1])
    if word in ("last", "next"):
        return cal.relative_occurrence(occurrences, ref, word)
    holding = [s for s in occurrences if s.distance(ref) == 0]
    if holding:
        return holding[0]
    if word == "this":
        return cal.pick(occurrences, ref, ctx.tense, default="future")
    return cal.pick(occurrences, ref, ctx.tense, default="past")


def _named_day(m, ctx):
    name = m[2]

    def occurrence(year: int) -> Span:
        day = named_day(name, year)
        if day is None:
            raise Unresolved(f"no {name} in {year}")
        return cal.day_span(day)

    if m[3]:
        return occurrence(int(m[3]))
    ref = ctx.ref()
    occurrences = cal.around(ref, occurrence)
    word = direction_of(m[1])
    if word is not None:
        return cal.relative_occurrence(occurrences, ref, word)
    return cal.pick(occurrences, ref, ctx.tense)


def _inner(m, ctx):
    return ctx.sub(m[1])


# --- absolute dates: dateparser -------------------------------------------------------------

_ABSOLUTE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{4}|[^\W\d_]{3,}\.? \d|\d{1,2}\.? [^\W\d_]{3,}")


def _absolute(m, ctx):
    """Absolute dates in any other written form ("18/03/2025", "le 18 mars 2025"), via
    dateparser. Only texts that carry a numeric date, a year, or a word beside a number reach it,
    so a stray number is never read as a day of the reference month."""
    text = m[0]
    if len(text) > 60 or not _ABSOLUTE.search(text):
        raise Unresolved(UNRECOGNISED)
    settings = {"PREFER_DAY_OF_MONTH": "first", "RETURN_TIME_AS_PERIOD": False,
                "DATE_ORDER": "DMY", "PREFER_DATES_FROM": "past"}  # fmt: skip
    if ctx.reference is not None:
        settings["RELATIVE_BASE"] = dt.datetime.combine(ctx.reference, dt.time())
    try:
        data = _date_parser(tuple(sorted(settings.items()))).get_date_data(text)
    except (ValueError, OverflowError, TypeError):
        raise Unresolved(UNRECOGNISED) from None
    if data.date_obj is None:
        raise Unresolved(UNRECOGNISED)
    day = data.date_obj.date()
    if data.period == "year":
        return cal.year_span(day.year)
    if data.period == "month":
        return cal.month_span(day.year, day.month)
    if data.period == "week":
        return cal.week_span(day)
    return cal.day_span(day)


DATEPARSER_LANGUAGES = ["en", "fr", "de", "es", "it", "pt", "nl", "ru", "uk", "pl"]
"""Languages dateparser tries; detecting among all of them costs seconds on some inputs."""


@lru_cache(maxsize=4)
def _date_parser(settings: tuple):
    from dateparser.date import DateDataParser

    return DateDataParser(languages=DATEPARSER_LANGUAGES, settings=dict(settings))


# --- the table -------------------------------------------------------------------------------

_LAST = "(" + "|".join(sorted(DIRECTION_WORDS, key=len, reverse=True)) + ")"


def _rule(name: str, pattern: str, handle: Handler) -> Rule:
    return Rule(name, re.compile(pattern), handle)


RULES: tuple[Rule, ...] = (
    _rule("now", r"now|right now|currently|at present|presently|at the moment|as of now|this time|"
          r"at this time|these days|nowadays", _now),
    _rule("vague before", r"recently|lately|earlier|previously|already|formerly|in the past|the past|"
          r"in the recent past|"
          r"in recent (?:days|weeks|months|years)|recent (?:days|weeks|months|years)|some time ago|long ago|"
          r"(?:hours|days|weeks|months|years|decades) ago|(?:a few|a couple of|several|few|many|some) "
          r"(?:hours|days|weeks|months|years|decades) ago|for (?:hours|days|weeks|months|years|decades)|"
          r"(?:over|in|during) the (?:past|last) (?:few |several |many )?(?:days|weeks|months|years|decades)|"
          r"(?:the )?(?:past|last) (?:few|several|many) (?:days|weeks|months|years)|before|beforehand|"
          r"in years past|for some time|for a while|for years now|to date|so far|thus far|until now|"
          r"up to now|until recently", _vague_before),
    _rule("vague after", r"soon|shortly|later|in the future|the future|in the near future|in the coming years|"
          r"eventually|"
          r"imminently|afterwards|within (?:hours|days|weeks|months|years)|in (?:the )?(?:coming|next few|next) "
          r"(?:hours|days|weeks|months|years)|in a (?:few|couple of) (?:days|weeks|months|years)|"
          r"in (?:days|weeks|months|years)|(?:over|during|in) the (?:coming|next few|next several) "
          r"(?:days|weeks|months|years)|(?:the )?(?:coming|next few|next several) (?:days|weeks|months|years)|"
          r"in the (?:days|weeks|months|years) (?:ahead|to come)|before long|any day now|"
          r"(?:hours|days|weeks|months|years) from now", _vague_after),
    # Compound forms: each resolves its inner expression through the table.
    _rule("since", r"(?:ever )?since (.+)", _since),
    _rule("until", r"(?:until|till|til|through|up to|up until) (.+)", _until),
    _rule("by the end of", r"(?:by|before) (?:the )?end of (.+)", _by),
    _rule("by", r"(?:by|no later than|not later than) (.+)", _by),
    _rule("before", r"before (.+)", _before),
    _rule("after", r"after (.+)", _after),
    _rule("between", r"(?:between|from) (.+?) (?:and|to|until|till|through|-) (.+)", _between),
    # Before "early X": "the first half of 2024" is a half, not the start of something.
    _rule("half", rf"(?:the )?(first|second|1st|2nd) half(?: of)?(?: ({_YEAR_WORDS}))?", _half),
    _rule("h1", r"h([12])(?: (\d{4}))?", _half),
    _rule("early/mid/late", r"(early|mid|late|(?:the )?(?:end|beginning|start|middle|turn) of(?: the)?)[- ](.+)",
          _modifier),
    _rule("iso day", r"(\d{4})-(\d{1,2})-(\d{1,2})", _iso_day),
    _rule("iso week", r"(\d{4})-?w(\d{1,2})", _iso_week),
    _rule("years of a season", r"(?:the )?(\d{4}[-/]\d{2,4}) (?:season|term|school year|academic year)", _inner),
    _rule("years with a dash", r"(\d{4})[-/](\d{2}|\d{4})", _year_dash),
    _rule("day words", "|".join(re.escape(w) for w in sorted(_DAY_WORDS, key=len, reverse=True)), _day_word),
    _rule("overnight", r"overnight|over ?night", _overnight),
    # Before the bare weekday: "tuesday, march 18" is the date.
    _rule("weekday and date", rf"({_WD}),? (.*\d.*)", _weekday_and_date),
    _rule("weekday", rf"(?:{_LAST} )?({_WD})s?(?: (?:morning|afternoon|evening|night))?", _weekday),
    _rule("hours ago", rf"({_NUM}) hours? ago", _hours_ago),
    _rule("past hours", rf"(?:the )?(?:past|last) ({_NUM}) hours", _hours_ago),
    _rule("units ago", rf"({_NUM}) {_UNIT} ago", _ago),
    _rule("counted from another event", rf"({_NUM}) {_UNIT} (?:earlier|later|before|after|prior|previously)|"
          r"(?:the )?(?:previous|following|next|same) (?:day|night|morning|evening)|the day (?:before|after)|"
          r"that (?:day|night|week|month|year)", _relative_to_other_event),
    _rule("hours ahead", rf"(?:in|after) ({_NUM}) hours?(?: time)?", _hours_ahead),
    _rule("hours from now", rf"({_NUM}) hours? from (?:now|today)", _hours_ahead),
    _rule("within count", rf"within (?:the next )?({_NUM}) {_UNIT}", _within_count),
    _rule("in count", rf"(?:in|after) ({_NUM}) {_UNIT}(?: time)?", _in_count),
    _rule("count from now", rf"({_NUM}) {_UNIT} from (?:now|today)", _in_count),
    # Before "last week": "the past week" and "the last week" run up to the publication date.
    _rule("rolling past count", rf"(?:the )?(?:past|last|previous) ({_NUM}) {_UNIT}", _rolling_past),
    _rule("rolling past unit", r"(?:the (?:past|last)|(?:this )?past) (week|fortnight|month|year|decade)",
          _rolling_past_one),
    _rule("rolling next count", rf"(?:the )?(?:next|coming) ({_NUM}) {_UNIT}", _rolling_next),
    _rule("part of this unit", r"(earlier|later) (?:this|that|in the) (week|month|year)", _part_of_unit),
    _rule("weekend", rf"(?:{_LAST} )?weekend", _weekend),
    _rule("bare unit", r"(?:current )?(?:fiscal |financial |calendar )?(week|month|year|quarter|decade|century)",
          _bare_unit),
    _rule("year end", r"(?:the )?year[- ]end|(?:the )?end-year", _year_end),
    _rule("this unit", rf"(?:the )?{_LAST} "
          r"(?:fiscal |financial |calendar )?(week|month|year|quarter|decade|century)", _this_unit),
    _rule("month and day", rf"({_MO}) {_DAY}(?: ?- ?{_DAY})?(?:,? ({_YEAR_WORDS}))?", _month_day_first),
    _rule("day and month", rf"(?:the )?{_DAY}(?: ?- ?{_DAY})?(?: of)? ({_MO})(?:,? ({_YEAR_WORDS}))?",
          _day_month_first),
    _rule("day of this month", r"the (\d{1,2})(?:st|nd|rd|th)", _day_of_month_only),
    _rule("across months", rf"({_MO}) (\d{{1,2}}){_ORD} ?- ?({_MO}) (\d{{1,2}}){_ORD}(?:,? (\d{{4}}))?",
          _cross_month_range),
    _rule("across months, day first",
          rf"(\d{{1,2}}){_ORD} ({_MO}) ?- ?(\d{{1,2}}){_ORD} ({_MO})(?:,? (\d{{4}}))?", _cross_month_range_day_first),
    _rule("month", rf"(?:{_LAST} )?({_MO})(?:,? (?:of )?({_YEAR_WORDS}))?", _month),
    _rule("month range", rf"({_MO}) ?- ?({_MO})(?:,? (\d{{4}}))?", _month_range),
    _rule("year", r"(?:the )?(?:(?:calendar|fiscal|financial) )?(?:year )?(\d{4})", _year),
    _rule("fiscal year", r"fy ?(\d{4})", _year),
    _rule("decade", r"(?:the )?(?:(\d{2})|')?(\d)0s", _decade),
    _rule("century", r"(?:the )?(?:(\d{1,2})(?:st|nd|rd|th)|(" + "|".join(ORDINALS) + r")) century", _century),
    _rule("q1", r"(?:the )?q([1-4])(?: (\d{4}))?", _quarter),
    _rule("first quarter", rf"(?:the )?(first|second|third|fourth|final|last|1st|2nd|3rd|4th) quarter(?: of)?"
          rf"(?: ({_YEAR_WORDS}))?", _quarter),
    _rule("1q", r"([1-4])q(?: ?(\d{4}))?", _quarter),
    _rule("year q1", r"(\d{4}) q([1-4])", partial(_quarter, number_at=2, year_at=1)),
    _rule("season", rf"(?:{_LAST} )?(?:the )?({_SEASON})(?:,? (?:of )?(\d{{4}}))?", _season),
    _rule("named day", rf"(?:{_LAST} )?({NAMED_DAY})(?:,? (\d{{4}}))?", _named_day),
    # Words that carry no meaning of their own before a time expression, then a leading "the".
    _rule("preposition", r"(?:on|in|at|during|over|from|of|around|about|circa|as of|as early as|as late as|"
          r"sometime in|some time in|sometime|throughout|starting|beginning|effective|earlier on|later on) (.+)",
          _inner),
    _rule("article", r"the (.+)", _inner),
    _rule("absolute date", r".+", _absolute),
)


def resolve_text(text: str, ctx: Context) -> Span:
    """Resolve a normalised expression with the first rule whose pattern matches it whole."""
    for rule in RULES:
        match = rule.pattern.fullmatch(text)
        if match:
            return rule.handle(match, ctx)
    raise Unresolved(UNRECOGNISED)
