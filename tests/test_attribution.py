"""Who said what: speakers found in report sentences, and summary sentences checked against the
reports they were written from. Every case is written by hand."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from storyline.attribution import Report, refusal, speaker_of, speakers
from storyline.dates import format_span
from storyline.models import DateSpan, Precision, Stats
from storyline.summary import Standing, SummaryOutput, settled

APOLOGY = Report(quote="BP chief executive Tony Hayward apologised for the spill on Sunday, saying “I'm sorry”.",
                 speaker="Tony Hayward", source="BBC", names=["Tony Hayward", "BP"])
PLEDGE = Report(quote="President Barack Obama said on Monday the government would commit every resource to the "
                      "Gulf coast.", speaker="Barack Obama", source="BBC", names=["Barack Obama"])
CALL = Report(quote="“We will keep working for peace,” he said after the call with Vladimir Putin.", speaker=None,
              source="Reuters", names=["Vladimir Putin"])
REPORTS = [APOLOGY, PLEDGE, CALL]


@pytest.mark.parametrize(("sentence", "speaker"), [
    ("Kremlin spokesman Dmitry Peskov said on Monday that the call would take place.", "Dmitry Peskov"),
    ("“We will keep working for peace,” said Trump adviser Steve Witkoff.", "Steve Witkoff"),
    ("“We want to see if we can end it,” Trump told reporters aboard Air Force One.", "Trump"),
    ("The Kremlin denied the report.", "Kremlin"),
    ("Russian Deputy Foreign Minister Alexander Grushko, speaking in Moscow, said talks went well.",
     "Alexander Grushko"),
    ("Talks would continue, according to the State Department.", "State Department"),
    ("The talks ended on Tuesday.", None),
    ("US President Donald Trump will speak with Russian President Vladimir Putin on Tuesday.", None),
])
def test_the_speaker_a_sentence_gives_words_to(sentence, speaker):
    assert speaker_of(sentence) == speaker


def test_two_speakers_in_one_sentence_are_both_found():
    assert speakers("President Obama said BP would pay, according to the White House.") == ["Obama", "White House"]


def test_swapped_speakers_are_refused():
    swapped = "President Obama apologised for the spill on Sunday."
    assert "Tony Hayward" in (refusal(swapped, REPORTS) or "")
    assert refusal("Tony Hayward said the government would commit every resource to the Gulf coast.", REPORTS)
    assert refusal("BP's Tony Hayward apologised for the spill on Sunday.", REPORTS) is None
    assert refusal("Barack Obama pledged every resource to the Gulf coast on Monday.", REPORTS) is None


def test_an_invented_quotation_is_refused_and_a_shown_one_with_other_punctuation_kept():
    assert "quotation marks" in (refusal("Hayward said BP “deeply regrets the disaster”.", REPORTS) or "")
    assert refusal('Hayward apologised, saying "I\'m sorry."', REPORTS) is None
    assert refusal("Reuters reported: “we will keep working for peace”.", REPORTS) is None


def test_a_name_no_event_shown_gives_is_refused():
    assert "Joe Biden" in (refusal("Joe Biden said the spill was a disaster.", REPORTS) or "")


def test_words_a_report_gives_to_no_one_named_are_given_to_no_one_it_names():
    """The report says "he accused the Kremlin": the Kremlin is not the accuser."""
    assert "does not quote" in (refusal("On 15 Mar 2025, the Kremlin accused others of stalling.", DAYS) or "")
    assert refusal("On 15 Mar 2025, the Kremlin was accused of stalling.", DAYS) is None
    assert refusal("Reuters said they would keep working for peace after the call with Putin.", REPORTS) is None


def test_a_pronoun_sentence_whose_speaker_is_on_the_line_is_kept():
    assert refusal("He said they would keep working for peace after the call with Putin.", REPORTS) is None


def test_the_summary_is_refused_with_the_reasons_when_shown_its_events():
    context: dict = {"reports": REPORTS}
    with pytest.raises(ValidationError, match="sentence 2 gives Tony Hayward's words to Obama"):
        SummaryOutput.model_validate({"sentences": ["Barack Obama pledged every resource to the Gulf coast.",
                                                    "Obama apologised for the spill on Sunday."]}, context=context)
    assert [n for n, _ in context["refused"]] == [2]
    kept = SummaryOutput.model_validate({"sentences": ["Hayward apologised for the spill on Sunday."]},
                                        context={"reports": REPORTS})
    assert kept.sentences == ["Hayward apologised for the spill on Sunday."]


def test_a_summary_sentence_still_misattributed_after_one_more_ask_is_replaced_by_its_report(tmp_path):
    """The model gives Hayward's apology to Obama, and does again when told why: that sentence is
    replaced by the event's report, attributed by code to its outlet; the other sentence is kept
    with the count of sources it did not say. The counts are in the stats."""
    import datetime as dt

    from conftest import event, events, is_extraction, oracle

    from storyline import summarize
    from storyline.backends.scripted import ScriptedBackend
    from storyline.models import Article

    published = dt.date(2010, 6, 1)  # a Tuesday: "on Sunday" is 30 May, "on Monday" 31 May
    apology = Article(id="a1", source="BBC", published=published,
                      text="BP chief executive Tony Hayward apologised for the spill on Sunday.\n")
    pledge = Article(id="a2", source="Reuters", published=published,
                     text="President Barack Obama said on Monday the government would commit every resource to "
                          "the Gulf coast.\n")
    summaries = []

    def respond(request):
        if is_extraction(request):
            title = "Hayward apologises" if "Hayward" in request.messages[1][1] else "Obama pledges resources"
            return events(event(title, 1))
        if "sentences" in request.json_schema.get("properties", {}):
            summaries.append(request)
            return {"sentences": ["Obama apologised for the spill on Sunday.",
                                  "Barack Obama said on Monday the government would commit every resource to the "
                                  "Gulf coast."]}
        return oracle(request)

    result = summarize([apology, pledge], backend=ScriptedBackend(responder=respond), cache_dir=tmp_path)
    assert len(summaries) == 2  # asked once more, with the reason
    assert "gives Tony Hayward's words to Obama" in summaries[1].messages[-1][1]
    assert "speaker: Tony Hayward; reported by BBC" in summaries[0].messages[1][1]
    assert result.summary == (
        "BBC reported (30 May 2010; 1 source): “BP chief executive Tony Hayward apologised for the spill on Sunday.” "
        "Barack Obama said on Monday the government would commit every resource to the Gulf coast (1 source).")
    stats = result.meta.stats
    assert (stats.summary_refused, stats.summary_asked_again, stats.summary_replaced) == (2, 1, 1)


def _day(day: int) -> DateSpan:
    return DateSpan(start=dt.date(2025, 3, day), end=dt.date(2025, 3, day), precision=Precision.day)


STALLING = Report(quote="On Saturday, he accused the Kremlin of stalling.", names=["Kremlin"], span=_day(15))
OPTIMISM = Report(quote="U.S. officials expressed optimism on Sunday about a ceasefire.", names=["U.S."], span=_day(16))
PHONE = Report(quote="Donald Trump announced plans to speak with Vladimir Putin on Tuesday about the war, which "
                     "began in 2022.", speaker="Donald Trump", names=["Donald Trump", "Vladimir Putin"], span=_day(18))
DAYS = [STALLING, OPTIMISM, PHONE]


def test_a_sentence_under_another_events_date_is_refused():
    """The 1.5B model told the seeds' most-reported event (the Tuesday call) under the dates of
    the two events before it: each such sentence is refused, naming both dates."""
    wrong = "On March 15, 2025, Donald Trump announced plans to speak with Vladimir Putin."
    assert refusal(wrong, DAYS) == "dates it 15 Mar 2025, but the report it draws on is of 18 Mar 2025"
    assert refusal("On 18 Mar 2025, Donald Trump announced plans to speak with Vladimir Putin.", DAYS) is None
    assert refusal("Donald Trump announced plans to speak with Putin about the war, which began in 2022.", DAYS) is None
    assert refusal("On Tuesday Donald Trump announced plans to speak with Vladimir Putin.", DAYS) is None


def _view(report: Report, outlet: str | None = None) -> dict:
    return {"date": format_span(report.span), "sources": 1, "outlet": outlet, "verbatim": report.quote}


def test_sentences_under_wrong_dates_give_way_to_the_reports_of_those_dates():
    """Three sentences tell the call, two under the other events' dates: those two become the
    reports of the events of their dates, the call is told once, by the model's sentence; the
    key event leads, before a sentence about an event that is not one."""
    sentences = ["On March 15, 2025, Donald Trump announced plans to speak with Vladimir Putin.",
                 "On March 16, 2025, Donald Trump announced plans to speak with Vladimir Putin.",
                 "On March 18, 2025, Donald Trump announced plans to speak with Vladimir Putin (1 source)."]
    stats = Stats()
    kept = settled(sentences, [_view(STALLING), _view(OPTIMISM, "Reuters"), _view(PHONE)], DAYS,
                   [Standing.other, Standing.other, Standing.key], stats)
    assert kept == [sentences[2],
                    "Reported (15 Mar 2025; 1 source): “On Saturday, he accused the Kremlin of stalling.”",
                    "Reuters reported (16 Mar 2025; 1 source): “U.S. officials expressed optimism on Sunday about a "
                    "ceasefire.”"]
    assert (stats.summary_replaced, stats.summary_dropped) == (2, 0)
    stats = Stats()
    twice = settled([sentences[0], sentences[0], sentences[2]], [_view(r) for r in DAYS], DAYS,
                    [Standing.key] * 3, stats)
    assert twice == ["Reported (15 Mar 2025; 1 source): “On Saturday, he accused the Kremlin of stalling.”",
                     sentences[2],
                     # fewer than four sentences left: the untold event is told in its report's words
                     "Reported (16 Mar 2025; 1 source): “U.S. officials expressed optimism on Sunday about a "
                     "ceasefire.”"]
    assert (stats.summary_replaced, stats.summary_dropped, stats.summary_added) == (1, 1, 1)


def test_a_sentence_that_tells_several_events_is_refused():
    """The 1.5B model wrote its whole summary into each sentence, dates and all."""
    crammed = ("Kremlin accused of stalling on 15 Mar 2025, officials optimistic on 16 Mar 2025, and Donald Trump to "
               "speak with Vladimir Putin on 18 Mar 2025.")
    assert refusal(crammed, DAYS) == ("tells 3 events in one sentence (those of 15 Mar 2025, 16 Mar 2025, "
                                      "18 Mar 2025); write one sentence for each event")
