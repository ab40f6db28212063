"""Key events: the lead event of each best-supported day, by the rule ``storyline eval`` scores
with. The stories are built by hand and the expected ranks counted by hand."""

from __future__ import annotations

import datetime as dt

from storyline.evaluate import day_weights, from_result, limit_to
from storyline.models import ArticleInfo, DateSpan, Event, Mention, Result
from storyline.ranking import rank_events
from storyline.render import render

D = dt.date


def _event(name: str, start: dt.date, articles: list[str], end: dt.date | None = None) -> Event:
    return Event(id=name, title=name, date=DateSpan(start=start, end=end or start, precision="day"),
                 mentions=[Mention(article=a, quote=f"{name} reported in {a}", title=name) for a in articles],
                 sources=len(articles))


def _story() -> Result:
    """One long article tells four things of 15 June; three articles report 16 June (the cap
    by two, the fund by one), two report 17 June; 1998 is recalled by three. Articles "e" and
    "f" are published on 17 June."""
    timeline = [
        _event("spill of 1998", D(1998, 3, 1), ["a", "b", "c"]),
        *(_event(f"long{n}", D(2010, 6, 15), ["long"]) for n in range(4)),
        _event("cap", D(2010, 6, 16), ["a", "b"]), _event("fund", D(2010, 6, 16), ["c"]),
        _event("hearing", D(2010, 6, 17), ["a", "d"]),
    ]
    published = {"long": 14, "a": 18, "b": 18, "c": 18, "d": 18, "e": 17, "f": 17}
    articles = [ArticleInfo(id=a, published=D(2010, 6, day)) for a, day in published.items()]
    return Result(articles=articles, timeline=timeline, summary="")


def test_each_event_is_weighed_and_the_best_supported_days_lead_with_their_main_event():
    result = _story()
    rank_events(result.timeline, result.articles, top=2)
    by_name = {e.title: e for e in result.timeline}
    # 17 June: "a", "d" report it, "e", "f" are published on it (4); 16 June: a, b, c (3); 15 June: long (1)
    assert {name: e.day_articles for name, e in by_name.items()} == {
        "spill of 1998": 3, "long0": 1, "long1": 1, "long2": 1, "long3": 1, "cap": 3, "fund": 3, "hearing": 4}
    assert {name: e.rank for name, e in by_name.items() if e.rank} == {"hearing": 1, "cap": 2}
    assert by_name["spill of 1998"].background and not by_name["cap"].background
    assert [e.title for e in result.key_events()] == ["cap", "hearing"]  # timeline order
    assert [e.title for e in result.background_events()] == ["spill of 1998"]
    # the product's key days are the days storyline eval keeps for a gold of two days
    gold = {D(2010, 6, 14): ["x"], D(2010, 6, 20): ["y"]}
    kept = limit_to(from_result(result), gold, day_weights(result))
    assert sorted(kept) == sorted(e.date.start for e in result.key_events())
    assert [texts[0] for texts in kept.values()] == [e.mentions[0].quote for e in result.key_events()]


def test_every_format_shows_the_key_events_first_and_the_background_apart():
    result = _story()
    rank_events(result.timeline, result.articles, top=2)
    markdown = render(result, "markdown")
    key = markdown.index("## Key events")
    assert key < markdown.index("## Events") < markdown.index("## Background")
    assert "- **16 Jun 2010** — cap" in markdown[key:markdown.index("## Events")]
    assert "spill of 1998" not in markdown[:markdown.index("## Background")]
    text = render(result, "text")
    assert text.index("Key events:") < text.index("16 Jun 2010: cap") < text.index("All events:")
    page = render(result, "html")
    first_list = page[page.index("Key events"):page.index("<details")]
    assert "cap" in first_list and "hearing" in first_list and "fund" not in first_list
    others = page[page.index("<details"):]
    assert "fund" in others and "long0" in others and "Background" in others
    assert "4 articles on its day" in page
