"""Who said what: the speaker a report names, and the check that a summary sentence says it
the way the reports it draws on do.

A summary is the one part of the output the model writes in its own words, so it is checked as
grounding checks events: a sentence that names someone no report it was shown names, that
gives a statement to someone other than its report's speaker, or that puts in quotation marks
words no report contains is refused (``refusal``). Written by hand: which name a speech verb
belongs to in a news sentence is a few patterns ("X said", "“…,” said Y", "according to Z"), and
no light library reads attribution.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from . import dates
from .dates.finder import find_expressions
from .grounding import bare_name, content_keys, names_in
from .models import DateSpan

SPEECH_VERBS = (
    "said says told tells added adds stressed stresses stated states warned warns wrote writes explained "
    "explains insisted insists accused accuses apologised apologized apologises apologizes apologise "
    "apologize pledged pledges announced announces confirmed confirms denied denies claimed claims argued "
    "argues urged urges vowed vows promised promises admitted admits acknowledged acknowledges noted notes "
    "declared declares replied replies responded responds blamed blames criticised criticized criticises "
    "criticizes praised praises welcomed welcomes condemned condemns"
).split()
_VERB = r"(?:" + "|".join(SPEECH_VERBS) + r")"
_CAPITALISED = r"[A-Z][\w.’'-]*"
_RUN = rf"{_CAPITALISED}(?:\s+(?:(?:of|de|al|von|van|bin|la)\s+)?{_CAPITALISED})*"

_AFTER_QUOTATION = re.compile(rf"^[“\"][^”\"]+[”\"],?\s+(?:{_VERB}\s+(?P<after>[^,;]+?)\s*(?:[,;]|[.!?]?\s*$)|"
                              rf"(?P<before>[^,;]+?)\s+{_VERB}\b)")
"""A sentence that opens with a quotation, and who spoke it: "“…,” said Trump adviser Steve
Witkoff." (the name run the sentence ends with) or "“…,” Trump told reporters"."""
_ACCORDING_TO = re.compile(rf"\baccording to (?:the )?(?P<run>{_RUN})")
_RUN_BEFORE_VERB = re.compile(rf"(?P<run>{_RUN})(?:,[^,]{{1,60}},)?\s+(?:also\s+|later\s+|has\s+|had\s+)?"
                              rf"(?P<verb>{_VERB})\b")
_VERB_THEN_RUN_AT_END = re.compile(rf",\s+{_VERB}\s+(?P<rest>[^,;]+?)\s*[.!?]?[”\"’]?\s*$")
_QUOTED = re.compile(r"“([^”]+)”|\"([^\"]+)\"")
_NOT_WORD = re.compile(r"[\W_]+")


def _last_name_run(text: str) -> str | None:
    """The last run of capitalised words in ``text``, as a bare name (roles and titles dropped:
    "Trump adviser Steve Witkoff" is "Steve Witkoff")."""
    runs = re.findall(_RUN, text)
    for run in reversed(runs):
        name = bare_name([w.strip(".,") if w.count(".") <= 1 else w for w in run.split()])
        if name:
            return name
    return None


def speakers(sentence: str) -> list[str]:
    """Everyone the sentence gives words to, in order: the name run that ends at a speech verb
    ("Kremlin spokesman Dmitry Peskov said", "The Kremlin denied"), the one a speech verb leads
    to at the sentence's end ("“…,” said Trump adviser Steve Witkoff."), and "according to X"."""
    found: list[tuple[int, str]] = []
    if match := _AFTER_QUOTATION.match(sentence):
        name = _last_name_run(match.group("after") or match.group("before") or "")
        if name:
            found.append((match.start(), name))
    for match in _RUN_BEFORE_VERB.finditer(sentence):
        if name := _last_name_run(match.group("run")):
            found.append((match.start(), name))
    if match := _VERB_THEN_RUN_AT_END.search(sentence):
        if name := _last_name_run(match.group("rest")):
            found.append((match.start(), name))
    for match in _ACCORDING_TO.finditer(sentence):
        if name := _last_name_run(match.group("run")):
            found.append((match.start(), name))
    ordered: list[str] = []
    for _, name in sorted(found):
        if not any(same_person(name, other) for other in ordered):
            ordered.append(name)
    return ordered


def speaker_of(sentence: str) -> str | None:
    """The first one the sentence gives words to (``speakers``), or None."""
    named = speakers(sentence)
    return named[0] if named else None


def _key(name: str) -> str:
    words = name.replace("’s", "").replace("'s", "").split()
    return words[-1].strip(".,").casefold() if words else ""


def same_person(first: str, second: str) -> bool:
    """Whether two names name the same one: "Vladimir Putin", "Putin" and "President Putin" do
    (by their last word, as the merge compares actors)."""
    return bool(_key(first)) and _key(first) == _key(second)


def normalised(text: str) -> str:
    """Words only, folded: quotation marks, dashes and case do not matter when a quotation is
    compared with the reports."""
    return " " + _NOT_WORD.sub(" ", text.casefold()).strip() + " "


