from __future__ import annotations

import json

import pytest
from conftest import SEEDS, event, events
from pydantic import ValidationError

from storyline.backends.scripted import ScriptedBackend
from storyline.calls import structured_call
from storyline.errors import ExtractionRetryError, TruncatedOutputError
from storyline.extract import ExtractionOutput, extraction_schema, max_events
from storyline.ingest import load_articles
from storyline.models import Stats
from storyline.pipeline import Pipeline
from storyline.templating import PromptSet

# The first sentences of seeds/000 as written in the file (typed here, not read from the code).
SEED_000_FIRST = ("US President Donald Trump will speak with Russian President Vladimir Putin on Tuesday to discuss "
                  "a potential ceasefire in Ukraine, following diplomatic engagements between US and Russian "
                  "officials in Moscow.")


@pytest.fixture()
def seed_call():
    article = load_articles([SEEDS])[0]
    pipeline = Pipeline(ScriptedBackend(), use_cache=False)
    return article, pipeline.plan([article])[0]


def test_schema_forbids_sentence_numbers_outside_the_chunk_and_caps_the_events():
    events_schema = extraction_schema(10, 3)["properties"]["events"]
    assert events_schema["items"]["prefixItems"][1] == {"enum": list(range(1, 11))}
    assert events_schema["maxItems"] == 3


def test_a_chunk_may_list_one_event_for_every_eighty_tokens():
    assert [max_events(tokens) for tokens in (1, 80, 81, 600, 10_000)] == [1, 1, 2, 8, 16]


def test_the_request_caps_the_events_by_the_chunks_tokens(seed_call):
    _, call = seed_call
    expected = -(-call.chunk.token_count // 80)  # ceiling, computed here
    assert call.request.json_schema["properties"]["events"]["maxItems"] == expected


def test_reply_naming_a_sentence_outside_the_chunk_is_invalid():
    with pytest.raises(ValidationError, match="do not exist"):
        ExtractionOutput.model_validate(events(event("Call", 5)), context={"sentences": 4})


def test_the_prompt_numbers_the_chunks_sentences_and_leaves_out_section_headings(seed_call):
    _, call = seed_call
    user = call.request.messages[1][1]
    assert user.splitlines()[0] == "1 " + SEED_000_FIRST
    assert "Talks Over Land and Power Plants" not in user  # a section heading of seeds/000
    numbers = [int(line.split()[0]) for line in user.splitlines()]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) == len(call.chunk.sentences)


def test_invalid_output_is_retried_with_the_error_fed_back(seed_call):
    _, call = seed_call
    good = events(event("Call", 1))
    bad = json.dumps(events(event("Call", 1))).replace('1]', '"one"]')
    backend = ScriptedBackend([bad, good])
    stats = Stats()
    output = structured_call(backend, call.request, ExtractionOutput, stage="extract", stats=stats,
                             prompts=PromptSet(), max_retries=2,
                             context={"sentences": len(call.chunk.sentences)})
    assert output.headlines == ["Call"]
    assert stats.retries == 1 and stats.stage("extract").calls == 2
    retry = backend.requests[1].messages
    assert retry[:2] == call.request.messages
    assert retry[2] == ("assistant", bad)
    assert retry[3][0] == "user" and "did not pass validation" in retry[3][1] and "integer" in retry[3][1]


def test_retries_are_bounded_and_the_error_keeps_the_cause(seed_call):
    _, call = seed_call
    backend = ScriptedBackend(["not json"] * 3)
    with pytest.raises(ExtractionRetryError) as caught:
        structured_call(backend, call.request, ExtractionOutput, stage="extract", stats=Stats(),
                        prompts=PromptSet(), max_retries=2)
    failure = caught.value
    assert failure.attempts == 3 and failure.raw_output == "not json"
    assert "Invalid JSON" in str(failure) and "RetryError" not in str(failure)
    assert failure.last_error is not None and failure.last_error.errors()[0]["type"] == "json_invalid"
    assert len(backend.requests) == 3


