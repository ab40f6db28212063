"""The time-expression finder: what it finds in a sentence, and what it leaves alone."""

from __future__ import annotations

import datetime as dt

import pytest

from storyline.dates import resolve
from storyline.dates.finder import find_expressions


@pytest.mark.parametrize(("sentence", "expected"), [
    ("Trump will speak with Putin on Tuesday to discuss a ceasefire.", ["on Tuesday"]),
    ("The plant has been under Russian control since March 2022, and fighting continues.", ["since March 2022"]),
    ("It was reclaimed after a Ukrainian incursion last August.", ["last August"]),
    ("Meanwhile, overnight Ukrainian drone strikes targeted energy sites.", ["overnight"]),
    ("Officials held positive talks in Moscow over the weekend.", ["over the weekend"]),
    ("Last month, he clashed with Zelensky in Washington.", ["Last month"]),
    ("Zelensky, during his nightly address on Monday, blamed Putin.", ["on Monday"]),
    ("Talks ran between March 11 and March 12, 2025 in Jeddah.", ["between March 11 and March 12, 2025"]),
    ("The programme ran from 2010 to 2015.", ["from 2010 to 2015"]),
    ("Sales rose in the 1990s and fell in May.", ["in the 1990s", "in May"]),
    ("He spoke on 18 March 2025, on 2025-03-18 and on 18/03/2025.", ["on 18 March 2025", "on 2025-03-18",
                                                                    "on 18/03/2025"]),
    ("Profits fell in the first quarter of 2024 and in Q3 2025.", ["in the first quarter of 2024", "in Q3 2025"]),
    ("Rubio recently spoke with Lavrov about the summit in February.", ["recently", "in February"]),
    ("The talks could end within weeks or in the coming days.", ["within weeks", "in the coming days"]),
    ("The two presidents will talk this week, earlier this month and three days ago.",
     ["this week", "earlier this month", "three days ago"]),
    ("Shops closed on Christmas Eve and reopened last spring.", ["on Christmas Eve", "last spring"]),
    # day-first ranges, as British news writes them (a map caption of the BP spill: the day
    # alone dated every sentence glued to it)
    ("Approximate oil locations 22 April - 15 May Emergency teams are at work.", ["22 April - 15 May"]),
    ("The talks ran 22-25 April and resumed on 2 - 3 May.", ["22-25 April", "on 2 - 3 May"]),
    ("The holiday ran March 30 - 31.", ["March 30 - 31"]),
])
def test_finds_every_expression_with_the_words_that_belong_to_it(sentence, expected):
    assert [found.text for found in find_expressions(sentence)] == expected


@pytest.mark.parametrize("sentence", [
    "Every week, 2,500 soldiers die on both sides.",  # a count, a unit: no calendar place
    "He may march with them if the talks fall through.",  # a modal and a verb, not months
    "The 2009 flu spread fast.",  # a year as a name's part, with no word making it a date
    "Tammy Bruce later clarified the conversation.",  # counted from another event
    "Strikes resumed the following day.",  # counted from another event
    "Spring water and fall colours.",  # seasons with no word making them a date
])
def test_leaves_words_that_are_not_calendar_places(sentence):
    assert find_expressions(sentence) == []


def test_positions_are_where_the_expression_starts_and_ends():
    sentence = "On Saturday, he accused the Kremlin of stalling."
    (found,) = find_expressions(sentence)
    assert (found.start, found.end) == (0, 11)


def test_what_is_found_resolves_against_the_publication_date():
    published = dt.date(2025, 3, 17)  # a Monday
    sentence = "Officials expressed optimism on Sunday."
    (found,) = find_expressions(sentence)
    span = resolve(found.text, published, sentence)
    assert (span.start, span.end) == (dt.date(2025, 3, 16), dt.date(2025, 3, 16))
