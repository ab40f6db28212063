"""Split articles into sentence-aligned chunks that fit a token budget."""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable

from .models import Article, Chunk, Sentence
from .tokens import Tokenizer

log = logging.getLogger(__name__)

_LINE = re.compile(r"[^\n]+")
# A sentence can only end inside a line at a stop followed by a space; lines without one are
# a single sentence and need no segmenter.
_INNER_STOP = re.compile(r"[.!?…][\"'”’)\]]*\s+\S")
_WORD_BREAK = re.compile(r"\s+")
_UNICODE_SPACE = re.compile(r"[^\S\n]")
LONG_RUN = 500
"""Characters without white space beyond which a stretch is not prose (encoded data, a data URI)
and is left out of the chunks, with a warning."""
_LONG_RUN = re.compile(rf"\S{{{LONG_RUN},}}")


def _segment(line: str) -> list[str]:
    """sentencex's sentences of one line, or a plain split at stops if it fails.

    The line is given to sentencex with every kind of white space as a plain space (the same
    length, so offsets still match): sentencex panics on some non-ASCII spaces before a stop.
    A panic is a pyo3 ``PanicException``, a ``BaseException``, so it is caught as one here.
    """
    from sentencex import segment

    plain = _UNICODE_SPACE.sub(" ", line)
    try:
        return list(segment("en", plain))
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as error:
        log.warning("the sentence splitter failed on a line (%s); splitting it at full stops instead", error)
        return [plain[m.start():m.end()] for m in re.finditer(r".+?(?:[.!?…][\"'”’)\]]*(?=\s)|$)", plain)]


_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_PAGE_STAMP = re.compile(
    rf"(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,? )?\d{{1,2}} {_MONTH},? \d{{4}},? (?:Last updated at )?"
    r"\d{1,2}[.:]\d{2}(?: ?[AaPp]\.?[Mm]\.?)? (?:BST|GMT|UTC|CES?T|E[DS]T|P[DS]T|ET|PT)\b(?: Help\b)?"
)
"""A web page's time stamp ("Tuesday 12 May 2009 16.36 BST", "26 August 2010 Last updated at
14:30 GMT Help"): page furniture between the headline and the first sentence, which a copied
page runs together on one line. 347 lines of Timeline17 hold one (the Guardian's and the BBC's
pages); read as one sentence, headline, stamp and opening sentence became one quote of 60 words."""


def _between_stamps(start: int, end: int, text: str) -> list[tuple[int, int]]:
    """The stretches of text[start:end] around its page time stamps (``_PAGE_STAMP``)."""
    parts, cursor = [], start
    for stamp in _PAGE_STAMP.finditer(text, start, end):
        parts.append((cursor, stamp.start()))
        cursor = stamp.end()
    parts.append((cursor, end))
    return parts


def split_sentences(text: str, skipped: list[tuple[int, int]] | None = None) -> list[Sentence]:
    """Sentences as character spans, stripped of surrounding white space.

    Lines are split first: in news text a line break always ends a sentence (headlines and
    crossheads carry no full stop), which sentencex alone would run into the next line; so does a
    page's time stamp, which is left out (``_PAGE_STAMP``). Runs of more than ``LONG_RUN``
    characters without white space are left out (and listed in ``skipped`` as (start, end)
    offsets): they are data, not sentences.
    """
    sentences: list[Sentence] = []
    for line in _LINE.finditer(text):
        for part_start, part_end in _between_stamps(line.start(), line.end(), text):
            sentences.extend(_sentences_of(text, part_start, part_end, skipped))
    return _join_introduced_quotations(text, sentences)


def _sentences_of(text: str, line_start: int, line_end: int, skipped: list[tuple[int, int]] | None) -> list[Sentence]:
    """The sentences of text[line_start:line_end], a stretch that no line break or stamp cuts."""
    content = text[line_start:line_end]
    pieces = _segment(content) if _INNER_STOP.search(content) else [content]
    sentences: list[Sentence] = []
    cursor = 0
    for piece in pieces:
        at = content.find(piece, cursor) if piece else -1
        if at < 0:  # the segmenter normalised something: fall back to the rest of the line
            at, piece = cursor, content[cursor:]
        cursor = at + len(piece)
        for start, end in _without_long_runs(line_start + at, line_start + cursor, text, skipped):
            body = text[start:end]
            stripped = body.strip()
            if stripped:
                first = start + len(body) - len(body.lstrip())
                sentences.append(Sentence(start=first, end=first + len(stripped)))
        if cursor >= len(content):
            break
    return sentences


