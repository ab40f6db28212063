"""Which way a sentence points from its publication date: the tense around a time expression.

Written by hand because no light library reads tense from a clause, and only a few words matter
here: auxiliaries ("will", "was", "has"), past forms of verbs ("said", "held"), and the
planning phrases news uses for the future ("is set to", "plans to", "scheduled for").

Evidence is *strong* when it is an auxiliary or a verb form that cannot be anything else, and
*weak* when it may be another part of speech: a word ending in "-ed" can be an adjective ("the
proposed talks"), a headline's "to discuss" has no subject. How strong evidence combines with
the model's own status label is decided in :func:`direction`.
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

from .spans import Tense

Strength = Literal["strong", "weak"]


class Evidence(NamedTuple):
    tense: Tense
    strength: Strength
    start: int
    end: int


_FUTURE = re.compile(
    r"\b(?:will|won't|wont|shall|(?:is|are|am|was|were) (?:(?:due|scheduled|slated|expected)(?: to)?|(?:going|set|"
    r"poised|planning|preparing|about|likely) to|to be)|plans? to|planning to|intends? to|aims? to|"
    r"scheduled (?:for|to)|slated (?:for|to)|due (?:to|on|in)|expected (?:to|on|in)|would|could|might|"
    r"(?-i:may)|upcoming|(?:is|are) to|to be held|next)\b|'ll\b",
    re.IGNORECASE,
)
"""Markers of the future. The modal "may" counts only in lower case: "May" is a month."""
# Past forms of common irregular verbs that are not also present forms or nouns ("read", "put",
# "cut", "hit", "set" and "let" are left out on purpose).
_IRREGULAR_PAST = (
    "said told met spoke held made took gave went came began left sent won lost fell rose saw led brought "
    "bought fought struck wrote drove flew threw grew knew stood sat ran found felt kept paid sold thought "
    "caught taught built spent meant became broke chose froze stole woke wore tore swore drew shook forgot "
    "got hid bit lay laid rang sang sank shot slid sprang stuck swam swung wept withdrew overtook undertook "
    "fled bore dealt dug fed heard hung lit sought fled rode arose forbade foresaw mistook oversaw "
    "underwent upheld withheld"
).split()
_PAST_AUXILIARY = re.compile(
    r"\b(?:was|were|had|did|didn't|wasn't|weren't|hadn't|(?:has|have)(?:n't)? (?:been|\w+ed|" + "|".join(
        _IRREGULAR_PAST) + r"|shown|given|taken|spoken|seen|done|gone|written|chosen|known|grown|risen|fallen|"
    r"broken|driven|begun))\b",
    re.IGNORECASE,
)
_IRREGULAR = re.compile(r"\b(?:" + "|".join(_IRREGULAR_PAST) + r")\b", re.IGNORECASE)
# Lower-case words ending in -ed that are not past verbs ("hundred", "need", "Ahmed" is capitalised
# and never matches). Capitalised words ("United") are names, so only lower case counts.
_NOT_PAST = frozenset(
    "hundred need needed indeed proceed exceed succeed feed breed embed shed bed red bred seed weed creed "
    "greed sacred naked wicked kindred rugged ragged dogged beloved speed steed heed freed deed tweed "
    "reed bleed agreed".split()
)
_REGULAR_PAST = re.compile(r"\b[a-z]{2,}ed\b")
# A participle after a form of "be" or "have" belongs to that auxiliary ("will be released").
_PARTICIPLE_AFTER = re.compile(r"\b(?:be|been|being|is|are|am|to be|get|got)\s+$", re.IGNORECASE)
_HEADLINE_INFINITIVE = re.compile(
    r"\bto (?:discuss|speak|talk|meet|hold|visit|vote|sign|announce|attend|travel|host|resume|begin|start|"
    r"launch|present|unveil|release|deliver|testify|face|hear|decide|consider|review|open|close|end|seek|"
    r"join|leave|return|rule|publish|address|head|lead|make|take|give)\b",
    re.IGNORECASE,
)
# Phrases that look ahead to what they name without a verb of their own ("shares rose ahead of
# Tuesday's vote"): weak, so a past verb of the clause still decides ("said ahead of Monday's call").
_LOOKING_AHEAD = re.compile(
    r"\b(?:ahead of|in advance of|in the run-up to|the run-up to|in the build-up to|awaiting|awaits|"
    r"await|countdown to|in preparation for|in anticipation of)\b",
    re.IGNORECASE,
)
# Where one clause ends and another begins: a verb on the other side of these words governs
# another clause ("said that the vote on Tuesday will ...", "placed a cap in June so oil could be
# collected").
_CLAUSE_BREAK = re.compile(
    r"[;:()\u2014\"“”]|\s-\s|\b(?:that|which|who|whom|whose|where|when|while|whereas|because|although|though|"
    r"unless|if|but|so(?! far\b| much\b| many\b| long\b|-))\b",
    re.IGNORECASE,
)


def evidence(sentence: str) -> list[Evidence]:
    """Every tense marker of the sentence, in order."""
    found: list[Evidence] = []
    for match in _FUTURE.finditer(sentence):
        found.append(Evidence("future", "strong", match.start(), match.end()))
    for match in _PAST_AUXILIARY.finditer(sentence):
        found.append(Evidence("past", "strong", match.start(), match.end()))
    for match in _IRREGULAR.finditer(sentence):
        if not _PARTICIPLE_AFTER.search(sentence[: match.start()]):
            found.append(Evidence("past", "strong", match.start(), match.end()))
    for match in _REGULAR_PAST.finditer(sentence):
        if match.group() in _NOT_PAST or _PARTICIPLE_AFTER.search(sentence[: match.start()]):
            continue
        found.append(Evidence("past", "weak", match.start(), match.end()))
    for match in (*_HEADLINE_INFINITIVE.finditer(sentence), *_LOOKING_AHEAD.finditer(sentence)):
        found.append(Evidence("future", "weak", match.start(), match.end()))
    # A marker inside a longer one ("expected" in "is expected to") is part of it.
    found.sort(key=lambda e: (e.start, -e.end))
    kept: list[Evidence] = []
    for item in found:
        if kept and item.start < kept[-1].end:
            continue
        kept.append(item)
    return kept


def _clause(sentence: str, start: int, end: int) -> tuple[int, int]:
    """Bounds of the clause holding sentence[start:end]."""
    low, high = 0, len(sentence)
    for match in _CLAUSE_BREAK.finditer(sentence):
        if match.end() <= start:
            low = match.end()
        elif match.start() >= end:
            high = match.start()
            break
    return low, high


def locate(sentence: str, expression: str) -> tuple[int, int] | None:
    """Where the expression is in the sentence (case and runs of white space ignored)."""
    words = expression.split()
    if not words:
        return None
    match = re.search(r"\s+".join(re.escape(w) for w in words), sentence, re.IGNORECASE)
    return (match.start(), match.end()) if match else None


def sentence_tense(sentence: str, expression: str) -> tuple[Tense, Strength] | None:
    """The tense governing ``expression`` in ``sentence``, and how sure that is.

    The nearest marker before the expression in its own clause wins, else the nearest after it
    in that clause ("On Tuesday, the council will vote"), strong markers before weak ones;
    failing that, the nearest before and then after it anywhere in the sentence.
    """
    where = locate(sentence, expression)
    start, end = where if where else (len(sentence), len(sentence))
    low, high = _clause(sentence, start, end)
    markers = [m for m in evidence(sentence) if not (m.start < end and m.end > start)]
    before_in = [m for m in markers if low <= m.start and m.end <= start]
    after_in = [m for m in markers if m.start >= end and m.end <= high]
    before = [m for m in markers if m.end <= start]
    after = [m for m in markers if m.start >= end]
    # The expression's own clause first (its strong markers, then its weak ones), then the rest
    # of the sentence: a weak "accused" beside the expression outranks a strong "intends to"
    # in a clause of its own.
    for scope in ((before_in, after_in), (before, after)):
        for strength in ("strong", "weak"):
            for group, nearest in zip(scope, (-1, 0), strict=True):
                ranked = [m for m in group if m.strength == strength]
                if ranked:
                    return ranked[nearest].tense, strength  # type: ignore[return-value]
    return None


def direction(sentence: str | None, expression: str, status_tense: Tense | None) -> Tense | None:
    """How the sentence's tense and the model's status label combine (README, "Dates").

    A strong marker in the sentence is the article's own words and beats the model's label; the
    label beats a weak marker, which is used only when there is no label.
    """
    found = sentence_tense(sentence, expression) if sentence else None
    if found and found[1] == "strong":
        return found[0]
    if status_tense is not None:
        return status_tense
    return found[0] if found else None
