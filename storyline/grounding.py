"""Turn the model's list of headlines into mentions grounded in the article's own sentences.

The model writes only what the code cannot find itself: a short headline per happening, in the
order the chunk reports them. Everything else comes from the article:

- **Which sentence** a headline reports is found by its words (:func:`align`): the sentence of
  the chunk that holds the largest share of the headline's information, rare words weighing
  more than the story's common ones. A headline that no sentence bears out is dropped and
  counted as ungrounded. The quote is that sentence, verbatim.
- **When**: the first time expression of that sentence that resolves, found by
  ``dates.finder`` and resolved against the publication date.
- **Status**: from the date where the sentence has one (after the publication date: planned),
  else from the sentence's tense (``status_hint``).
- **Actors**: the names the sentence writes.

Small models number sentences badly (they count instead of citing) but list happenings in
order well, and their headlines share words with the sentence they report: aligning by words
puts them back on their sentences.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from . import dates
from .dates.finder import Found, about_another_happening, find_expressions
from .models import TITLE_CHARS, Article, Chunk, DateSpan, Mention, Sentence, Stats, Status
from .words import STOPWORDS, fold

if TYPE_CHECKING:
    from .extract import ExtractionOutput

MIN_COVERAGE = 0.45
"""Share of a headline's information (its words weighted by rarity in the chunk) that its
sentence must hold."""
NEAR_BEST = 0.85
"""Sentences scoring at least this share of the best are equally good; the one nearest the
headline's place in the list's order is taken."""
MAX_ACTORS = 3

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")


@functools.lru_cache(maxsize=1 << 16)  # a story's words repeat, and every quote's are folded (merge.story_topic)
def _key(word: str) -> str:
    return fold(word)


def content_keys(text: str) -> list[str]:
    """The folded content words of a text, in order."""
    return [_key(w) for w in _WORD.findall(text) if w.lower() not in STOPWORDS]


def align(headlines: Sequence[str], sentences: Sequence[str],
          hints: Sequence[int | None] | None = None) -> list[int | None]:
    """The index of the sentence each headline reports, or None where no sentence bears it out.

    A sentence's score for a headline is the weight (inverse document frequency over the
    chunk's sentences) of the headline's words it holds, over the weight of all the headline's
    words; a word no sentence holds weighs as much as the rarest. Among sentences within
    NEAR_BEST of the best score, the one the model cited (``hints``, an index or None) is taken
    if it is among them, else the first one after the previous headline's sentence (the list
    follows the article's order), else the nearest.
    """
    keyed = [set(content_keys(s)) for s in sentences]
    frequency = Counter(k for keys in keyed for k in keys)
    total = len(sentences)

    def weight(key: str) -> float:
        return math.log((total + 1) / (frequency.get(key, 0) + 0.5))

    found: list[int | None] = []
    previous = -1
    for headline in headlines:
        keys = set(content_keys(headline))
        whole = sum(weight(k) for k in keys)
        if not keys or whole <= 0:
            found.append(None)
            continue
        scores = [sum(weight(k) for k in keys & sentence) / whole for sentence in keyed]
        best = max(scores, default=0.0)
        if best < MIN_COVERAGE:
            found.append(None)
            continue
        near = [i for i, score in enumerate(scores) if score >= NEAR_BEST * best]
        hint = hints[len(found)] if hints is not None else None
        after = [i for i in near if i > previous]
        if hint in near:
            chosen = hint
        else:
            chosen = after[0] if after else min(near, key=lambda i: abs(i - previous))
        found.append(chosen)
        previous = chosen
    return found


_DANGLING = frozenset("to the a an of on with and or for in at about from by that as its his her their".split())
_WIDE = re.compile(r"[\u2e80-\U0010ffff]")

OPENING_COPY_WORDS = 3


def copies_opening(headline: str, sentence: str) -> bool:
    """Whether a headline is only its sentence's opening words ("This follows promising talks
    between US", "Russian Foreign Minister Sergei Lavrov"), as small models write when they do
    not find the happening: it names nothing a reader could not read in the quote, and it is no
    title. Folded words are compared; a headline of fewer than OPENING_COPY_WORDS words is a
    title however it is made ("Talks resume")."""
    words = [w.lower() for w in _WORD.findall(headline)]
    return len(words) >= OPENING_COPY_WORDS and [w.lower() for w in _WORD.findall(sentence)][:len(words)] == words


_WANTS_OBJECT = frozenset("""
say says said tell tells told confirm confirms confirmed claim claims claimed state states stated announce
announces announced reveal reveals revealed warn warns warned insist insists insisted include includes add
adds urge urges must will would could should can may is are was were has have had
""".split())


def unfinished(title: str, sentence: str = "") -> bool:
    """Whether a headline stops before saying what ("EU foreign policy chief says", "Russia insists
    ceasefire must include"): its last word is a verb that needs what follows it; or, given its
    sentence, it stops inside a name ("Rubio speaks with Russian" where the sentence has "Russian
    Foreign Minister Sergei Lavrov"): its last word is capitalised, and wherever the sentence
    writes it, another capitalised word follows. Like a copy of the opening words, it is no title:
    the happening stays, and the timeline names it later."""
    words = title.split()
    if len(words) < 2:
        return False
    last = words[-1].strip(".,;:!?")
    if last.lower() in _WANTS_OBJECT:
        return True
    if not last[:1].isupper():
        return False
    followers = [m.group(1) for m in re.finditer(rf"(?<![\w.]){re.escape(last)}(?:\s+(\S+)|\W*$)", sentence)]
    return bool(followers) and all(f is not None and f[:1].isupper() for f in followers)


def says_nothing_of(title: str, sentence: str) -> bool:
    """Whether a headline's words, names aside, are none of its sentence's: it names who, but
    what it says they did is not what the sentence says. On the first 60 bpoil articles the 1.5B
    model fell into a pattern, "BP fires Doug Suttles", "BP fires Governor Bobby Jindal", "BP
    fires President Obama", over sentences where each only spoke. Words are folded as
    ``content_keys`` folds them, and a folded word of four letters or more that begins another
    agrees with it ("resum" and "resume"); shorter ones must be equal ("fir", from "fires", is
    not "firm"). Such a headline does not name its event (``headlines.accepted``; the merge's
    ``titles._says_nothing`` tests an extraction headline the same way, on all at once, and
    keeps it as evidence: taken out of the merge's score, these titles cost the seeds'
    timeline a happening's date)."""
    said = {_key(w) for w in _WORD.findall(title) if not w[:1].isupper() and w.lower() not in STOPWORDS}
    if not said:
        return False
    written = set(content_keys(sentence))
    return not any(a == b or (min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a)))
                   for a in said for b in written)


def clean_title(headline: str, sentence: str, limit: int) -> str:
    """A headline as shown: one line, not cut inside a word (a headline at the length limit was
    cut by it: its last word goes), no trailing ellipsis or dangling "to"/"the", and no
    characters of a script the sentence does not use (small multilingual models drift into
    Chinese mid-headline)."""
    title = _WIDE.sub(lambda m: m.group() if m.group() in sentence else " ", headline)
    cut = len(headline) >= limit
    words = title.split()
    if cut and len(words) > 1:
        words.pop()
    while words and (words[-1].lower().strip(".,;:-–—…") in _DANGLING or not words[-1].strip(".,;:-–—…'\"")):
        words.pop()
    return " ".join(words).rstrip(" .,;:-–—…")


# --- status, time and actors --------------------------------------------------------------------

_PLAN_HEADLINE = re.compile(r"\bto (?!the\b|a\b|an\b|be\b)[a-z]+", re.IGNORECASE)
_ONGOING = re.compile(r"\b(?:continues?|continuing|remains?|still|ongoing|persists?|(?:is|are) (?!set\b|due\b|"
                      r"expected\b|going\b|scheduled\b|about\b|likely\b|planning\b|preparing\b|poised\b)\w+ing)\b",
                      re.IGNORECASE)
_DESCRIBES_THE_OBJECT = frozenset({"upcoming", "next", "would", "could"})
"""Future markers that describe what is reported on ("the upcoming call") or report speech
("said it would"), not the report itself."""
_TENSE_OF_STATUS: dict[str, dates.Tense | None] = {"happened": "past", "expected": "future", "ongoing": None}


def status_hint(sentence: str, headline: str) -> Status:
    """What the sentence's own words say of the happening, before its time expressions are read:
    the first tense marker in it decides (a sentence leads with its main clause), a marker of
    something going on ("continues", "is advancing") counting as one; with none, a headline
    written as a plan ("Trump to call Putin") makes it planned."""
    markers = [(m.start, "expected" if m.tense == "future" else "happened")
               for m in dates.tense.evidence(sentence)
               if sentence[m.start:m.end].lower() not in _DESCRIBES_THE_OBJECT]
    markers += [(m.start(), "ongoing") for m in _ONGOING.finditer(sentence)]
    if markers:
        return min(markers)[1]  # type: ignore[return-value]
    return "expected" if _PLAN_HEADLINE.search(headline) else "happened"


_QUOTATION = re.compile(r"“[^”]*(?:”|$)|\"[^\"]*(?:\"|$)")


def quotation_dated(sentence: str, found: Sequence[Found]) -> str | None:
    """The quotation holding the sentence's first time expression, if the sentence also has words
    of its own: "Witkoff told CNN: “The presidents are going to have a conversation this week.”"
    dates the conversation, so the quotation's tense, not the telling's, says whether what is
    dated is done or to come."""
    if not found:
        return None
    for quotation in _QUOTATION.finditer(sentence):
        if quotation.start() <= found[0].start < quotation.end():
            rest = sentence[:quotation.start()] + sentence[quotation.end():]
            return quotation.group() if re.search(r"[^\W\d_]{2}", rest) else None
    return None


def status_of_span(span: DateSpan, hint: Status, published: dt.date | None) -> Status:
    """A dated mention's status follows its date: after the publication date it is planned,
    before it done (or going on, if the sentence says so)."""
    if published is None or not span.is_known or span.vague:
        return hint
    if span.start is not None and span.start > published:
        return "expected"
    if span.end is not None and span.end < published:
        return "ongoing" if hint == "ongoing" else "happened"
    return hint


def date_sentence(sentence: str, status: Status, published: dt.date | None,
                  found: list[Found] | None = None) -> tuple[DateSpan, str]:
    """The date of a mention from its sentence's time expressions, and the expression shown.

    The first expression that resolves dates the mention: news puts the time of what a sentence
    reports beside its main verb, early ("Zelensky, in his address on Monday, blamed ..."), and
    later ones mostly date what it refers to ("... agreements reached in February"). One that
    dates another happening the sentence's own is placed against ("after a Ukrainian incursion
    last August") places it on that side (``about_another_happening``). It is resolved with the
    sentence's tense and the status. An expression that cannot be placed
    ("April 31", or relative with no publication date) is still shown, and the mention is placed
    before or after the publication date as its status implies; so is one with no expression.
    """
    expressions = found if found is not None else find_expressions(sentence)
    unplaced: tuple[DateSpan, str] | None = None
    for expression in expressions:
        span, shown = _read_expression(expression, sentence, status, published)
        if span.is_known:
            return span, shown
        unplaced = unplaced or (span, shown)
    if unplaced is not None:
        return place_unresolved(unplaced[0], status, published), unplaced[1]
    return place_unresolved(DateSpan(note="no time expression in the sentence"), status, published), ""


def _read_expression(expression: Found, sentence: str, status: Status,
                     published: dt.date | None) -> tuple[DateSpan, str]:
    """An expression's span and the words shown for it: placed against another happening where
    the sentence says so (``about_another_happening``), unless that would put something done
    after the article reporting it ("talks resumed following a pause on Tuesday", in Tuesday's
    paper: the plain day is nearer the truth)."""
    tense = _TENSE_OF_STATUS[status]
    relative = about_another_happening(sentence, expression)
    if relative is not None:
        span = dates.resolve(relative[0], published, sentence, status_tense=tense)
        reported_early = (status != "expected" and published is not None and span.start is not None
                          and span.start > published)
        if span.is_known and not reported_early:  # the span names the sentence's own words
            return span.model_copy(update={"expression": relative[1]}), relative[1]
    return dates.resolve(expression.text, published, sentence, status_tense=tense), expression.text


def place_unresolved(span: DateSpan, status: Status, published: dt.date | None) -> DateSpan:
    """An unplaced mention is kept on the side of the publication date its status implies;
    it never gets a made-up day, and its expression is not shown as the reason for the place."""
    if span.is_known or published is None:
        return span
    side = {"expected": {"start": published, "qualifier": "after"}}.get(
        status, {"end": published, "qualifier": "before"})
    note = f"placed by status: {span.note}" if span.note else "placed by status"
    return span.model_copy(update={**side, "vague": True, "expression": None, "note": note})


def date_mention(when: str, sentence: str, status: Status, published: dt.date | None) -> DateSpan:
    """Resolve a given time expression in its sentence (as ``date_sentence`` does for each one it
    finds) and place it by status if it resolves to nothing."""
    span = dates.resolve(when, published, sentence, status_tense=_TENSE_OF_STATUS[status])
    return place_unresolved(span, status, published)


_CAPITALISED = r"[A-Z][\w.-]*(?:[’'](?!s\b)\w+)?"
_NAME = re.compile(rf"(?<![\w’']){_CAPITALISED}(?:\s+(?:(?:of|de|al|von|van|bin|la)\s+)?{_CAPITALISED})*")
_NOT_NAMES = frozenset("""
The A An In On At By For With From As It This That These Those Their His Her They He She We I You Our
But And Or If When While After Before Since Until Meanwhile However Instead Despite Following According
Asked Speaking During Within Now Then Also Both Each Other Such Another Last Next Earlier Later Every
Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July
August September October November December
""".split())
_ROLES = frozenset("""
Former President Prime Minister Secretary Deputy Foreign Chief Spokesperson Spokesman Spokeswoman Senator
Governor Mayor General Press National Security Adviser Advisor Envoy Special Vice Chancellor King Queen
Prince Pope Acting Interior Defence Defense Health Finance Justice Home Affairs State Mr Mrs Ms Dr
French Dutch Swiss Greek Thai British English Irish Scottish Welsh Spanish Polish Danish Swedish Finnish
Turkish Kurdish Jewish Chinese Japanese Lebanese Sudanese Vietnamese Portuguese of de al von van bin la
""".split())
_GENERIC = frozenset("Department Ministry House Office Council Party Court Government Administration Forces".split())
_DEMONYM = re.compile(r"[a-z](?:ian|ean|ese|ish)$")
_CONTRACTION = re.compile(r"[’'](?:ll|re|ve|d|m)$|n[’']t$", re.IGNORECASE)


def _named_inside(word: str, text: str) -> bool:
    """Whether ``text`` writes ``word`` capitalised after a lower-case word or a comma."""
    return re.search(rf"(?:[a-z,;]\s+){re.escape(word)}\b", text) is not None


def bare_name(words: list[str]) -> str:
    """A run of capitalised words as a name: the words that start sentences go, and so do the
    roles and nationalities before a name ("Russian Deputy Foreign Minister Alexander Grushko"
    is "Alexander Grushko"), unless only a generic word would be left ("State Department")."""
    while words and words[0] in _NOT_NAMES:
        words = words[1:]
    bare = list(words)
    while bare and (bare[0] in _ROLES or _DEMONYM.search(bare[0])):
        bare = bare[1:]
    if len(bare) == 1 and bare[0] in _GENERIC:
        bare = words
    if len(bare) == 1 and words and len(words) > 1 and _DEMONYM.search(bare[0]):
        bare = []
    return " ".join(bare)


def names_in(sentence: str, article: str | None = None, limit: int = MAX_ACTORS) -> list[str]:
    """The names a sentence writes: runs of capitalised words ("Vladimir Putin", "the Kremlin",
    "U.S."), without the ordinary words that start sentences, the calendar's names, roles and
    nationality words ("Russian", "Foreign Minister") or contractions ("We’ll"); a possessive
    ends a name ("Russia’s Astrakhan region" names Russia and Astrakhan). A single word that
    starts the sentence is a name only if the ``article`` (default: the sentence) also writes it
    capitalised inside a sentence ("Trump said", not "Strikes hit")."""
    names: list[str] = []
    seen: set[str] = set()
    opening = re.match(r"[\W_]*", sentence).end()  # type: ignore[union-attr]
    for match in _NAME.finditer(sentence):
        if match.start() == opening and " " not in match.group().strip() and \
                not _named_inside(match.group().strip(".,"), article or sentence):
            continue
        # A full stop ends a name unless the word is an abbreviation ("U.S.").
        words = [w.rstrip(",") if w.count(".") > 1 else w.strip(".,") for w in match.group().split()]
        if any(_CONTRACTION.search(w) for w in words):
            continue
        name = bare_name(words)
        if len(name) < 2 or name.casefold() in seen or (" " not in name and _DEMONYM.search(name)):
            continue
        seen.add(name.casefold())
        names.append(name)
    return names[:limit]


# --- mentions -----------------------------------------------------------------------------------


_QUESTION_END = re.compile(r"\?([\"'”’)\]]*)\s*$")
_QUOTE_MARKS = "\"'“”‘’"


def asks(sentence: str) -> bool:
    """Whether a sentence is a question ("What is swine flu?", "So what are the options now for
    BP?", or one quoted whole): it reports no happening, whoever asks it. On 76 H1N1 articles the
    1.5B model made events of a newspaper's explainer questions and of its call for readers'
    stories ("If you have been to Mexico since the outbreak, what was the reaction from loved
    ones?"), repeated in six articles, which then led the summary. A sentence that reports a
    question being asked ("Waltz replied, “Are we going to drive every Russian off...?”") is a
    happening: it ends inside a quotation it does not open with."""
    end = _QUESTION_END.search(sentence)
    if end is None:
        return False
    return not any(mark in _QUOTE_MARKS for mark in end.group(1)) or sentence.lstrip()[:1] in _QUOTE_MARKS


def ground(output: ExtractionOutput, article: Article, chunk: Chunk, stats: Stats) -> list[Mention]:
    """Mentions for a chunk's reply: each headline on the sentence it reports, with its date,
    status and names read from that sentence. A headline no sentence bears out, and a second
    headline on one sentence, are dropped and counted.

    A sentence that no headline reports becomes a mention too, with no title (the timeline names
    it later), if it places something on the calendar (a time expression that is not vague), or
    if it says when only vaguely ("recently", "previously") but names who: small models skip
    many such sentences, and they are the ones that put a story's happenings on days, or tell
    of its earlier steps ("Witkoff, who recently met Putin in Moscow"). A headline that only
    copies its sentence's opening words (``copies_opening``) or stops before saying what
    (``unfinished``) is not kept as the title: the happening stays, untitled, and the timeline
    names it later. A sentence that asks a question (``asks``) is never a mention.
    """
    texts = [article.text[s.start:s.end] for s in chunk.sentences]
    titles: dict[int, str] = {}  # sentence -> its headline ("" where it only copies the opening)
    for headline, index in zip(output.headlines, align(output.headlines, texts, output.cited), strict=True):
        title = clean_title(headline, texts[index], TITLE_CHARS) if index is not None else ""
        if index is None or not title:
            stats.ungrounded_dropped += 1
        elif index in titles:
            stats.duplicates_dropped += 1
        else:
            titles[index] = "" if copies_opening(title, texts[index]) or unfinished(title, texts[index]) else title
    return mentions_of(article, chunk.sentences, titles, chunk.index, stats)


def mentions_of(article: Article, sentences: Sequence[Sentence], titles: dict[int, str], chunk: int,
                stats: Stats) -> list[Mention]:
    """The mentions among ``sentences``: those listed in ``titles`` (a headline, or "" for a
    happening listed without a usable one), and the others that place something on the calendar
    (see ``ground``). ``chunk`` is the extraction call that showed them (-1: the model did not
    read them, ``reading``)."""
    mentions = []
    for index, place in enumerate(sentences):
        sentence = article.text[place.start:place.end]
        listed, title = index in titles, titles.get(index, "")
        found = find_expressions(sentence)
        if not listed and not found:
            continue
        if asks(sentence):
            stats.questions_dropped += listed
            continue
        hint = status_hint(quotation_dated(sentence, found) or sentence, title)
        span, when = date_sentence(sentence, hint, article.published, found)
        actors = names_in(sentence, article.text)
        if not listed and not (span.expression and (actors or not span.vague)):
            continue  # see ``ground``
        stats.dated_sentences_added += 0 if listed else 1
        mentions.append(Mention(
            article=article.id, quote=sentence, title=title, when=when,
            status=status_of_span(span, hint, article.published), actors=actors, date=span,
            chunk=chunk, offset=place.start,
        ))
    return mentions