_OPENING_QUOTE = "\"“‘'«„"


def _join_introduced_quotations(text: str, sentences: list[Sentence]) -> list[Sentence]:
    """A line that ends with a colon and the quotation opening the next line are one sentence
    ("Trump stated:" / "“I think we’ll be talking about land…”"): the line says who speaks and
    the quotation what was said, and neither reports the happening alone. The joined sentence
    holds the line break; only the quotation's first sentence joins."""
    joined: list[Sentence] = []
    for sentence in sentences:
        if joined and text[joined[-1].end - 1] == ":" and text[sentence.start] in _OPENING_QUOTE:
            between = text[joined[-1].end:sentence.start]
            if between.count("\n") == 1 and not between.strip():
                joined[-1] = Sentence(start=joined[-1].start, end=sentence.end)
                continue
        joined.append(sentence)
    return joined


HEADING_WORDS = 12
_SENTENCE_END = re.compile(r"[.!;,:\"'”’)\]…]$")
_LONG_WORD = re.compile(r"[^\W\d_][\w’'-]{3,}")


def is_heading(line: str) -> bool:
    """Whether a line is a section heading ("Talks Over Land and Power Plants", "## Reactions"):
    a Markdown heading, or a short line that does not end like a sentence and capitalises most of
    its longer words. A question in title case ("Will a Ceasefire Materialize?") is one too."""
    line = line.strip()
    if line.startswith("#"):
        return True
    words = line.split()
    if not words or len(words) > HEADING_WORDS or _SENTENCE_END.search(line):
        return False
    longer = _LONG_WORD.findall(line)
    return bool(longer) and sum(w[0].isupper() for w in longer) >= 0.7 * len(longer)


def section_headings(text: str, sentences: list[Sentence]) -> set[int]:
    """The sentences that are section headings: whole lines that read as one (``is_heading``),
    except the article's first line, which is its headline and reports its main news."""
    found = set()
    for index, sentence in enumerate(sentences[1:], start=1):
        before = text[:sentence.start].rstrip(" \t")
        whole_line = (not before or before.endswith("\n")) and text[sentence.end:].lstrip(" \t")[:1] in ("\n", "")
        if whole_line and is_heading(text[sentence.start:sentence.end]):
            found.add(index)
    return found


# Reader comments under an article are readers' opinions, not reports, and their time stamps
# are no dates of the story: the page's comment section is left out. It starts at the first line
# that holds a commenter's byline, in one of the forms below (spaces allowed before punctuation,
# as some corpora tokenize it). "Posted by ... at 10:48 AM" is not one: blogs sign their own posts
# so. Hand-written: no library recognises comment sections in plain text, and the forms are few.
_CLOCK = r"\d{1,2}[:.]\d{2}\s*(?:[aApP]\.?\s?[mM]\.?)?"
_FULL_DATE = r"(?:\d{1,2}\s+[A-Za-z]{3,9}\.?,?\s+\d{4}|[A-Za-z]{3,9}\.?\s+\d{1,2}\s*,?\s+\d{4})"
COMMENT_BYLINES = (
    # BBC: "At 10:14 am on 28 May 2010, pzero wrote:" opens a line (a full date: a report's "At
    # 8:02 am on Tuesday, Trump wrote:" is not a comment's time stamp)
    re.compile(rf"^At\s+{_CLOCK}\s+on\s+{_FULL_DATE}\s*,\s*[^\n:]{{1,60}}?\s+wrote\s*:"),
    # Washington Post: "Posted by : eye95 | July 19 , 2010 9:25 AM | Report abuse", after the
    # comment it signs, anywhere in a line
    re.compile(rf"Posted by\s*:\s*[^\n|]{{1,60}}\|\s*{_FULL_DATE}\s+{_CLOCK}\s*\|\s*Report abuse"),
    # Guardian blogs: "Posted by Ian MacDougall on April 3 , 2005 12:14 AM ." closing a comment
    re.compile(rf"^Posted by\s+[^\n]{{1,60}}?\s+on\s+{_FULL_DATE}\s+{_CLOCK}\s*\.?\s*$"),
)
MIN_COMMENT_BYLINES = 2
"""A comment section has several comments: one byline alone ("At 8:02 am on Tuesday, Trump
wrote: ...", a blog post's own "Posted by ... on ...") may be a report quoting a post or the
post's signature, and is read."""