@dataclass
class Report:
    """What a summary sentence may draw on: one event as the prompt showed it."""

    quote: str
    speaker: str | None = None
    source: str | None = None
    names: list[str] = field(default_factory=list)
    title: str = ""
    span: DateSpan | None = None

    @property
    def everyone(self) -> list[str]:
        return [n for n in (self.speaker, self.source, *self.names, *names_in(self.quote, limit=99),
                            *names_in(self.title, limit=99)) if n]


def drawn_on(sentence: str, reports: Sequence[Report]) -> int | None:
    """The report a sentence draws on: the one it shares the most content words with (None if
    it shares none)."""
    words = set(content_keys(sentence))
    shared = [len(words & set(content_keys(f"{r.quote} {r.title}"))) for r in reports]
    best = max(range(len(reports)), key=lambda i: (shared[i], -i), default=None)
    return best if best is not None and shared[best] > 0 else None


def refusal(sentence: str, reports: Sequence[Report]) -> str | None:
    """Why a summary sentence cannot stand beside the ``reports`` it was written from, or None:
    a quotation no report contains, a name no report gives, the days of several events
    (``days_told``), a date its report cannot be of (``stated_date``), or a statement given to
    someone other than its report's speaker."""
    shown = " ".join(normalised(r.quote) for r in reports)
    for match in _QUOTED.finditer(sentence):
        words = normalised(match.group(1) or match.group(2))
        if words.strip() and words not in shown:
            return f"puts in quotation marks words no report contains (“{(match.group(1) or match.group(2))}”)"
    everyone = [name for report in reports for name in report.everyone]
    context = " ".join(r.quote for r in reports)
    for name in names_in(without_dates(sentence), article=f"{context} {sentence}", limit=99):
        if not any(same_person(name, other) or name.casefold() in other.casefold() for other in everyone):
            return f"names {name}, whom none of the events shown names"
    if len(told := days_told(sentence, reports)) > 1:
        return (f"tells {len(told)} events in one sentence (those of "
                f"{', '.join(dates.format_span(reports[i].span) for i in told)}); "  # type: ignore[arg-type]
                "write one sentence for each event")
    index = drawn_on(sentence, reports)
    if index is None:
        return None
    report = reports[index]
    if (stated := stated_date(sentence, report)) is not None:
        return (f"dates it {dates.format_span(stated)}, but the report it draws on is of "
                f"{dates.format_span(report.span)}")  # type: ignore[arg-type]
    for speaker in speakers(sentence):
        if report.speaker is not None:
            if not same_person(speaker, report.speaker):
                return (f"gives {report.speaker}'s words to {speaker} (the report it draws on quotes "
                        f"{report.speaker})")
        elif not (report.source and same_person(speaker, report.source)):
            # A report that names no speaker ("he accused the Kremlin of stalling") gives its words
            # to no one it names: the 1.5B model wrote "the Kremlin accused Russia of stalling".
            return f"gives words to {speaker}, whom the report it draws on does not quote"
    return None


def stated_date(sentence: str, report: Report) -> DateSpan | None:
    """A calendar date the sentence writes ("On March 15, 2025", "in Feb 2025") when none it
    writes can be the time of the event it draws on (``report.span``), or None. Given four
    events, the 1.5B model wrote the most-reported one's report three times, under the dates of
    the other three. A date the report itself writes ("the war, which began in 2022") is not the
    event's time, and not held against it."""
    span = report.span
    if span is None or not span.is_known or span.vague:
        return None
    closed = written_dates(sentence, span.start or span.end)
    if any(date.overlaps(span) for date in closed):
        return None
    quoted = normalised(report.quote)
    return next((date for date in closed if normalised(date.expression or "") not in quoted), None)


def written_dates(sentence: str, reference: dt.date | None) -> list[DateSpan]:
    """The calendar dates a sentence writes with a number ("On March 15, 2025", "in Feb 2025"),
    read from ``reference`` where they leave out the year. Expressions without one are left
    out: a weekday or "last week" in a summary counts from a day its reader is not told."""
    found = [dates.resolve(expression.text, reference, sentence) for expression in find_expressions(sentence)
             if any(character.isdigit() for character in expression.text)]
    return [date for date in found if date.is_known and not date.vague and date.qualifier is None]


def without_dates(sentence: str) -> str:
    """The sentence with its time expressions blanked: "18 Mar 2025", the form the summary's
    lines give dates in, names no one called Mar."""
    for found in reversed(find_expressions(sentence)):
        sentence = sentence[:found.start] + " " * (found.end - found.start) + sentence[found.end:]
    return sentence


def days_told(sentence: str, reports: Sequence[Report]) -> list[int]:
    """The reports of single days whose day the sentence writes (with a number): an event the
    model tells under that report's date. Given five events, the 1.5B model once wrote the whole
    summary into each sentence, five dates in one, six times over."""
    return [i for i, report in enumerate(reports)
            if report.span is not None and report.span.start is not None and report.span.start == report.span.end
            and any(date.start == date.end == report.span.start for date in written_dates(sentence, report.span.start))]
