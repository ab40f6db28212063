from __future__ import annotations

from conftest import SEEDS

from storyline.chunk import chunk_article, split_sentences
from storyline.ingest import load_articles
from storyline.models import Article
from storyline.pipeline import Pipeline
from storyline.tokens import TiktokenTokenizer


def test_sentences_split_lines_and_keep_abbreviations():
    text = "Headline Without Stop\nU.S. Secretary of State Marco Rubio spoke. Feb. 28 was a Friday.\n\nLast one."
    sentences = [text[s.start : s.end] for s in split_sentences(text)]
    assert sentences == ["Headline Without Stop", "U.S. Secretary of State Marco Rubio spoke.",
                         "Feb. 28 was a Friday.", "Last one."]


def test_chunks_respect_budget_and_cover_every_sentence():
    article = load_articles([SEEDS])[4]
    tokenizer = TiktokenTokenizer()
    chunks = chunk_article(article, tokenizer, 120, per_sentence_overhead=4)
    assert len(chunks) > 3
    assert all(c.token_count <= 120 for c in chunks)
    covered = [s for c in chunks for s in c.sentences]
    assert covered == split_sentences(article.text)
    for chunk in chunks:
        assert chunk.text == article.text[chunk.start : chunk.end]


def test_sentence_longer_than_budget_is_cut_at_word_breaks():
    words = " ".join(f"word{i}" for i in range(400))
    article = Article(id="long", text=words + ".")
    chunks = chunk_article(article, TiktokenTokenizer(), 50)
    assert len(chunks) > 5
    assert all(c.token_count <= 50 for c in chunks)
    assert " ".join(c.text for c in chunks) == article.text


def test_long_article_every_call_fits_the_real_context_window(llama_backend, tmp_path):
    """A chunk plus its prompt and its output budget always fit the model's context window —
    checked with the real model's tokenizer and the prompt llama.cpp actually evaluates."""
    seeds = load_articles([SEEDS])
    long_text = "\n".join(a.text for a in seeds for _ in range(6))
    article = Article(id="long", text=long_text)
    pipeline = Pipeline(llama_backend, use_cache=False, max_chunk_tokens=100_000)
    planned = pipeline.plan([article])
    window = llama_backend.context_window
    assert len(planned) > 3
    for call in planned:
        assert call.prompt_tokens + call.request.max_tokens <= window
    first = llama_backend.generate(planned[0].request)
    assert first.prompt_tokens == planned[0].prompt_tokens  # the plan counted what llama.cpp saw
    sentences = [s for call in planned for s in call.chunk.sentences]
    assert sentences == split_sentences(long_text)