def comment_section(text: str) -> int | None:
    """Where the reader comments begin (a character offset), if the text has a comment section:
    at least ``MIN_COMMENT_BYLINES`` commenters' bylines (``COMMENT_BYLINES``). Everything from
    the line of the first of them on is comments (a page's comments come after its article)."""
    starts = [line.start() for line in _LINE.finditer(text)
              for byline in COMMENT_BYLINES for _ in byline.finditer(line.group().strip())]
    return min(starts) if len(starts) >= MIN_COMMENT_BYLINES else None


def _without_long_runs(start: int, end: int, text: str, skipped: list[tuple[int, int]] | None):
    """The parts of text[start:end] outside runs of ``LONG_RUN`` non-space characters."""
    cursor = start
    for run in _LONG_RUN.finditer(text, start, end):
        if skipped is not None:
            skipped.append((run.start(), run.end()))
        yield cursor, run.start()
        cursor = run.end()
    yield cursor, end


def _split_long(text: str, sentence: Sentence, limit: int, count: Callable[[str], int]) -> list[Sentence]:
    """Cut a sentence longer than the budget at word breaks into pieces that fit; a single word
    longer than the budget is cut between characters."""
    pieces: list[Sentence] = []
    start = sentence.start
    words = [m.end() for m in _WORD_BREAK.finditer(text, sentence.start, sentence.end)] + [sentence.end]
    last_fit = start
    for boundary in words:
        if count(text[start:boundary].strip()) > limit and last_fit > start:
            pieces.append(Sentence(start=start, end=last_fit))
            start = last_fit
        last_fit = boundary
    pieces.append(Sentence(start=start, end=sentence.end))
    fitted: list[Sentence] = []
    for piece in pieces:
        fitted += _cut_characters(text, piece, limit, count)
    return [Sentence(start=p.start, end=p.start + len(text[p.start:p.end].rstrip())) for p in fitted
            if text[p.start:p.end].strip()]


def _cut_characters(text: str, piece: Sentence, limit: int, count: Callable[[str], int]) -> list[Sentence]:
    """A piece still over the budget (one long word) in runs of characters that fit."""
    if count(text[piece.start:piece.end].strip()) <= limit:
        return [piece]
    cut: list[Sentence] = []
    start = piece.start
    while start < piece.end:
        width = min(piece.end - start, max(limit, 1))
        while width > 1 and count(text[start:start + width]) > limit:
            width //= 2
        cut.append(Sentence(start=start, end=start + width))
        start += width
    return cut


def readable_sentences(articles: list[Article], problems: list[str] | None = None) -> list[list[Sentence]]:
    """Each article's sentences that can report something: section headings are left out (they
    report nothing and would be read as sentences, ``section_headings``), and so is a page's
    comment section (``comment_section``) and any stretch without spaces (encoded data); what is
    left out is reported in ``problems``."""
    found = []
    for article in articles:
        skipped: list[tuple[int, int]] = []
        sentences = split_sentences(article.text, skipped)
        headings = section_headings(article.text, sentences)
        comments = comment_section(article.text)
        kept = [s for i, s in enumerate(sentences) if i not in headings]
        if comments is not None:
            if problems is not None:
                problems.append(f"{article.path or article.id}: left out its reader comments (from \""
                                f"{_opening(article.text, comments)}\" on): they are readers' views, not "
                                "reports, and their time stamps are not dates of the story.")
            kept = [s for s in kept if s.start < comments]
        found.append(kept)
        if skipped and problems is not None:
            characters = sum(end - start for start, end in skipped)
            problems.append(f"{article.path or article.id}: left out {len(skipped)} stretch(es) of text without "
                            f"spaces ({characters} characters, such as encoded images or data); the rest is read.")
    return found


def chunk_articles(
    articles: list[Article],
    tokenizer: Tokenizer,
    max_tokens: int,
    *,
    per_sentence_overhead: int = 0,
    problems: list[str] | None = None,
) -> list[list[Chunk]]:
    """The chunks of each article: its readable sentences (``readable_sentences``) packed
    greedily into chunks of at most ``max_tokens`` tokens (``pack``)."""
    return pack_articles(articles, readable_sentences(articles, problems), tokenizer, max_tokens,
                         per_sentence_overhead=per_sentence_overhead)


