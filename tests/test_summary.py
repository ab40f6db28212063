"""The summary's output contract: whole sentences in a neutral voice, not the prompt's lines."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from pydantic import ValidationError

from storyline.summary import SENTENCE_CHARS, SummaryOutput

GOOD = "The Kremlin confirmed the call."
RUN_ON = "Trump said " + "that the talks would go on, " * 14 + "and more."  # 412 characters


def _summary(*sentences: str) -> SummaryOutput:
    return SummaryOutput.model_validate({"sentences": list(sentences)})


def test_whole_sentences_are_kept_and_a_repeated_one_is_dropped():
    output = _summary("Trump will speak with Putin on 18 Mar 2025.", "TRUMP will speak with Putin on 18 Mar 2025!",
                      GOOD)
    assert output.text == "Trump will speak with Putin on 18 Mar 2025. The Kremlin confirmed the call."


@pytest.mark.parametrize("sentence", [
    "Mexico's threat of E coli (happened; 4 sources).",  # the prompt's line format, as a 1.5B model wrote it
    "- 18 Mar 2025: Trump speaks with Putin.",  # a list item
    "1.",  # the numbers of the prompt's lines, as SmolLM2-135M wrote them
    "since Mar 2022, 1 source: the plant has been under Russian control since March 2022.",
    "Trump speaks with Putin (sources disagree: the date).",
    RUN_ON,
    # a report's own "yesterday", copied as the 1.5B model did on H1N1 articles
    "People in Mexico City were ordered not to kiss or shake hands yesterday.",
    "Today, the WHO raised its pandemic alert.",
])
def test_a_sentence_that_echoes_the_prompt_or_runs_on_is_dropped_and_the_rest_kept(sentence):
    assert sentence != RUN_ON or len(RUN_ON) > SENTENCE_CHARS
    assert _summary(sentence, GOOD).sentences == [GOOD]
    with pytest.raises(ValidationError, match="no sentence to keep"):
        _summary(sentence)


def test_a_day_named_inside_a_quotation_is_the_speakers_and_is_kept():
    sentence = "The Kremlin said “the call will take place today”, without giving the hour."
    assert _summary(sentence, GOOD).sentences == [sentence, GOOD]


def test_an_item_too_long_for_a_sentence_is_read_as_the_sentences_it_holds():
    """The whole summary written into each item, twice (as the 1.5B model did on BP oil spill
    articles): its sentences are kept once each, a run-on one among them dropped."""
    sentences = ["BP said the bid stood a 60-70% chance of success.",
                 "The White House said Obama was deeply frustrated that the leak had not been stopped.",
                 "BP hopes to make a second attempt this week to seal the well.", RUN_ON]
    item = " ".join(sentences)
    assert len(item) > SENTENCE_CHARS
    assert _summary(item, item).sentences == sentences[:3]


@pytest.mark.parametrize("sentence", [
    "The talks broke off mid-",  # does not end like a sentence
    "Officials slammed the plan.",  # a loaded word in the summary's own voice
])
def test_a_reply_with_a_broken_or_loaded_sentence_is_refused(sentence):
    with pytest.raises(ValidationError):
        _summary(GOOD, sentence)


def test_a_loaded_word_inside_a_quotation_is_the_speaker_s():
    assert _summary('Lammy said Russia “slammed the door” on talks.').sentences


def test_the_summary_is_asked_for_a_sentence_for_each_event_it_is_shown(tmp_path):
    from conftest import SEEDS, oracle

    from storyline import summarize
    from storyline.backends.scripted import ScriptedBackend

    asked = []

    def responder(request):
        if "sentences" in request.json_schema.get("properties", {}):
            asked.append(request)
        return oracle(request)

    result = summarize([SEEDS], backend=ScriptedBackend(responder=responder), cache_dir=tmp_path)
    (request,) = asked
    shown = len(re.findall(r"^\d+\. .*\"$", request.messages[1][1], re.MULTILINE))  # a numbered report a line
    assert len(result.timeline) > 5 and shown == 5  # the five most-reported events
    assert request.json_schema["properties"]["sentences"]["minItems"] == 5
    # the lines show reports, not "Title (happened; 2 sources)" for the model to copy
    assert "happened;" not in request.messages[1][1]
    # a report is credited to its outlet (seeds/manifest.toml names one), never to an article's
    # title: "reported by Former U.S. President Donald Trump and … Putin…" led the model to Putin
    assert set(re.findall(r"reported by ([^;:]+)", request.messages[1][1])) <= {"Reuters (rewritten)"}


@pytest.mark.parametrize(("quote", "expression", "shown"), [
    # published Monday 17 Mar 2025: the dates below are counted by hand from that day
    ("Mexico City closed its schools yesterday.", "yesterday", "Mexico City closed its schools on 16 Mar 2025."),
    ("Last month, he clashed with Zelensky.", "Last month", "In Feb 2025, he clashed with Zelensky."),
    ("Trump will speak with Putin on Tuesday.", "on Tuesday", "Trump will speak with Putin on 18 Mar 2025."),
    ("Officials held talks over the weekend.", "over the weekend", "Officials held talks on 15–16 Mar 2025."),
    ("Talks were held last week in Jeddah.", "last week", "Talks were held in the week of 10 Mar 2025 in Jeddah."),
    ("Hayward apologised on the website By Wednesday he had to apologise.", "By Wednesday",
     "Hayward apologised on the website By 12 Mar 2025 he had to apologise."),
    # written as a date already, vague, or dated by another happening: as the article wrote it
    ("The plant has been held since March 2022.", "since March 2022", None),
    ("Envoy Witkoff recently met Putin.", "recently", None),
    ("Kursk was retaken after a Ukrainian incursion last August.", "after a Ukrainian incursion last August", None),
])
def test_the_summary_sees_reports_with_calendar_dates_not_days_counted_from_the_article(quote, expression, shown):
    from storyline.dates.finder import find_expressions
    from storyline.grounding import date_sentence
    from storyline.models import Mention
    from storyline.summary import on_the_calendar

    span, _ = date_sentence(quote, "happened", dt.date(2025, 3, 17), find_expressions(quote))  # as grounding dates it
    assert span.expression == expression
    mention = Mention(article="a", quote=quote, title="", date=span)
    assert on_the_calendar(mention) == (shown or quote)
    assert mention.quote == quote  # the report itself is not changed


@pytest.mark.parametrize(("raw", "kept"), [
    ('{"sentences": ["The Kremlin confirmed the call.", "Trump spoke with Putin.", "Talks went on and on',
     ["The Kremlin confirmed the call.", "Trump spoke with Putin."]),
    ('{"sentences":["The Kremlin confirmed the call."  ,  "Trump', ["The Kremlin confirmed the call."]),
    ('{"sentences": ["The talks broke off mid-"', None),  # finished, but not a sentence
    ('{"sentences": ["Talks went on and on', None),
    ('{"senten', None),
])
def test_a_cut_off_summary_keeps_the_sentences_it_had_finished(raw, kept):
    from storyline.summary import finished_sentences

    finished = finished_sentences(raw)
    assert (finished.sentences if finished else None) == kept


def test_a_summary_cut_off_by_its_token_limit_keeps_its_finished_sentences(tmp_path):
    from conftest import SEEDS, oracle

    from storyline import summarize
    from storyline.backends import Generation
    from storyline.backends.scripted import ScriptedBackend

    cut = ('{"sentences": ["Trump and Putin were expected to speak on Tuesday, sources said.", "Trump said that the '
           'talks would go on, and on, and')

    class RunsOn(ScriptedBackend):
        def generate(self, request, progress=None):
            generation = super().generate(request)
            if "sentences" not in request.json_schema.get("properties", {}):
                return generation
            return Generation(text=cut, completion_tokens=request.max_tokens, finish_reason="length")

    result = summarize([SEEDS], backend=RunsOn(responder=oracle), cache_dir=tmp_path)
    finished, *added = re.split(r"(?<=[.”]) (?=Reported \()", result.summary)
    assert finished == "Trump and Putin were expected to speak on Tuesday, sources said."
    # one sentence is too few: three events it did not tell are added in their reports' words
    assert len(added) == 3 and all(sentence.startswith("Reported (") for sentence in added)
    assert result.meta.stats.summary_added == 3
    assert any("did not fit" in w and "1 sentence" in w for w in result.meta.warnings)
    assert len(result.timeline) > 5  # the timeline is there as before


def test_the_story_s_own_events_go_before_its_background():
    """An outbreak of 1976 recalled by six articles of 2009 is background: the summary is written
    from the story's own events first, however many articles recall the old one."""
    import datetime as dt

    from storyline.models import DateSpan, Event
    from storyline.summary import select_events

    def event(title: str, start: dt.date, end: dt.date, sources: int) -> Event:
        return Event(id=title, title=title, date=DateSpan(start=start, end=end, precision="day"), status="happened",
                     sources=sources, mentions=[])

    old = event("1976 outbreak", dt.date(1976, 1, 1), dt.date(1976, 12, 31), 6)
    closures = event("Mexico City closes schools", dt.date(2009, 4, 25), dt.date(2009, 4, 25), 4)
    alert = event("WHO raises its alert", dt.date(2009, 4, 27), dt.date(2009, 4, 27), 3)
    events = [old, closures, alert]
    chosen, omitted = select_events(events, lambda selection: True, limit=2, story_start=dt.date(2009, 4, 2))
    assert chosen == [closures, alert] and omitted == 1
    # with room to spare, the background is summarized too, in timeline order
    assert select_events(events, lambda selection: True, limit=3, story_start=dt.date(2009, 4, 2))[0] == events
    # a year before the first article is still the story's time
    recent = event("Talks last May", dt.date(2008, 5, 1), dt.date(2008, 5, 1), 6)
    assert select_events([recent, alert], lambda selection: True, limit=1,
                         story_start=dt.date(2009, 4, 2))[0] == [recent]


@pytest.mark.parametrize(("sentence", "formed"), [
    ("Trump will speak with Putin by phone.", "Trump will speak with Putin by phone (18 Mar 2025; 5 sources)."),
    ("Trump said “we have a good chance.”", "Trump said “we have a good chance (18 Mar 2025; 5 sources).”"),
    # a bracket the sentence closes stays whole: the form goes after it
    ("The cut was completed at 1930 CDT (0030 GMT).",
     "The cut was completed at 1930 CDT (0030 GMT) (18 Mar 2025; 5 sources)."),
    ("On 18 Mar 2025 Trump spoke with Putin, five sources reported.", "On 18 Mar 2025 Trump spoke with Putin, five "
                                                                       "sources reported."),
])
def test_a_sentence_says_its_date_and_sources_after_what_it_says(sentence, formed):
    from storyline.summary import with_form

    assert with_form(sentence, {"date": "18 Mar 2025", "sources": 5}) == formed
