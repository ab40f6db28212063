"""Turn temporal expressions as written in news ("on Tuesday", "last August") into date spans.

The model only copies the expression; all calendar arithmetic happens here. Absolute dates in
the many formats people write are parsed by ``dateparser``; what is written by hand below is the
news-specific part dateparser does not do: the direction of bare weekdays and months from the
sentence's tense, weekends, "last August", quarters, seasons, decades, early/mid/late, "since X",
"by the end of X", holidays, and vague expressions that must never become a precise day.

Conventions: weeks run Monday to Sunday (ISO); a month spans its first to last day; a year
1 January to 31 December; seasons are meteorological and northern (spring = March-May, winter N =
December N to February N+1); a weekday equal to the reference day means that day.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from functools import lru_cache
from typing import Literal

from .models import DateSpan, Modifier, Precision

Tense = Literal["past", "future"]

_WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
}  # fmt: skip
_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}  # fmt: skip
_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a couple of": 2,
}  # fmt: skip
_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4}
_SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}  # first month

_WD = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_MO = "|".join(sorted(_MONTHS, key=len, reverse=True))
_NUM = r"\d+|" + "|".join(sorted(_NUMBERS, key=len, reverse=True))
_UNIT = r"(day|week|month|year|fortnight)s?"

# Words that show the clause speaks of the future or the past. The marker ending nearest before
# the expression wins (so "will be released" beats its own "released"); failing that, the
# nearest one after it.
_FUTURE = re.compile(
    r"\b(will(?: be \w+)?|won't|shall|'ll|going to|set to|plans? to|planning to|scheduled|expected|"
    r"due|slated|is to|are to|to be \w+|to (?:discuss|speak|talk|meet|hold|visit|vote|sign|announce)|"
    r"upcoming|next|would)\b",
    re.I,
)
_PAST = re.compile(
    r"\b(said|says|was|were|had|did|told|met|spoke|held|made|took|gave|went|came|began|"
    r"launched|announced|accused|blamed|confirmed|reported|stated|mentioned|expressed|"
    r"pledged|agreed|accepted|clashed|(?!need|speed|proceed|indeed)[a-z]{3,}ed)\b",
    re.I,
)


def detect_tense(context: str, expression: str) -> Tense | None:
    """Guess whether ``expression`` in the sentence ``context`` refers forward or back."""
    lowered = context.lower()
    at = lowered.find(expression.lower())
    if at < 0:
        at = len(lowered)
    before, after = context[:at], context[at + len(expression) :]
    last_before: tuple[int, Tense] | None = None
    for pattern, tense in ((_FUTURE, "future"), (_PAST, "past")):
        for match in pattern.finditer(before):
            if last_before is None or match.end() > last_before[0]:
                last_before = (match.end(), tense)
    if last_before:
        return last_before[1]
    first_after: tuple[int, Tense] | None = None
    for pattern, tense in ((_FUTURE, "future"), (_PAST, "past")):
        match = pattern.search(after)
        if match and (first_after is None or match.start() < first_after[0]):
            first_after = (match.start(), tense)
    return first_after[1] if first_after else None


# --- spans -----------------------------------------------------------------------------------


def _day(d: dt.date) -> tuple[dt.date, dt.date, Precision]:
    return d, d, Precision.day


def _month(year: int, month: int) -> tuple[dt.date, dt.date, Precision]:
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, 1), dt.date(year, month, last), Precision.month


def _year(year: int) -> tuple[dt.date, dt.date, Precision]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31), Precision.year


def _week(d: dt.date) -> tuple[dt.date, dt.date, Precision]:
    monday = d - dt.timedelta(days=d.weekday())
    return monday, monday + dt.timedelta(days=6), Precision.week


def _quarter(year: int, quarter: int) -> tuple[dt.date, dt.date, Precision]:
    first = 3 * (quarter - 1) + 1
    start = _month(year, first)[0]
    end = _month(year, first + 2)[1]
    return start, end, Precision.quarter


def _season(year: int, first_month: int) -> tuple[dt.date, dt.date, Precision]:
    start = dt.date(year, first_month, 1)
    end_month = (first_month + 1) % 12 + 1
    end_year = year + 1 if first_month == 12 else year
    return start, _month(end_year, end_month)[1], Precision.season


def _decade(first_year: int) -> tuple[dt.date, dt.date, Precision]:
    return dt.date(first_year, 1, 1), dt.date(first_year + 9, 12, 31), Precision.decade


def _weekend(saturday: dt.date) -> tuple[dt.date, dt.date, Precision]:
    return saturday, saturday + dt.timedelta(days=1), Precision.range


def _narrow(span: tuple[dt.date, dt.date, Precision], modifier: Modifier):
    """Early / mid / late part of a span: thirds of it, rounded to whole days."""
    start, end, precision = span
    days = (end - start).days + 1
    if precision == Precision.month:
        cuts = {"early": (1, 10), "mid": (11, 20), "late": (21, days)}
        lo, hi = cuts[modifier]
        return start.replace(day=lo), start.replace(day=hi), precision
    if precision == Precision.year:
        months = {"early": (1, 4), "mid": (5, 8), "late": (9, 12)}[modifier]
        return dt.date(start.year, months[0], 1), _month(start.year, months[1])[1], precision
    if precision == Precision.decade:
        years = {"early": (0, 3), "mid": (4, 6), "late": (7, 9)}[modifier]
        return dt.date(start.year + years[0], 1, 1), dt.date(start.year + years[1], 12, 31), precision
    third = max(days // 3, 1)
    bounds = {
        "early": (start, start + dt.timedelta(days=third - 1)),
        "mid": (start + dt.timedelta(days=third), end - dt.timedelta(days=third)),
        "late": (end - dt.timedelta(days=third - 1), end),
    }[modifier]
    return bounds[0], bounds[1], precision


def _shift_months(d: dt.date, months: int) -> dt.date:
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(d.day, calendar.monthrange(year, month + 1)[1]))


def _nearest_year_for(month: int, day: int | None, ref: dt.date, tense: Tense | None) -> int:
    """Year of a month (and day) written without one: the side the tense points to, else nearest."""
    candidates = []
    for year in (ref.year - 1, ref.year, ref.year + 1):
        try:
            when = dt.date(year, month, day or 1)
        except ValueError:
            continue
        if day is None:
            # A bare month compares as a whole: the reference month itself is "this" month.
            same = (year, month) == (ref.year, ref.month)
            distance = 0 if same else abs((when - ref.replace(day=1)).days)
            side = 0 if same else (1 if when > ref else -1)
        else:
            distance = abs((when - ref).days)
            side = (when > ref) - (when < ref)
        candidates.append((year, distance, side))
    if tense and day is None:
        wanted = 1 if tense == "future" else -1
        fitting = [c for c in candidates if c[2] in (0, wanted)]
        if fitting:
            candidates = fitting
    return min(candidates, key=lambda c: (c[1], c[0]))[0]


def _weekday(target: int, ref: dt.date, direction: str | None, tense: Tense | None) -> dt.date:
    delta = target - ref.weekday()
    if direction == "this":
        return ref + dt.timedelta(days=delta)
    if direction == "last":
        return ref - dt.timedelta(days=(ref.weekday() - target) % 7 or 7)
    if direction == "next":
        return ref + dt.timedelta(days=delta % 7 or 7)
    if delta == 0:
        return ref
    if tense == "future":
        return ref + dt.timedelta(days=delta % 7)
    return ref - dt.timedelta(days=(-delta) % 7)


def _holiday(name: str, year: int) -> dt.date | None:
    from dateutil.easter import easter
    from dateutil.relativedelta import MO, TH, TU, relativedelta

    fixed = {
        "christmas": (12, 25), "christmas day": (12, 25), "christmas eve": (12, 24),
        "boxing day": (12, 26), "new year's eve": (12, 31), "new year's day": (1, 1),
        "new year": (1, 1), "valentine's day": (2, 14), "halloween": (10, 31),
        "independence day": (7, 4), "fourth of july": (7, 4), "july fourth": (7, 4),
        "bastille day": (7, 14), "may day": (5, 1), "veterans day": (11, 11),
        "armistice day": (11, 11), "remembrance day": (11, 11), "st patrick's day": (3, 17),
    }  # fmt: skip
    if name in fixed:
        return dt.date(year, *fixed[name])
    if name in ("easter", "easter sunday"):
        return easter(year)
    if name == "good friday":
        return easter(year) - dt.timedelta(days=2)
    if name == "easter monday":
        return easter(year) + dt.timedelta(days=1)
    nth_weekday = {
        "thanksgiving": (11, TH(4)), "memorial day": (5, MO(-1)), "labor day": (9, MO(1)),
        "martin luther king day": (1, MO(3)), "presidents day": (2, MO(3)),
    }  # fmt: skip
    if name in nth_weekday:
        month, weekday = nth_weekday[name]
        base = dt.date(year, month, 31 if month == 5 else 1)
        return base + relativedelta(weekday=weekday)
    if name == "election day":
        return dt.date(year, 11, 2) + relativedelta(weekday=TU(1))
    return None


_HOLIDAY_NAMES = (
    "christmas eve|christmas day|christmas|boxing day|new year's eve|new year's day|new year|"
    "valentine's day|halloween|independence day|fourth of july|july fourth|bastille day|"
    "may day|veterans day|armistice day|remembrance day|st patrick's day|easter sunday|"
    "easter monday|easter|good friday|thanksgiving|memorial day|labor day|"
    "martin luther king day|presidents day|election day"
)

# --- vague expressions: a direction from the reference date, never a day ----------------------

_VAGUE_BEFORE = re.compile(
    r"^(recently|lately|earlier|previously|already|in recent (days|weeks|months|years)|"
    r"in the past|before|some time ago|a (few|couple of) (days|weeks|months|years) ago|"
    r"(several|few|many) (days|weeks|months|years) ago|for (days|weeks|months|years)|"
    r"over the (past|last) (few )?(days|weeks|months|years))$"
)
_VAGUE_AFTER = re.compile(
    r"^(soon|shortly|later|in the future|eventually|imminently|"
    r"within (hours|days|weeks|months)|in (the )?(coming|next few|next) (hours|days|weeks|months)|"
    r"in a (few|couple of) (days|weeks|months)|in (days|weeks|months)|"
    r"(over|during) the (coming|next few) (days|weeks|months)|"
    r"(the )?(coming|next few) (days|weeks|months))$"
)
_PAST_SPAN = re.compile(
    rf"(?:past|last|previous) ({_NUM}) {_UNIT}|(?:past|previous) (week|month|year|fortnight)"
)
_MONTH = re.compile(
    rf"(?:(last|this|next|past|coming) )?({_MO})(?:,? (?:of )?(\d{{4}}|last year|this year|next year))?"
)
_QUARTER = re.compile(r"q([1-4])(?: (\d{4}))?|(first|second|third|fourth|1st|2nd|3rd|4th) quarter(?: of)?(?: (\d{4}))?")
_SEASON = re.compile(r"(?:(last|this|next|past|coming) )?(spring|summer|autumn|fall|winter)(?:,? (?:of )?(\d{4}))?")
_NOW = re.compile(r"^(now|currently|at present|at the moment|right now|as of now|this time)$")


def _normalize(expression: str) -> str:
    text = expression.strip().lower()
    text = text.replace("’", "'").replace("‘", "'").replace("–", "-").replace("—", "-")
    text = re.sub(r"\s+", " ", text)
    # Possessives of calendar words: "tuesday's" -> "tuesday" (not "new year's eve").
    text = re.sub(rf"\b({_WD}|{_MO}|today|yesterday|tomorrow|week|weekend|month|(?<!new )year)'s\b", r"\1", text)
    text = re.sub(r"\b(" + _MO + r")\.", r"\1", text)  # "feb." -> "feb"
    text = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text)  # "11th" -> "11"
    return text.strip(" .,;:")


def _strip_prepositions(text: str) -> str:
    # Leading prepositions carry no meaning, except "in" before a count ("in two days").
    text = re.sub(rf"^(on|in(?! (?:{_NUM}) {_UNIT})|at|during|over|from|of|around|about|circa)\s+", "", text)
    return re.sub(r"^the\s+", "", text).strip()


def _number(word: str) -> int | None:
    return int(word) if word.isdigit() else _NUMBERS.get(word)


class _Unresolved(Exception):
    pass


def resolve(
    expression: str | None,
    reference: dt.date | None,
    context: str | None = None,
    *,
    tense: Tense | None = None,
) -> DateSpan:
    """Resolve ``expression`` against ``reference`` (the article's publication date).

    ``context`` is the sentence the expression was taken from; its tense decides the direction of
    bare weekdays and months. ``tense`` overrides that guess when the caller knows better (for
    instance from the model's "happened"/"expected" label). Unresolvable expressions come back
    with precision ``unknown`` and a note; they never get an invented day.
    """
    written = (expression or "").strip()
    if not written:
        return DateSpan(expression=None, note="no temporal expression")
    if tense is None and context:
        tense = detect_tense(context, written)
    return _resolve_cached(written, reference, tense)


@lru_cache(maxsize=65536)
def _resolve_cached(written: str, reference: dt.date | None, tense: Tense | None) -> DateSpan:
    text = _normalize(written)
    try:
        fields = _resolve_text(text, reference, tense)
    except _Unresolved as unresolved:
        return DateSpan(expression=written, note=str(unresolved) or "could not be resolved")
    return DateSpan(expression=written, **fields)


def _span_fields(span, **extra) -> dict:
    start, end, precision = span
    return {"start": start, "end": end, "precision": precision, **extra}


def _need(ref: dt.date | None) -> dt.date:
    if ref is None:
        raise _Unresolved("relative expression and no publication date to resolve it against")
    return ref


def _resolve_text(text: str, ref: dt.date | None, tense: Tense | None) -> dict:
    if _NOW.fullmatch(text):
        return _span_fields(_day(_need(ref)))
    if _VAGUE_BEFORE.fullmatch(text):
        return {"end": _need(ref), "qualifier": "before", "vague": True, "precision": Precision.unknown}
    if _VAGUE_AFTER.fullmatch(text):
        return {"start": _need(ref), "qualifier": "after", "vague": True, "precision": Precision.unknown}
    text = _strip_prepositions(text)
    if text in ("week", "month", "year", "quarter"):  # "the end of the month"
        text = f"this {text}"
    # Compound forms first; they resolve their parts recursively.
    if m := re.fullmatch(r"since (.+)", text):
        inner = _resolve_text(_normalize(m[1]), ref, "past")
        return {**inner, "end": None, "qualifier": "since"}
    if m := re.fullmatch(r"(?:by|before) (?:the )?end of (.+)|by (.+)", text):
        inner = _resolve_text(_normalize(m[1] or m[2]), ref, tense or "future")
        return {**inner, "start": None, "qualifier": "by"}
    if m := re.fullmatch(r"(?:between|from) (.+?) (?:and|to|until|through) (.+)", text):
        first = _resolve_text(_normalize(m[1]), ref, tense)
        second = _resolve_text(_normalize(m[2]), ref, tense)
        return {"start": first["start"], "end": second["end"], "precision": Precision.range}
    if m := re.fullmatch(r"(early|mid|late|(?:the )?(?:end|beginning|start|middle) of)[- ](.+)", text):
        word = m[1].removeprefix("the ")
        modifier: Modifier = {"end of": "late", "beginning of": "early", "start of": "early",
                              "middle of": "mid"}.get(word, word)  # type: ignore[assignment]
        inner = _resolve_text(_normalize(m[2]), ref, tense)
        if inner.get("qualifier") or inner["start"] is None:
            raise _Unresolved(f"cannot take the {modifier} part of an open span")
        start, end, precision = _narrow((inner["start"], inner["end"], inner["precision"]), modifier)
        return {"start": start, "end": end, "precision": precision, "modifier": modifier}

    if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text):
        return _span_fields(_day(dt.date(int(m[1]), int(m[2]), int(m[3]))))

    days = {
        "today": 0, "tonight": 0, "this morning": 0, "this afternoon": 0, "this evening": 0,
        "earlier today": 0, "later today": 0, "yesterday": -1, "last night": -1,
        "yesterday morning": -1, "yesterday afternoon": -1, "yesterday evening": -1,
        "tomorrow": 1, "tomorrow morning": 1, "tomorrow night": 1, "tomorrow evening": 1,
        "day before yesterday": -2, "day after tomorrow": 2,
    }  # fmt: skip
    if text in days:
        return _span_fields(_day(_need(ref) + dt.timedelta(days=days[text])))
    if text in ("overnight", "overnight strikes"):
        ref = _need(ref)
        return {"start": ref - dt.timedelta(days=1), "end": ref, "precision": Precision.range}

    if m := re.fullmatch(rf"(?:(last|next|this|past|coming) )?({_WD})s?(?: (morning|afternoon|evening|night))?", text):
        ref = _need(ref)
        direction = {"past": "last", "coming": "next"}.get(m[1], m[1])
        return _span_fields(_day(_weekday(_WEEKDAYS[m[2]], ref, direction, tense)))

    if m := re.fullmatch(rf"({_NUM}) {_UNIT} (ago|earlier|before)", text):
        return _relative_unit(_need(ref), -(_number(m[1]) or 1), m[2])
    if m := re.fullmatch(rf"(?:in|within|after) ({_NUM}) {_UNIT}(?: time)?|({_NUM}) {_UNIT} from now", text):
        count, unit = (m[1], m[2]) if m[1] else (m[3], m[4])
        if text.startswith("within"):
            ref = _need(ref)
            end = _relative_unit(ref, _number(count) or 1, unit, exact=True)["end"]
            return {"start": ref, "end": end, "precision": Precision.range}
        return _relative_unit(_need(ref), _number(count) or 1, unit)
    if m := _PAST_SPAN.fullmatch(text):
        ref = _need(ref)
        count, unit = (_number(m[1]) or 1, m[2]) if m[1] else (1, m[3])
        start = _relative_unit(ref, -count, unit, exact=True)["start"]
        return {"start": start, "end": ref, "precision": Precision.range}
    if m := re.fullmatch(r"(earlier|later) this (week|month|year)", text):
        ref = _need(ref)
        unit_span = {"week": _week(ref), "month": _month(ref.year, ref.month), "year": _year(ref.year)}[m[2]]
        if m[1] == "earlier":
            return {"start": unit_span[0], "end": max(unit_span[0], ref - dt.timedelta(days=1)),
                    "precision": Precision.range}
        return {"start": min(unit_span[1], ref + dt.timedelta(days=1)), "end": unit_span[1],
                "precision": Precision.range}

    if m := re.fullmatch(r"(?:(last|this|next|past|coming) )?weekend", text):
        ref = _need(ref)
        if m[1] in ("next", "coming") or (m[1] == "this" and tense != "past") or (m[1] is None and tense == "future"):
            saturday = ref + dt.timedelta(days=(5 - ref.weekday()) % 7)
            if m[1] == "next" and ref.weekday() >= 5:
                saturday += dt.timedelta(days=7)
        else:  # the weekend just gone (or the one we are in)
            saturday = ref - dt.timedelta(days=(ref.weekday() - 5) % 7)
        return _span_fields(_weekend(saturday))

    if m := re.fullmatch(r"(last|this|next|previous|current|coming) (week|month|year|quarter)", text):
        ref = _need(ref)
        step = {"last": -1, "previous": -1, "this": 0, "current": 0, "next": 1, "coming": 1}[m[1]]
        if m[2] == "week":
            return _span_fields(_week(ref + dt.timedelta(weeks=step)))
        if m[2] == "month":
            shifted = _shift_months(ref.replace(day=1), step)
            return _span_fields(_month(shifted.year, shifted.month))
        if m[2] == "quarter":
            shifted = _shift_months(ref.replace(day=1), 3 * step)
            return _span_fields(_quarter(shifted.year, (shifted.month - 1) // 3 + 1))
        return _span_fields(_year(ref.year + step))

    if parts := _month_day(text):
        month, first, last, year = parts
        if year is None:
            year = _nearest_year_for(month, first, _need(ref), tense)
        try:
            start = dt.date(int(year), month, first)
            end = dt.date(int(year), month, int(last)) if last else start
        except ValueError as bad:
            raise _Unresolved(f"not a calendar date: {bad}") from None
        return {"start": start, "end": end, "precision": Precision.range if last else Precision.day}

    if m := _MONTH.fullmatch(text):
        month = _MONTHS[m[2]]
        if m[3] and m[3][0].isdigit():
            year = int(m[3])
        elif m[3]:
            year = _need(ref).year + {"last year": -1, "this year": 0, "next year": 1}[m[3]]
        else:
            ref = _need(ref)
            if m[1] in ("last", "past"):
                year = ref.year if month < ref.month else ref.year - 1
            elif m[1] in ("next", "coming"):
                year = ref.year if month > ref.month else ref.year + 1
            elif m[1] == "this":
                year = ref.year
            else:
                year = _nearest_year_for(month, None, ref, tense)
        return _span_fields(_month(year, month))

    if m := re.fullmatch(r"(?:year )?(\d{4})", text):
        return _span_fields(_year(int(m[1])))
    if m := re.fullmatch(r"(?:(\d{2})|')?(\d)0s", text):
        if m[1]:
            century = int(m[1])
        elif ref:  # "the '90s": the latest such decade not after the reference year
            century = 19 if int(m[2]) * 10 > ref.year % 100 else 20
        else:
            century = 19 if int(m[2]) >= 3 else 20
        return _span_fields(_decade(century * 100 + int(m[2]) * 10))

    if m := _QUARTER.fullmatch(text):
        quarter = int(m[1]) if m[1] else _ORDINALS[m[3]]
        year_text = m[2] or m[4]
        if year_text:
            year = int(year_text)
        else:
            ref = _need(ref)
            current = (ref.month - 1) // 3 + 1
            year = ref.year - 1 if quarter > current and tense != "future" else ref.year
        return _span_fields(_quarter(year, quarter))

    if m := _SEASON.fullmatch(text):
        first = _SEASONS[m[2]]
        if m[3]:
            return _span_fields(_season(int(m[3]), first))
        ref = _need(ref)
        instances = [_season(year, first) for year in (ref.year - 2, ref.year - 1, ref.year, ref.year + 1)]
        current = next((s for s in instances if s[0] <= ref <= s[1]), None)
        past = [s for s in instances if s[1] < ref]
        future = [s for s in instances if s[0] > ref]
        if m[1] in ("last", "past"):
            return _span_fields(past[-1])
        if m[1] in ("next", "coming"):
            return _span_fields(future[0])
        if current:
            return _span_fields(current)
        if m[1] == "this" or tense == "future":
            return _span_fields(future[0])
        return _span_fields(past[-1])

    if m := re.fullmatch(rf"(?:(last|this|next) )?({_HOLIDAY_NAMES})(?:,? (\d{{4}}))?", text):
        name = m[2]
        if m[3]:
            when = _holiday(name, int(m[3]))
        else:
            ref = _need(ref)
            dates = [d for y in (ref.year - 1, ref.year, ref.year + 1) if (d := _holiday(name, y))]
            if m[1] == "last" or (m[1] is None and tense == "past"):
                when = max(d for d in dates if d <= ref)
            elif m[1] == "next" or (m[1] is None and tense == "future"):
                when = min(d for d in dates if d >= ref)
            else:
                when = min(dates, key=lambda d: abs((d - ref).days))
        assert when is not None
        return _span_fields(_day(when))

    return _parse_absolute(text, ref)


def _month_day(text: str) -> tuple[int, int, str | None, str | None] | None:
    """Month and day in either order ("march 11", "11 march 2025"), optionally a day range."""
    if m := re.fullmatch(rf"({_MO}) (\d{{1,2}})(?:-(\d{{1,2}}))?(?:,? (\d{{4}}))?", text):
        return _MONTHS[m[1]], int(m[2]), m[3], m[4]
    if m := re.fullmatch(rf"(\d{{1,2}})(?:-(\d{{1,2}}))? ({_MO})(?:,? (\d{{4}}))?", text):
        return _MONTHS[m[3]], int(m[1]), m[2], m[4]
    return None


def _relative_unit(ref: dt.date, count: int, unit: str, *, exact: bool = False) -> dict:
    """The day/week/month/year ``count`` units from ``ref``.

    With ``exact`` the span is the single day that far away (used to build ranges).
    """
    if unit in ("day",):
        return _span_fields(_day(ref + dt.timedelta(days=count)))
    if unit in ("week", "fortnight"):
        days = count * (14 if unit == "fortnight" else 7)
        target = ref + dt.timedelta(days=days)
        return _span_fields(_day(target) if exact else _week(target))
    if unit == "month":
        target = _shift_months(ref, count)
        return _span_fields(_day(target) if exact else _month(target.year, target.month))
    target = _shift_months(ref, 12 * count)
    return _span_fields(_day(target) if exact else _year(target.year))


_ABSOLUTE_HINT = re.compile(rf"\d|\b({_MO})\b")


def _parse_absolute(text: str, ref: dt.date | None) -> dict:
    """Absolute dates in any other written form ("18/03/2025", "le 18 mars 2025"), via dateparser."""
    if not _ABSOLUTE_HINT.search(text):
        raise _Unresolved("not a recognised temporal expression")
    settings = {"PREFER_DAY_OF_MONTH": "first", "RETURN_TIME_AS_PERIOD": False,
                "DATE_ORDER": "DMY", "PREFER_DATES_FROM": "past"}  # fmt: skip
    if ref is not None:
        settings["RELATIVE_BASE"] = dt.datetime.combine(ref, dt.time())
    data = _date_parser(settings).get_date_data(text)
    if data.date_obj is None:
        raise _Unresolved("not a recognised temporal expression")
    day = data.date_obj.date()
    if data.period == "year":
        return _span_fields(_year(day.year))
    if data.period == "month":
        return _span_fields(_month(day.year, day.month))
    if data.period == "week":
        return _span_fields(_week(day))
    return _span_fields(_day(day))


@lru_cache(maxsize=4)
def _date_parser_cached(settings_key: tuple) -> object:
    from dateparser.date import DateDataParser

    return DateDataParser(languages=None, settings=dict(settings_key))


def _date_parser(settings: dict):
    return _date_parser_cached(tuple(sorted(settings.items(), key=lambda kv: kv[0])))


# --- rendering -------------------------------------------------------------------------------


def _fmt_day(d: dt.date) -> str:
    return f"{d.day} {d.strftime('%b %Y')}"


def format_span(span: DateSpan) -> str:
    """Human form that shows the precision: "18 Mar 2025", "Feb 2025", "15–16 Mar 2025"."""
    if not span.is_known:
        return f"undated ({span.expression})" if span.expression else "undated"
    vague = f" ({span.expression})" if span.vague and span.expression else ""
    if span.qualifier == "before":
        return f"before {_fmt_day(span.end)}{vague}"  # type: ignore[arg-type]
    if span.qualifier == "after":
        return f"after {_fmt_day(span.start)}{vague}"  # type: ignore[arg-type]
    if span.qualifier == "since":
        inner = DateSpan(start=span.start, end=span.start, precision=span.precision)
        if span.precision in (Precision.day, Precision.range, Precision.week):
            return f"since {_fmt_day(span.start)}"  # type: ignore[arg-type]
        return "since " + _format_closed(inner.model_copy(update={"end": _unit_end(span)}))
    if span.qualifier == "by":
        return f"by {_fmt_day(span.end)}"  # type: ignore[arg-type]
    return _format_closed(span)


def _unit_end(span: DateSpan) -> dt.date:
    start = span.start
    assert start is not None
    if span.precision == Precision.month:
        return _month(start.year, start.month)[1]
    if span.precision == Precision.year:
        return _year(start.year)[1]
    return start


def _format_closed(span: DateSpan) -> str:
    start, end = span.start, span.end
    assert start is not None and end is not None
    prefix = f"{span.modifier} " if span.modifier else ""
    if span.precision == Precision.day or start == end:
        return _fmt_day(start)
    if span.precision == Precision.month and not span.modifier:
        return start.strftime("%b %Y")
    if span.precision == Precision.year and not span.modifier:
        return str(start.year)
    if span.precision == Precision.decade and not span.modifier:
        return f"{start.year}s"
    if span.precision == Precision.quarter:
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    if span.precision == Precision.season:
        name = {3: "spring", 6: "summer", 9: "autumn", 12: "winter"}[start.month]
        return f"{name} {start.year}" + (f"/{str(end.year)[2:]}" if end.year != start.year else "")
    if span.modifier and span.precision == Precision.month:
        return f"{prefix}{start.strftime('%b %Y')}"
    if span.modifier and span.precision == Precision.year:
        return f"{prefix}{start.year}"
    if span.modifier and span.precision == Precision.decade:
        return f"{prefix}{start.year - start.year % 10}s"
    if start.year == end.year and start.month == end.month:
        return f"{start.day}–{end.day} {start.strftime('%b %Y')}"
    if start.year == end.year:
        return f"{start.day} {start.strftime('%b')} – {end.day} {end.strftime('%b %Y')}"
    return f"{_fmt_day(start)} – {_fmt_day(end)}"
