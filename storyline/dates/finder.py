"""Find the time expressions a sentence holds, with their places: a tagger over the rule table.

The model is not asked to copy time expressions (small models copy the wrong one, or one that
is not there); the code finds them. It looks for *anchors*, words that name a calendar place
("Tuesday", "March 18", "yesterday", "last week", "2022"), widens each over the words that may
belong to it (a preposition, "last", "early", "since", "the end of", a year after a month) and
keeps the widest reading the rule table (``rules.RULES``) understands. So what is found is what
:func:`storyline.dates.resolve` can read, and the table stays the one place that knows what an
expression means.

Words that are often not dates are anchors only with a word that makes them one: a month name
alone ("March" is also a verb, "May" a modal) or a season ("fall") needs a preposition or a
direction word before it, or a day or a year with it; so does a bare year ("2,500" is not one,
"in 2022" is). Words that count from another event of the story ("later", "the following
day") are not anchors: they are not placed against the publication date.

Written by hand because date taggers (HeidelTime, SUTime) are Java programs with their own
rule sets; this one reuses the rules that resolve the expressions.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import NamedTuple

from .named_days import PATTERN as NAMED_DAY
from .rules import UNRECOGNISED, Context, normalize, resolve_text
from .spans import Unresolved

_MONTH = ("January|February|March|April|May|June|July|August|September|October|November|December|"
          "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec")
_WEEKDAY = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR = r"(?:1[89]\d\d|20\d\d)"
_COUNT = (r"\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
          r"a couple of|a few|several|twenty-four|forty-eight")
_UNIT = r"(?:hour|day|week|fortnight|month|year|decade)s?"
_SEASON = r"spring|summer|autumn|fall|winter"

# Anchors that are dates wherever they stand. Month and weekday names must be capitalised, as
# news writes them; the rest is matched case-insensitively through (?i:...).
_ALWAYS = [
    r"\b\d{4}-\d{1,2}-\d{1,2}\b",
    r"\b\d{1,2}/\d{1,2}/(?:\d{4}|\d{2})\b",
    rf"\b(?:{_MONTH})\.? {_DAY}\b(?: ?[-–] ?(?:(?:{_MONTH})\.? )?{_DAY}\b)?",
    rf"\b{_DAY}(?: ?[-–] ?{_DAY})? (?:of )?(?:{_MONTH})\b(?: ?[-–] ?{_DAY} (?:{_MONTH})\b)?",
    rf"\b(?:{_MONTH}),? (?:of )?{_YEAR}\b",
    rf"\b(?:{_WEEKDAY})s?\b",
    r"(?i:\b(?:today|tonight|yesterday|tomorrow|overnight|last night|this (?:morning|afternoon|evening)))\b",
    r"(?i:\b(?:last|this|next|past|previous|coming|current) (?:week|month|year|weekend|quarter|decade|century|"
    r"fortnight)\b)",
    r"(?i:\b(?:earlier|later) this (?:week|month|year)\b)",
    r"(?i:\bweekend\b)",
    rf"(?i:\b(?:{_COUNT}) {_UNIT} ago\b)",
    rf"(?i:\b(?:the )?(?:past|last|next|coming) (?:(?:{_COUNT}) )?{_UNIT}\b)",
    rf"(?i:\b(?:in|within) (?:{_COUNT}) {_UNIT}\b)",
    rf"(?i:\b(?:the )?(?:first|second|third|fourth|1st|2nd|3rd|4th) (?:quarter|half)(?: of {_YEAR})?\b)",
    rf"\bQ[1-4](?: {_YEAR})?\b|\bH[12](?: {_YEAR})?\b",
    rf"\b{_YEAR}[-/]\d{{2}}(?:\d{{2}})?\b",
    r"(?i:\b(?:recently|lately|previously|soon|shortly|in recent (?:days|weeks|months|years)|"
    r"in the (?:coming|next few) (?:days|weeks|months|years)|in the near future|within (?:hours|days|weeks|months))\b)",
]
# Anchors that are dates only with a word before them that makes them one (see _CONTEXT_WORDS).
_WITH_CONTEXT = [
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November|December)\b",
    rf"\b{_YEAR}s?\b",
    r"\b'\d0s\b",
    rf"(?i:\b(?:{_SEASON})\b)",
]
_ANCHOR = re.compile("|".join(f"(?:{p})" for p in _ALWAYS))
_NAMED_DAY = re.compile(rf"\b(?:{NAMED_DAY})\b", re.IGNORECASE)
"""Named days ("Christmas", "New Year's Day"): anchors where they are capitalised, as names are."""
_CONDITIONAL = re.compile("|".join(f"(?:{p})" for p in _WITH_CONTEXT))

# Words that may come before an anchor and belong to its expression, and those that make a
# conditional anchor a date.
_CONTEXT_WORDS = frozenset(
    "in on since until till by before after from through during over of early mid late last this next "
    "past coming previous the end beginning start middle between as".split())
_LEFT_WORDS = _CONTEXT_WORDS | {"ever", "earlier", "later", "about", "around", "circa", "throughout"}
_NOT_ENOUGH = frozenset({"the", "of", "as"})
"""Context words that alone do not make a conditional anchor a date ("the 2022 election" is
one, but "the March" or "of May" alone are not evidence enough)."""
_WORD_BEFORE = re.compile(r"([A-Za-z]+-?)\s*$")
_RIGHT = re.compile(rf",? (?:of )?{_YEAR}\b|(?: (?:morning|afternoon|evening|night))\b")
_RANGE_JOIN = re.compile(r"\s*(?:and|to|until|till|through|[-–])\s*")
MAX_LEFT_WORDS = 4


class Found(NamedTuple):
    """A time expression as written, and where it is in the sentence."""

    text: str
    start: int
    end: int


_ANY_DAY = Context(dt.date(2001, 6, 15), None)
"""A reference to read expressions against: only whether they are understood matters here."""


@lru_cache(maxsize=65536)
def understood(expression: str) -> bool:
    """Whether the rule table reads ``expression`` as a time expression (an impossible date such
    as "April 31" is one; a word it does not know is not)."""
    try:
        resolve_text(normalize(expression), _ANY_DAY)
    except Unresolved as unresolved:
        return str(unresolved) != UNRECOGNISED
    except (ValueError, OverflowError):
        return False
    return True


def _left_starts(sentence: str, start: int) -> list[int]:
    """Where the expression may start: the anchor, then each of up to MAX_LEFT_WORDS words
    before it that may belong to it, nearest first."""
    starts = [start]
    cursor = start
    for _ in range(MAX_LEFT_WORDS):
        match = _WORD_BEFORE.search(sentence, 0, cursor)
        if not match or match.group(1).lower().rstrip("-") not in _LEFT_WORDS:
            break
        cursor = match.start(1)
        starts.append(cursor)
    return starts


def _widest(sentence: str, start: int, end: int, floor: int = 0) -> Found | None:
    """The widest reading around an anchor, starting at ``floor`` or later, that the rule table
    understands."""
    right = _RIGHT.match(sentence, end)
    ends = [right.end(), end] if right else [end]
    for left in reversed(_left_starts(sentence, start)):
        if left < floor:
            continue
        for stop in ends:
            text = sentence[left:stop]
            if understood(text):
                return Found(text, left, stop)
    return None


def _has_context(sentence: str, start: int) -> bool:
    """Whether a word before ``start`` (past any "the") makes a conditional anchor a date."""
    cursor = start
    for _ in range(3):
        match = _WORD_BEFORE.search(sentence, 0, cursor)
        word = match.group(1).lower().rstrip("-") if match else ""
        if word not in _NOT_ENOUGH:
            return word in _CONTEXT_WORDS
        cursor = match.start(1)  # type: ignore[union-attr]
    return False


def _anchors(sentence: str) -> list[tuple[int, int]]:
    """Anchors in order; a conditional one counts with a word that makes it a date, or as the
    second end of a range ("from 2010 to 2015")."""
    spans = [(m.start(), m.end()) for m in _ANCHOR.finditer(sentence)]
    spans += [(m.start(), m.end()) for m in _NAMED_DAY.finditer(sentence) if m.group()[0].isupper()]
    for match in _CONDITIONAL.finditer(sentence):
        start = match.start()
        if any(s <= start < e for s, e in spans):
            continue
        ends_range = any(_RANGE_JOIN.fullmatch(sentence, e, start) for _, e in spans)
        if ends_range or _has_context(sentence, start):
            spans.append((start, match.end()))
    return sorted(spans)


def _join_ranges(sentence: str, found: list[Found]) -> list[Found]:
    """"between X and Y", "from X to Y": two expressions joined into one where the table reads
    the whole."""
    joined: list[Found] = []
    for item in found:
        previous_is_single = bool(joined) and joined[-1] in found
        if previous_is_single and _RANGE_JOIN.fullmatch(sentence, joined[-1].end, item.start):
            for left in _left_starts(sentence, joined[-1].start):
                text = sentence[left:item.end]
                if re.match(r"(?i)between|from", text) and understood(text):
                    joined[-1] = Found(text, left, item.end)
                    break
            else:
                joined.append(item)
            continue
        joined.append(item)
    return joined


def find_expressions(sentence: str) -> list[Found]:
    """Every time expression in ``sentence``, in order, none overlapping another."""
    found: list[Found] = []
    for start, end in _anchors(sentence):
        floor = found[-1].end if found else 0
        if start < floor:
            continue
        widest = _widest(sentence, start, end, floor)
        if widest is not None:
            found.append(widest)
    return _join_ranges(sentence, found)


_OTHER_HAPPENING = re.compile(r"\b(after|following|before|since)\s+((?:[^\s,;:.!?()\"“”]+\s+){1,5})$", re.IGNORECASE)
"""A preposition and a few words of one clause before an expression: "after a Ukrainian
incursion last August" dates the incursion, and what the sentence reports comes after it."""
_READ_AS = {"following": "after"}


def about_another_happening(sentence: str, expression: Found) -> tuple[str, str] | None:
    """Where ``expression`` dates another happening that the sentence's own is placed against
    ("reclaimed by Russian forces after a Ukrainian incursion last August"): the expression to
    resolve instead ("after last August") and the words to show ("after a Ukrainian incursion
    last August"); None if it is not so placed, or the table cannot read the whole."""
    match = _OTHER_HAPPENING.search(sentence, 0, expression.start)
    if match is None:
        return None
    word = match.group(1).lower()
    reading = f"{_READ_AS.get(word, word)} {expression.text}"
    if not understood(reading):
        return None
    return reading, sentence[match.start():expression.end]

