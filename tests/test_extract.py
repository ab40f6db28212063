from __future__ import annotations

import json

import pytest
from conftest import SEEDS

from storyline.backends.scripted import ScriptedBackend
from storyline.calls import structured_call
from storyline.errors import ExtractionRetryError
from storyline.extract import ExtractionOutput, ground
from storyline.ingest import load_articles
from storyline.models import Stats
from storyline.pipeline import Pipeline
from storyline.templating import PromptSet


@pytest.fixture()
def seed_call():
    article = load_articles([SEEDS])[0]
    pipeline = Pipeline(ScriptedBackend(), use_cache=False)
    return article, pipeline.plan([article])[0]


def test_sentence_references_become_verbatim_quotes_and_dates(seed_call):
    article, call = seed_call
    output = ExtractionOutput.model_validate({"e": [
        {"t": "Trump to speak with Putin", "w": "on Tuesday", "st": "expected", "s": [1], "a": ["Trump", "Putin"]},
    ]})
    stats = Stats()
    (mention,) = ground(output, article, call.chunk, stats)
    assert mention.quote in article.text
    assert mention.quote.startswith("US President Donald Trump will speak")
    assert str(mention.date.start) == "2025-03-18" and mention.date.precision == "day"
    assert stats.ungrounded_dropped == 0


def test_references_outside_the_chunk_are_dropped_and_counted(seed_call):
    article, call = seed_call
    output = ExtractionOutput.model_validate({"e": [
        {"t": "Ghost event", "w": "", "st": "happened", "s": [999], "a": []},
        {"t": "Real event", "w": "", "st": "happened", "s": [2], "a": []},
    ]})
    stats = Stats()
    mentions = ground(output, article, call.chunk, stats)
    assert [m.title for m in mentions] == ["Real event"]
    assert stats.ungrounded_dropped == 1


def test_invented_time_expression_is_not_trusted(seed_call):
    article, call = seed_call
    output = ExtractionOutput.model_validate({"e": [
        {"t": "Call", "w": "on 12 May 1999", "st": "happened", "s": [1], "a": []}]})
    (mention,) = ground(output, article, call.chunk, Stats())
    assert mention.when == "on 12 May 1999"
    assert mention.date.start is None and mention.date.precision == "unknown"
    assert "not found" in mention.date.note


def test_schema_forbids_sentence_numbers_outside_the_chunk(seed_call):
    _, call = seed_call
    schema = call.request.json_schema
    items = schema["$defs"]["ExtractedEvent"]["properties"]["s"]["items"]
    assert items == {"enum": list(range(1, len(call.chunk.sentences) + 1))}


def test_invalid_output_is_retried_with_the_error_fed_back(seed_call):
    _, call = seed_call
    good = {"e": [{"t": "Call", "w": "", "st": "happened", "s": [1], "a": []}]}
    backend = ScriptedBackend(['{"e": [{"t": "", "w": "", "st": "maybe", "s": [1], "a": []}]}', good])
    stats = Stats()
    output = structured_call(backend, call.request, ExtractionOutput, stage="extract", stats=stats,
                             prompts=PromptSet(), max_retries=2,
                             context={"sentences": len(call.chunk.sentences)})
    assert output.e[0].t == "Call"
    assert stats.retries == 1 and stats.stage("extract").calls == 2
    retry = backend.requests[1].messages
    assert retry[:2] == call.request.messages
    assert retry[2][0] == "assistant" and retry[3][0] == "user"
    assert "did not pass validation" in retry[3][1] and "st" in retry[3][1]


def test_retries_are_bounded_and_the_error_carries_raw_output(seed_call):
    _, call = seed_call
    backend = ScriptedBackend(["not json"] * 3)
    with pytest.raises(ExtractionRetryError) as caught:
        structured_call(backend, call.request, ExtractionOutput, stage="extract", stats=Stats(),
                        prompts=PromptSet(), max_retries=2)
    assert caught.value.attempts == 3 and caught.value.raw_output == "not json"
    assert len(backend.requests) == 3


def test_tiny_model_output_always_validates(llama_backend):
    """Schema-constrained decoding on the real llama.cpp path yields valid output first time."""
    articles = load_articles([SEEDS])
    pipeline = Pipeline(llama_backend, use_cache=False)
    for call in pipeline.plan(articles)[:3]:
        generation = llama_backend.generate(call.request)
        assert generation.finish_reason == "stop"
        ExtractionOutput.model_validate_json(generation.text, context={"sentences": len(call.chunk.sentences)})
        json.loads(generation.text)


def test_prefix_state_carries_the_instructions_across_runs(tiny_gguf, tmp_path):
    """A later run loads the saved state of the instruction prefix instead of evaluating it."""
    from storyline.backends.llama import LlamaCppBackend

    article = load_articles([SEEDS])[0]
    first = LlamaCppBackend(tiny_gguf, prefix_state_dir=tmp_path)
    call = Pipeline(first, use_cache=False).plan([article])[0]
    cold = first.generate(call.request)
    assert list(tmp_path.glob("*.state"))
    later = LlamaCppBackend(tiny_gguf, prefix_state_dir=tmp_path)  # as a new process would
    warm = later.generate(call.request)
    prefix = later._prefix_tokens(call.request, later._tokens(later._format(call.request.messages)))
    assert cold.prompt_tokens_evaluated == cold.prompt_tokens
    assert warm.prompt_tokens_evaluated <= cold.prompt_tokens - len(prefix) + 1
    assert warm.text == cold.text  # same output from the restored state


def test_quote_is_the_run_of_cited_sentences_holding_the_time_expression(seed_call):
    article, call = seed_call
    texts = [article.text[s.start : s.end] for s in call.chunk.sentences]
    tuesday = next(n for n, t in enumerate(texts, 1) if "on Tuesday" in t)
    output = ExtractionOutput.model_validate({"e": [
        {"t": "Call", "w": "on Tuesday", "st": "expected", "s": [tuesday + 3, tuesday, tuesday + 1], "a": []}]})
    (mention,) = ground(output, article, call.chunk, Stats())
    assert mention.quote == article.text[call.chunk.sentences[tuesday - 1].start : call.chunk.sentences[tuesday].end]
    assert texts[tuesday + 1] not in mention.quote  # the uncited sentence between is left out
    assert str(mention.date.start) == "2025-03-18"