def test_truncated_output_gets_one_larger_limit_then_its_own_error(seed_call):
    from storyline.backends import Generation

    _, call = seed_call

    class Cut(ScriptedBackend):
        def generate(self, request, progress=None):
            super().generate(request)
            return Generation(text='{"ev', completion_tokens=request.max_tokens, finish_reason="length")

    backend = Cut(responder=lambda request: "unused", context_window=100_000)
    stats = Stats()
    with pytest.raises(TruncatedOutputError) as caught:
        structured_call(backend, call.request, ExtractionOutput, stage="extract", stats=stats, prompts=PromptSet())
    assert [r.max_tokens for r in backend.requests] == [call.request.max_tokens, 2 * call.request.max_tokens]
    assert caught.value.max_tokens == 2 * call.request.max_tokens and caught.value.raw_output == '{"ev'
    assert stats.truncated == 2 and stats.retries == 0


def test_a_reply_stopped_in_a_loop_is_not_run_again_with_more_room(seed_call):
    from storyline.backends import Generation

    _, call = seed_call

    class Loops(ScriptedBackend):
        def generate(self, request, progress=None):
            super().generate(request)
            return Generation(text='{"sentences": ["Talks' + "os" * 40, completion_tokens=90, finish_reason="loop")

    backend = Loops(responder=lambda request: "unused", context_window=100_000)
    stats = Stats()
    with pytest.raises(TruncatedOutputError) as caught:
        structured_call(backend, call.request, ExtractionOutput, stage="extract", stats=stats, prompts=PromptSet())
    assert len(backend.requests) == 1 and stats.truncated == 1
    assert "loop" in str(caught.value) and caught.value.raw_output.endswith("osos")


@pytest.mark.parametrize(("tokens", "looping"), [
    ([7] * 68, True),                              # one token over and over
    ([1, 2, 3] + [5, 6] * 34, True),               # a unit of two
    ([9] + [1, 2, 3, 4] * 17, True),               # a unit of four, the longest looked for
    ([1, 2, 3, 4, 5] * 14, False),                 # a unit of five: a list of items, say
    ([7] * 60 + [8] + [7] * 7, False),             # broken once inside the last 64
    ([7] * 66, False),                             # too short to tell
])
def test_a_loop_is_a_short_unit_repeated_over_the_last_64_tokens(tokens, looping):
    from storyline.backends import repeating

    assert repeating(tokens) is looping


@pytest.mark.slow
def test_tiny_model_output_always_validates(llama_backend):
    """Schema-constrained decoding on the real llama.cpp path yields valid output first time."""
    articles = load_articles([SEEDS])
    pipeline = Pipeline(llama_backend, use_cache=False)
    for call in pipeline.plan(articles)[:3]:
        generation = llama_backend.generate(call.request)
        assert generation.finish_reason == "stop"
        ExtractionOutput.model_validate_json(generation.text, context={"sentences": len(call.chunk.sentences)})


def test_a_retry_that_would_overflow_the_window_is_asked_without_the_earlier_reply(seed_call):
    """The first attempt fits; its long invalid reply appended to the prompt would leave the
    reply no room, so the retry carries the feedback alone and still gets its answer."""
    _, call = seed_call
    probe = ScriptedBackend()
    prompt = probe.count_prompt_tokens(call.request.messages)
    bad = '{"events": [["' + "word " * 3000 + '", "one"]]}'  # invalid: a sentence number must be an integer
    window = prompt + call.request.max_tokens + 400  # room for the first attempt, not for the bad reply again
    assert probe.count_prompt_tokens((*call.request.messages, ("assistant", bad))) > window
    good = json.dumps(events(event("Call", 1)))
    backend = ScriptedBackend([bad, good], context_window=window)
    output = structured_call(backend, call.request, ExtractionOutput, stage="extract", stats=Stats(),
                             prompts=PromptSet(), max_retries=2, context={"sentences": len(call.chunk.sentences)})
    assert output.headlines == ["Call"]
    retry = backend.requests[1].messages
    assert retry[:2] == call.request.messages and len(retry) == 3
    assert retry[2][0] == "user" and "did not pass validation" in retry[2][1]
