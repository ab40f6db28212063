"""Timeline measures on small cases computed by hand (see the docstring of each)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess

import pytest

from storyline.evaluate import (
    agreement_rouge,
    alignment_rouge,
    concat_rouge,
    date_f1,
    evaluate,
    limit_to,
    mean_f1,
    read_timelines,
)

D = dt.date
GOLD = {D(2010, 6, 15): ["Obama vows to make BP pay"], D(2010, 6, 20): ["BP agrees to a fund"],
        D(2010, 6, 25): ["Hayward testifies before Congress"]}


def shifted(timeline, days):
    return {day + dt.timedelta(days=days): texts for day, texts in timeline.items()}


def test_a_gold_timeline_against_itself_scores_one():
    for score in evaluate(GOLD, [GOLD])[0].values():
        assert score.precision == pytest.approx(1.0) and score.recall == pytest.approx(1.0)


def test_every_date_a_day_late():
    """No date right, so date F1 and agreement are 0; every text is still there (concat 1), and
    each day aligns with the gold day one day off: shared n-grams weigh 1 / (1 + 1) = 0.5."""
    late = shifted(GOLD, 1)
    assert date_f1(late, GOLD).f1 == 0.0
    assert agreement_rouge(late, GOLD, 1).f1 == 0.0
    assert concat_rouge(late, GOLD, 1).f1 == pytest.approx(1.0)
    assert alignment_rouge(late, GOLD, 1).f1 == pytest.approx(0.5)
    assert alignment_rouge(late, GOLD, 2).f1 == pytest.approx(0.5)


def test_date_f1_by_hand():
    """Two predicted days, one right: precision 1/2; recall 1/3; F1 = 2·(1/2·1/3)/(1/2+1/3) = 0.4."""
    predicted = {D(2010, 6, 15): ["x"], D(2010, 7, 1): ["y"]}
    score = date_f1(predicted, GOLD)
    assert (score.precision, score.recall) == (0.5, pytest.approx(1 / 3))
    assert score.f1 == pytest.approx(0.4)


def test_agreement_and_alignment_by_hand():
    """Gold unigrams: 6 + 5 + 4 = 15 (stemmed: "obama vow to make bp pay", "bp agre to a fund",
    "hayward testifi befor congress"). Predicted: "BP agrees" on 20 June (2 unigrams, both in
    the gold of that day) and "Hayward testifies" on 26 June (2 unigrams, both in the gold of
    25 June, one day off).
    Agreement R-1: only 20 June counts: overlap 2, precision 2/4, recall 2/15.
    AR-1: 20 June aligns with 20 June (weight 1: 2) and 26 June with 25 June (weight 1/2: 1):
    precision 3/4, recall 3/15."""
    predicted = {D(2010, 6, 20): ["BP agrees"], D(2010, 6, 26): ["Hayward testifies"]}
    agreement = agreement_rouge(predicted, GOLD, 1)
    assert (agreement.precision, agreement.recall) == (0.5, pytest.approx(2 / 15))
    aligned = alignment_rouge(predicted, GOLD, 1)
    assert (aligned.precision, aligned.recall) == (0.75, pytest.approx(3 / 15))


def test_alignment_prefers_the_closer_day_then_the_content():
    """One predicted day between two gold days, one day from each: the content decides."""
    gold = {D(2010, 6, 14): ["rain in Paris"], D(2010, 6, 16): ["BP agrees to a fund"]}
    predicted = {D(2010, 6, 15): ["BP agrees to a fund"]}
    score = alignment_rouge(predicted, gold, 1)
    assert score.precision == pytest.approx(0.5)  # 5 shared unigrams at weight 1/2, of 5 predicted


def test_the_protocol_limits_length_range_and_sentences():
    predicted = {D(2010, 6, 1): ["before the range"], D(2010, 6, 15): ["a", "b", "c"], D(2010, 6, 16): ["d"],
                 D(2010, 6, 17): ["e", "f"], D(2010, 6, 18): ["after"]}
    gold = {D(2010, 6, 15): ["x"], D(2010, 6, 17): ["y"]}
    assert limit_to(predicted, gold) == {D(2010, 6, 15): ["a"], D(2010, 6, 17): ["e"]}


def test_reads_timeline17_files_and_storyline_results(tmp_path):
    from storyline.models import DateSpan, Event, Mention, Precision, Result

    path = tmp_path / "timelines.jsonl"
    path.write_text("\n".join(json.dumps([[str(d), texts] for d, texts in GOLD.items()]) for _ in range(2)) + "\n")
    assert read_timelines(path) == [GOLD, GOLD]
    day = DateSpan(start=D(2010, 6, 16), end=D(2010, 6, 16), precision=Precision.day)
    month = DateSpan(start=D(2010, 6, 1), end=D(2010, 6, 30), precision=Precision.month)
    result = Result(articles=[], summary="", timeline=[
        Event(id="1", title="BP fund", date=day, sources=1,
              mentions=[Mention(article="a", quote="BP agrees.", title="t")]),
        Event(id="2", title="June", date=month, sources=1,
              mentions=[Mention(article="a", quote="In June.", title="t")])])
    result_path = tmp_path / "result.json"
    result_path.write_text(result.model_dump_json())
    assert read_timelines(result_path, "both") == [{D(2010, 6, 16): ["BP fund", "BP agrees."]}]


def test_eval_command(tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps([[str(d), texts] for d, texts in GOLD.items()]) + "\n")
    late = tmp_path / "late.jsonl"
    late.write_text(json.dumps([[str(d), texts] for d, texts in shifted(GOLD, 1).items()]) + "\n")
    run = subprocess.run(["storyline", "eval", str(late), "--gold", str(gold), "--format", "json", "--no-protocol"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["mean_f1"]["date F1"] == 0.0 and report["mean_f1"]["AR-1"] == pytest.approx(0.5)
    text = subprocess.run(["storyline", "eval", str(gold), "--gold", str(gold)], capture_output=True, text=True)
    assert text.returncode == 0 and "mean" in text.stdout and "1.000" in text.stdout
    missing = subprocess.run(["storyline", "eval", str(tmp_path / "none.json"), "--gold", str(gold)],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_mean_over_several_gold_timelines():
    scores = evaluate(GOLD, [GOLD, shifted(GOLD, 1)], protocol=False)
    assert mean_f1(scores)["date F1"] == pytest.approx(0.5)


def test_undated_events_stand_on_their_publication_date_only_when_asked():
    import datetime as dt

    from storyline.evaluate import from_result
    from storyline.models import DateSpan, Event, Mention, Result

    def event(title: str, span: DateSpan) -> Event:
        return Event(id=title, title=title, date=span, mentions=[Mention(article="a", quote=title, title=title)],
                     sources=1)

    published = dt.date(2025, 3, 17)
    result = Result(articles=[], summary="", timeline=[
        event("On a day", DateSpan(start=dt.date(2025, 3, 16), end=dt.date(2025, 3, 16), precision="day")),
        event("No expression", DateSpan(end=published, qualifier="before", vague=True)),
        event("Recently", DateSpan(end=published, qualifier="before", vague=True, expression="recently")),
        event("Planned", DateSpan(start=published, qualifier="after", vague=True)),
        event("A month", DateSpan(start=dt.date(2025, 2, 1), end=dt.date(2025, 2, 28), precision="month")),
    ])
    assert from_result(result) == {dt.date(2025, 3, 16): ["On a day"]}
    assert from_result(result, undated="published") == {dt.date(2025, 3, 16): ["On a day"],
                                                         published: ["No expression", "Planned"]}


def test_the_protocol_keeps_the_days_most_articles_report():
    """One long article tells four things of 15 June; three articles report 16 June, two 17 June.
    With two gold days, the days kept are those more articles report, not those of most events.
    An article published on a day counts for it too (once, if it also reports it)."""
    import datetime as dt

    from storyline.evaluate import day_weights, from_result
    from storyline.models import ArticleInfo, DateSpan, Event, Mention, Result

    def event(name: str, day: int, articles: list[str]) -> Event:
        when = dt.date(2010, 6, day)
        return Event(id=name, title=name, date=DateSpan(start=when, end=when, precision="day"),
                     mentions=[Mention(article=a, quote=f"{name} in {a}", title=name) for a in articles],
                     sources=len(articles))

    result = Result(articles=[], summary="", timeline=[
        *(event(f"long{n}", 15, ["long"]) for n in range(4)),
        event("cap", 16, ["a", "b"]), event("fund", 16, ["c"]),
        event("hearing", 17, ["a", "d"]),
    ])
    assert day_weights(result) == {D(2010, 6, 15): 1, D(2010, 6, 16): 3, D(2010, 6, 17): 2}
    gold = {D(2010, 6, 14): ["x"], D(2010, 6, 18): ["y"]}
    predicted = from_result(result)
    assert list(limit_to(predicted, gold, day_weights(result))) == [D(2010, 6, 16), D(2010, 6, 17)]
    assert list(limit_to(predicted, gold)) == [D(2010, 6, 15), D(2010, 6, 16)]  # most sentences
    # "d" (which reports 17 June) and three others are published on 15 June, "b" on 16 June; an
    # article published on a day without events adds no day
    published = {"long": 14, "a": 18, "b": 16, "c": 18, "d": 15, "e": 15, "f": 15, "g": 15, "h": 20}
    articles = [ArticleInfo(id=a, published=D(2010, 6, day)) for a, day in published.items()]
    result = result.model_copy(update={"articles": articles})
    assert day_weights(result) == {D(2010, 6, 15): 5, D(2010, 6, 16): 3, D(2010, 6, 17): 2}
    assert list(limit_to(predicted, gold, day_weights(result))) == [D(2010, 6, 15), D(2010, 6, 16)]


def test_among_equally_reported_events_a_day_leads_with_the_one_like_its_other_reports():
    """Two reports of a cap on 4 June, then two single reports: a detail no other report shares a
    word with comes before a second report about the cap in the result, and after it on the day."""
    from storyline.evaluate import from_result
    from storyline.models import DateSpan, Event, Mention, Result

    day = D(2010, 6, 4)

    def event(name: str, quotes: list[str]) -> Event:
        return Event(id=name, title=name, date=DateSpan(start=day, end=day, precision="day"),
                     mentions=[Mention(article=f"a{n}", quote=q, title=name) for n, q in enumerate(quotes)],
                     sources=len(quotes))

    cap = "BP places a cap on the leaking well."
    detail = "Shares in a Norwegian shipping firm rose sharply."
    holds = "Engineers say the cap on the leaking well holds."
    result = Result(articles=[], summary="", timeline=[
        event("cap", [cap, "A cap now sits on the leaking BP well."]), event("detail", [detail]),
        event("holds", [holds]),
    ])
    assert from_result(result) == {day: [cap, holds, detail]}
    assert from_result(result, "titles") == {day: ["cap", "holds", "detail"]}
