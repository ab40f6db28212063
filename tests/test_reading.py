"""What the model reads of a story (``storyline.reading``), checked on hand-made articles whose
sizes and tiers are written out here."""

from __future__ import annotations

import datetime as dt

import pytest

from storyline import reading
from storyline.chunk import readable_sentences
from storyline.models import Article

FILLER = "The committee went over the figures with members of the public for a long while"


def _article(number: int, *, filler: int = 20, extra: tuple[str, ...] = ()) -> Article:
    """A headline line, two lead sentences, undated filler (each sentence told apart by a number
    spelled out, so none repeats another), one dated sentence among the filler and ``extra``."""
    lines = [f"Story {number} headline about the council",
             f"The council of town {number} met in public.", f"Its members argued about town {number}."]
    body = [f"{FILLER}, item {number}-{index}." for index in range(filler)]
    body.insert(filler // 2, f"The minister of town {number} resigned on Monday after the vote.")
    text = "\n".join(lines) + "\n" + " ".join([*body, *extra])
    return Article(id=f"a{number}", text=text, published=dt.date(2025, 3, 17))


def _choose(articles: list[Article], share: float | None = reading.READ_SHARE) -> list[reading.ArticleReading]:
    return reading.choose(articles, readable_sentences(articles), share)


def _shown(result: reading.ArticleReading) -> list[str]:
    text = result.article.text
    return [text[result.sentences[i].start:result.sentences[i].end] for i in result.shown]


def test_each_sentence_falls_in_the_first_tier_that_holds_it():
    def tier(text: str, position: int) -> str:
        return reading.TIERS[reading.tier_of(reading.Candidate(text, position, text))].name

    assert tier("Storm hits the coast on Monday", 0) == "headline"
    assert tier("Waves rose on Monday.", 2) == "lead"
    assert tier("Waves rose on Monday.", 3) == "dated"
    assert tier("It was said that Mayor Anna Lopez left.", 3) == "named"
    assert tier("The water was cold.", 3) == "other"


def test_a_small_story_is_read_whole_repeats_and_all():
    wire = "Oil giant BP said it would pay for the whole clean-up of the spill on the coast."
    articles = [_article(n, filler=6, extra=(wire,)) for n in range(3)]
    total = sum(len(a.text) for a in articles)
    assert total < reading.READ_WHOLE_CHARS  # small by construction
    for result in _choose(articles):
        assert result.shown == list(range(len(result.sentences))) and result.unread() == []


def test_a_large_story_is_read_up_to_its_share_best_tiers_first_articles_taking_turns():
    articles = [_article(n, filler=40) for n in range(30)]
    total = sum(len(s) for a, own in zip(articles, readable_sentences(articles), strict=True)
                for s in (a.text[x.start:x.end] for x in own))
    budget = max(reading.READ_WHOLE_CHARS, 0.1 * total)
    results = _choose(articles, 0.1)
    read = sum(len(text) for result in results for text in _shown(result))
    assert budget - 120 < read <= budget  # filled to within one sentence of the budget
    for result in results:
        number = result.article.id[1:]
        # every article's headline, both lead sentences and its dated sentence (in the middle of
        # its filler) are read, and the budget left is shared out among the articles' filler
        assert {f"Story {number} headline about the council", f"The council of town {number} met in public.",
                f"Its members argued about town {number}.",
                f"The minister of town {number} resigned on Monday after the vote."} <= set(_shown(result))
    fillers = [sum(FILLER in text for text in _shown(result)) for result in results]
    assert min(fillers) >= 1 and max(fillers) - min(fillers) <= 1


def test_every_sentence_is_read_when_the_share_is_none():
    articles = [_article(n, filler=40) for n in range(30)]
    for result in _choose(articles, None):
        assert result.unread() == [] and result.repeats == {}


def test_a_sentence_repeated_across_articles_is_read_once_and_its_repeats_point_to_it():
    wire = "Oil giant BP said it would pay for the whole clean-up of the spill on the coast."
    articles = [_article(n, filler=40, extra=(wire,)) for n in range(30)]
    results = _choose(articles, 0.5)
    holders = [(i, r.shown[_shown(r).index(wire)]) for i, r in enumerate(results) if wire in _shown(r)]
    assert len(holders) == 1  # read in one article only
    for index, result in enumerate(results):
        if index != holders[0][0]:
            (position,) = [i for i in result.unread() if result.article.text[
                result.sentences[i].start:result.sentences[i].end] == wire]
            assert result.repeats[position] == holders[0]


def test_short_sentences_are_not_taken_for_repeats():
    assert reading.repeat_key("He declined to comment.") is None
    assert reading.repeat_key("BP shares fell by 13% in London on Tuesday, the company said.") == (
        "bp", "shares", "fell", "by", "13", "in", "london", "on", "tuesday", "the", "company", "said")


@pytest.mark.parametrize("question", ["What is swine flu?", "So what are the options now for BP on Monday?"])
def test_a_question_is_never_read(question):
    articles = [_article(n, filler=40, extra=(question,)) for n in range(30)]
    for result in _choose(articles, 0.9):
        assert question not in _shown(result)