def pack_articles(articles: list[Article], sentences: list[list[Sentence]], tokenizer: Tokenizer, max_tokens: int,
                  *, per_sentence_overhead: int = 0) -> list[list[Chunk]]:
    """Each article's ``sentences`` (all of them, or those chosen to be read) packed into chunks;
    the sentences of all articles are counted in one batch, which is much faster than one call
    per article."""
    counts = tokenizer.count_many([a.text[s.start : s.end] for a, own in zip(articles, sentences, strict=True)
                                   for s in own])
    chunks, cursor = [], 0
    for article, own in zip(articles, sentences, strict=True):
        chunks.append(pack(article, own, counts[cursor : cursor + len(own)], tokenizer, max_tokens,
                           per_sentence_overhead))
        cursor += len(own)
    return chunks


def _opening(text: str, at: int, width: int = 60) -> str:
    """The start of the line at ``at``, cut at a word break within ``width`` characters."""
    line = text[at:].split("\n", 1)[0].strip()
    return line if len(line) <= width else line[:width].rsplit(" ", 1)[0] + "…"


def chunk_article(article: Article, tokenizer: Tokenizer, max_tokens: int, *,
                  per_sentence_overhead: int = 0) -> list[Chunk]:
    """The chunks of one article (see :func:`chunk_articles`)."""
    return chunk_articles([article], tokenizer, max_tokens, per_sentence_overhead=per_sentence_overhead)[0]


def pack(article: Article, sentences: list[Sentence], counts: list[int], tokenizer: Tokenizer,
         max_tokens: int, per_sentence_overhead: int = 0) -> list[Chunk]:
    """Whole sentences (with their token ``counts``) packed greedily into chunks of at most
    ``max_tokens`` tokens (``per_sentence_overhead`` is what the prompt adds around each sentence);
    a sentence longer than the budget is cut at word breaks."""
    text = article.text
    items: list[tuple[Sentence, int]] = []

    def count(piece: str) -> int:
        return tokenizer.count_many([piece])[0]

    for sentence, tokens in zip(sentences, counts, strict=True):
        if tokens + per_sentence_overhead > max_tokens:
            budget = max(max_tokens - per_sentence_overhead, 1)
            for piece in _split_long(text, sentence, budget, count):
                items.append((piece, count(text[piece.start : piece.end])))
        else:
            items.append((sentence, tokens))

    chunks: list[Chunk] = []
    current: list[Sentence] = []
    used = 0

    def close() -> None:
        if current:
            chunks.append(Chunk(
                article_id=article.id,
                index=len(chunks),
                sentences=list(current),
                text=chunk_text(text, current),
                token_count=used,
            ))

    for sentence, tokens in items:
        cost = tokens + per_sentence_overhead
        if current and used + cost > max_tokens:
            close()
            current, used = [], 0
        current.append(sentence)
        used += cost
    close()
    return chunks


def chunk_text(text: str, sentences: list[Sentence]) -> str:
    """The text of a chunk's sentences: as the article writes them where they follow each other,
    one line each where sentences the model does not read lie between them."""
    parts = [text[sentences[0].start:sentences[0].end]]
    for before, sentence in itertools.pairwise(sentences):
        between = text[before.end:sentence.start]
        parts.append((between if not between.strip() else "\n") + text[sentence.start:sentence.end])
    return "".join(parts)


def split_chunk(chunk: Chunk, text: str, tokenizer: Tokenizer, per_sentence_overhead: int = 0) -> list[Chunk]:
    """Halve a chunk by sentences (when its exact prompt turns out too long, or its reply did
    not fit the output budget)."""
    if len(chunk.sentences) < 2:
        return [chunk]
    middle = len(chunk.sentences) // 2
    halves = []
    for part in (chunk.sentences[:middle], chunk.sentences[middle:]):
        tokens = sum(tokenizer.count_many([text[s.start:s.end] for s in part])) + per_sentence_overhead * len(part)
        halves.append(Chunk(article_id=chunk.article_id, index=0, sentences=part, text=chunk_text(text, part),
                            token_count=tokens))
    return halves
