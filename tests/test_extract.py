from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import SEEDS, event, events

from storyline.backends.scripted import ScriptedBackend
from storyline.calls import structured_call
from storyline.errors import ExtractionRetryError, TruncatedOutputError
from storyline.extract import ExtractionOutput, clean_actors, extraction_schema, ground
from storyline.ingest import load_articles
from storyline.models import Article, Chunk, Sentence, Stats
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


def _article(*sentences: str, published=dt.date(2025, 3, 17)) -> tuple[Article, Chunk]:
    """An article of these sentences, one per line, and the chunk holding all of them (offsets
    computed here, independently of the sentence splitter)."""
    text, spans = "", []
    for sentence in sentences:
        spans.append(Sentence(start=len(text), end=len(text) + len(sentence)))
        text += sentence + "\n"
    article = Article(id="a", text=text, published=published)
    return article, Chunk(article_id="a", index=0, sentences=spans, text=text.rstrip("\n"), token_count=10)


def test_sentence_references_become_verbatim_quotes_and_dates(seed_call):
    article, call = seed_call
    output = ExtractionOutput.model_validate(events(
        event("Trump to speak with Putin", "on Tuesday", "expected", [1], ["Trump", "Putin"])))
    stats = Stats()
    (mention,) = ground(output, article, call.chunk, stats)
    assert mention.quote == SEED_000_FIRST
    assert (mention.date.start, mention.date.end, mention.date.precision) == (dt.date(2025, 3, 18),) * 2 + ("day",)
    assert mention.when == "on Tuesday"


def test_quote_is_the_run_of_cited_sentences_holding_the_time_expression():
    article, chunk = _article("Talks opened.", "They met on Sunday.", "Aides spoke.", "Nothing else.",
                              "A vote followed.")
    output = ExtractionOutput.model_validate(events(event("Meeting", "on Sunday", "happened", [5, 2, 3])))
    (mention,) = ground(output, article, chunk, Stats())
    assert mention.quote == "They met on Sunday.\nAides spoke."  # sentence 5 is not next to them
    assert mention.date.start == dt.date(2025, 3, 16)


def test_invented_time_expression_is_not_trusted_or_shown():
    article, chunk = _article("The minister resigned after the vote.")
    output = ExtractionOutput.model_validate(events(event("Resignation", "on 12 May 1999", "happened", [1])))
    stats = Stats()
    (mention,) = ground(output, article, chunk, stats)
    assert mention.when == ""  # never shown as if the article said it
    assert mention.date.expression is None
    assert (mention.date.start, mention.date.end, mention.date.qualifier) == (None, dt.date(2025, 3, 17), "before")
    assert "12 May 1999" in mention.date.note and "not in the quoted text" in mention.date.note
    assert stats.untrusted_times == 1


def test_a_word_of_the_sentence_that_is_no_time_expression_is_not_shown_either():
    article, chunk = _article("In 2022 Russia annexed four regions, Trump said.")
    output = ExtractionOutput.model_validate(events(
        event("Annexation", "Trump", "happened", [1]), event("Annexation again", "In 2022", "happened", [1])))
    stats = Stats()
    first, second = ground(output, article, chunk, stats)
    assert first.when == "" and first.date.expression is None and stats.untrusted_times == 1
    assert second.when == "In 2022" and second.date.start == dt.date(2022, 1, 1)


def test_time_expression_must_match_whole_words():
    article, chunk = _article("The plan for 20225 units was approved.")
    output = ExtractionOutput.model_validate(events(event("Plan approved", "2022", "happened", [1])))
    (mention,) = ground(output, article, chunk, Stats())
    assert mention.when == ""


def test_the_same_event_twice_in_one_reply_is_kept_once():
    article, chunk = _article("Leaders met on Sunday.", "They agreed on a truce.")
    repeated = event("Leaders meet", "on Sunday", "happened", [1])
    output = ExtractionOutput.model_validate(events(*[repeated] * 15, event("Truce agreed", "", "happened", [2])))
    stats = Stats()
    mentions = ground(output, article, chunk, stats)
    assert [m.title for m in mentions] == ["Leaders meet", "Truce agreed"]
    assert stats.duplicates_dropped == 14


@pytest.mark.parametrize(("actors", "expected"), [
    (["Kremlin, Russia, Ukraine, Russia"], ["Kremlin", "Russia", "Ukraine"]),
    (["Russia", "russia", " Russia "], ["Russia"]),
    (["Trump and Putin to stop", "Ukraine"], ["Trump", "Ukraine"]),
    (["Bosnia and Herzegovina"], ["Bosnia and Herzegovina"]),
    (["2022", "Narnia", "Zelensky"], ["2022", "Zelensky"]),
    (["Rus"], []),  # not a whole word of the article
])
def test_actors_are_split_deduplicated_and_named_in_the_article(actors, expected):
    text = ("The Kremlin said Russia and Ukraine would talk. Trump spoke with Putin in 2022. "
            "Zelensky met leaders of Bosnia and Herzegovina.")
    assert clean_actors(actors, text) == expected


def test_schema_forbids_sentence_numbers_outside_the_chunk():
    from storyline.extract import ExtractedEvent

    properties = extraction_schema(4)["$defs"]["ExtractedEvent"]["properties"]
    assert properties[ExtractedEvent.model_fields["sentences"].alias]["items"] == {"enum": [1, 2, 3, 4]}


def test_invalid_output_is_retried_with_the_error_fed_back(seed_call):
    _, call = seed_call
    good = events(event("Call", "", "happened", [1]))
    bad = json.dumps(events(event("Call", "", "happened", [1]))).replace('"happened"', '"maybe"')
    backend = ScriptedBackend([bad, good])
    stats = Stats()
    output = structured_call(backend, call.request, ExtractionOutput, stage="extract", stats=stats,
                             prompts=PromptSet(), max_retries=2,
                             context={"sentences": len(call.chunk.sentences)})
    assert output.events[0].title == "Call"
    assert stats.retries == 1 and stats.stage("extract").calls == 2
    retry = backend.requests[1].messages
    assert retry[:2] == call.request.messages
    assert retry[2] == ("assistant", bad)
    assert retry[3][0] == "user" and "did not pass validation" in retry[3][1] and "maybe" not in retry[3][1]
    assert "happened" in retry[3][1]  # the error names what is allowed


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


def test_tiny_model_output_always_validates(llama_backend):
    """Schema-constrained decoding on the real llama.cpp path yields valid output first time."""
    articles = load_articles([SEEDS])
    pipeline = Pipeline(llama_backend, use_cache=False)
    for call in pipeline.plan(articles)[:3]:
        generation = llama_backend.generate(call.request)
        assert generation.finish_reason == "stop"
        ExtractionOutput.model_validate_json(generation.text, context={"sentences": len(call.chunk.sentences)})
