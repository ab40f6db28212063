"""Split articles into sentence-aligned chunks that fit a token budget."""

from __future__ import annotations

import re
from collections.abc import Callable

from .models import Article, Chunk, Sentence
from .tokens import Tokenizer

_LINE = re.compile(r"[^\n]+")
# A sentence can only end inside a line at a stop followed by a space; lines without one are
# a single sentence and need no segmenter.
_INNER_STOP = re.compile(r"[.!?…][\"'”’)\]]*\s+\S")
_WORD_BREAK = re.compile(r"\s+")


def split_sentences(text: str) -> list[Sentence]:
    """Sentences as character spans, stripped of surrounding white space.

    Lines are split first: in news text a line break always ends a sentence (headlines and
    crossheads carry no full stop), which sentencex alone would run into the next line.
    """
    from sentencex import segment

    sentences: list[Sentence] = []
    for line in _LINE.finditer(text):
        cursor = line.start()
        content = line.group()
        for piece in segment("en", content) if _INNER_STOP.search(content) else (content,):
            at = cursor if text.startswith(piece, cursor) else text.find(piece, cursor)
            if at < 0:  # the segmenter normalised something: fall back to the whole line
                at, piece = line.start(), line.group()
            cursor = at + len(piece)
            body = piece.strip()
            if body:
                start = at + len(piece) - len(piece.lstrip())
                sentences.append(Sentence(start=start, end=start + len(body)))
    return sentences


def _split_long(text: str, sentence: Sentence, limit: int, count: Callable[[str], int]) -> list[Sentence]:
    """Cut a sentence longer than the budget at word breaks into pieces that fit."""
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
    # A single word longer than the budget is left whole; the caller's exact check catches it.
    return [Sentence(start=p.start, end=p.start + len(text[p.start:p.end].rstrip())) for p in pieces]


def chunk_articles(
    articles: list[Article],
    tokenizer: Tokenizer,
    max_tokens: int,
    *,
    per_sentence_overhead: int = 0,
) -> list[list[Chunk]]:
    """The chunks of each article: whole sentences packed greedily into chunks of at most
    ``max_tokens`` tokens (``per_sentence_overhead`` is what the prompt adds around each
    sentence). Sentences longer than the budget are cut at word breaks. The sentences of all
    articles are counted in one batch, which is much faster than one call per article."""
    split = [split_sentences(article.text) for article in articles]
    counts = tokenizer.count_many([a.text[s.start : s.end] for a, sentences in zip(articles, split, strict=True)
                                   for s in sentences])
    chunks, cursor = [], 0
    for article, sentences in zip(articles, split, strict=True):
        own = counts[cursor : cursor + len(sentences)]
        cursor += len(sentences)
        chunks.append(_pack(article, sentences, own, tokenizer, max_tokens, per_sentence_overhead))
    return chunks


def chunk_article(article: Article, tokenizer: Tokenizer, max_tokens: int, *,
                  per_sentence_overhead: int = 0) -> list[Chunk]:
    """The chunks of one article (see :func:`chunk_articles`)."""
    return chunk_articles([article], tokenizer, max_tokens, per_sentence_overhead=per_sentence_overhead)[0]


def _pack(article: Article, sentences: list[Sentence], counts: list[int], tokenizer: Tokenizer,
          max_tokens: int, per_sentence_overhead: int) -> list[Chunk]:
    text = article.text
    items: list[tuple[Sentence, int]] = []
    for sentence, tokens in zip(sentences, counts, strict=True):
        if tokens + per_sentence_overhead > max_tokens:
            budget = max_tokens - per_sentence_overhead

            def count(piece: str) -> int:
                return tokenizer.count_many([piece])[0]

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
                text=text[current[0].start : current[-1].end],
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


def split_chunk(chunk: Chunk, text: str, tokenizer: Tokenizer, per_sentence_overhead: int = 0) -> list[Chunk]:
    """Halve a chunk by sentences (used when its exact prompt turns out too long)."""
    if len(chunk.sentences) < 2:
        return [chunk]
    middle = len(chunk.sentences) // 2
    halves = []
    for part in (chunk.sentences[:middle], chunk.sentences[middle:]):
        body = text[part[0].start : part[-1].end]
        tokens = tokenizer.count_many([body])[0] + per_sentence_overhead * len(part)
        halves.append(Chunk(article_id=chunk.article_id, index=0, sentences=part, text=body, token_count=tokens))
    return halves
