"""Table-driven tests of date resolution against publication dates."""

from __future__ import annotations

import datetime as dt

import pytest

from storyline.dates import detect_tense, format_span, resolve
from storyline.models import DateSpan, Precision

D = dt.date
MON = D(2025, 3, 17)  # the seeds' publication day (a Monday)
TUE = D(2025, 3, 18)  # article 004's publication day (a Tuesday)
NEW_YEAR = D(2025, 1, 2)  # a Thursday, just after New Year
YEAR_END = D(2024, 12, 30)  # a Monday, just before New Year
LEAP = D(2024, 2, 29)  # a Thursday
SUMMER = D(2023, 7, 14)  # a Friday

# (expression, reference, context or None, start, end, precision)
CASES = [
    # --- every temporal expression in the seed articles, with its sentence ---
    ("on Tuesday", MON, "US President Donald Trump will speak with Russian President Vladimir Putin on Tuesday", D(2025, 3, 18), D(2025, 3, 18), "day"),
    ("on Tuesday", MON, "announced plans to speak with Russian President Vladimir Putin on Tuesday", D(2025, 3, 18), D(2025, 3, 18), "day"),
    ("on Tuesday", MON, "Trump, Putin to Discuss Ukraine Peace Deal on Tuesday", D(2025, 3, 18), D(2025, 3, 18), "day"),
    ("on Tuesday", TUE, "Trump and Putin are set to discuss a possible Ukraine ceasefire on Tuesday.", D(2025, 3, 18), D(2025, 3, 18), "day"),
    ("on Tuesday", TUE, "During their meeting on Tuesday, they pledged continued assistance", D(2025, 3, 18), D(2025, 3, 18), "day"),
    ("on Sunday", MON, "U.S. officials expressed optimism on Sunday", D(2025, 3, 16), D(2025, 3, 16), "day"),
    ("on Sunday", TUE, "Trump also mentioned on Sunday that land and energy resources are part of the negotiations.", D(2025, 3, 16), D(2025, 3, 16), "day"),
    ("On Saturday", MON, "On Saturday, he accused the Kremlin of stalling", D(2025, 3, 15), D(2025, 3, 15), "day"),
    ("on Monday", TUE, "Zelensky, during his nightly address on Monday, blamed Putin", D(2025, 3, 17), D(2025, 3, 17), "day"),
    ("on Monday", TUE, "Press Secretary Karoline Leavitt stated on Monday that Trump remains dedicated", D(2025, 3, 17), D(2025, 3, 17), "day"),
    ("Last month", MON, "Last month, he clashed with Zelensky in Washington", D(2025, 2, 1), D(2025, 2, 28), "month"),
    ("last August", TUE, "reclaimed by Russian forces after a Ukrainian incursion last August", D(2024, 8, 1), D(2024, 8, 31), "month"),
    ("since March 2022", TUE, "The plant has been under Russian control since March 2022", D(2022, 3, 1), None, "month"),
    ("in February", MON, "agreements reached at the Saudi Arabia summit in February", D(2025, 2, 1), D(2025, 2, 28), "month"),
    ("over the weekend", MON, "officials held positive talks in Moscow over the weekend", D(2025, 3, 15), D(2025, 3, 16), "range"),
    ("overnight", MON, "overnight Ukrainian drone strikes targeted energy sites", D(2025, 3, 16), D(2025, 3, 17), "range"),
    ("this week", MON, "going to have a really good and productive conversation this week", D(2025, 3, 17), D(2025, 3, 23), "week"),
    ("for months", MON, "the Kursk region, which they have held for months", None, D(2025, 3, 17), "unknown"),
    ("recently", MON, "Rubio recently spoke with Russian Foreign Minister Sergei Lavrov", None, D(2025, 3, 17), "unknown"),
    ("within weeks", MON, "a ceasefire deal could be reached within weeks", D(2025, 3, 17), None, "unknown"),
    ("in the coming weeks", MON, "some sort of deal in the coming weeks", D(2025, 3, 17), None, "unknown"),
    ("the next few weeks", MON, "the next few weeks could determine whether", D(2025, 3, 17), None, "unknown"),
    ("Every week", MON, None, None, None, "unknown"),
    # --- weekdays ---
    ("Tuesday", MON, None, D(2025, 3, 11), D(2025, 3, 11), "day"),  # no tense: the last one
    ("Tuesday's", MON, "Tuesday's call will test his strategy", D(2025, 3, 18), D(2025, 3, 18), "day"),
    ("Monday", MON, "said on Monday", D(2025, 3, 17), D(2025, 3, 17), "day"),  # same day as reference
    ("last Tuesday", MON, None, D(2025, 3, 11), D(2025, 3, 11), "day"),
    ("last Monday", MON, None, D(2025, 3, 10), D(2025, 3, 10), "day"),
    ("next Tuesday", MON, None, D(2025, 3, 18), D(2025, 3, 18), "day"),
    ("next Monday", MON, None, D(2025, 3, 24), D(2025, 3, 24), "day"),
    ("this Friday", MON, None, D(2025, 3, 21), D(2025, 3, 21), "day"),
    ("on Friday", NEW_YEAR, "will meet on Friday", D(2025, 1, 3), D(2025, 1, 3), "day"),
    ("on Friday", NEW_YEAR, "met on Friday", D(2024, 12, 27), D(2024, 12, 27), "day"),
    ("Wednesday night", SUMMER, "protesters gathered Wednesday night", D(2023, 7, 12), D(2023, 7, 12), "day"),
    ("Sunday morning", SUMMER, "the vote is scheduled to take place Sunday morning", D(2023, 7, 16), D(2023, 7, 16), "day"),
    # --- days relative to the reference ---
    ("yesterday", MON, None, D(2025, 3, 16), D(2025, 3, 16), "day"),
    ("today", MON, None, MON, MON, "day"),
    ("tomorrow", YEAR_END, None, D(2024, 12, 31), D(2024, 12, 31), "day"),
    ("tonight", MON, None, MON, MON, "day"),
    ("this morning", LEAP, None, LEAP, LEAP, "day"),
    ("last night", NEW_YEAR, None, D(2025, 1, 1), D(2025, 1, 1), "day"),
    ("the day before yesterday", D(2025, 3, 1), None, D(2025, 2, 27), D(2025, 2, 27), "day"),
    ("three days ago", MON, None, D(2025, 3, 14), D(2025, 3, 14), "day"),
    ("2 weeks ago", MON, None, D(2025, 3, 3), D(2025, 3, 9), "week"),
    ("a month ago", MON, None, D(2025, 2, 1), D(2025, 2, 28), "month"),
    ("two years ago", MON, None, D(2023, 1, 1), D(2023, 12, 31), "year"),
    ("in two days", YEAR_END, None, D(2025, 1, 1), D(2025, 1, 1), "day"),
    ("in three weeks", MON, None, D(2025, 4, 7), D(2025, 4, 13), "week"),
    ("in six months", MON, None, D(2025, 9, 1), D(2025, 9, 30), "month"),
    ("within two weeks", MON, None, D(2025, 3, 17), D(2025, 3, 31), "range"),
    ("the past week", MON, None, D(2025, 3, 10), D(2025, 3, 17), "range"),
    # --- weeks, months, years relative to the reference ---
    ("last week", MON, None, D(2025, 3, 10), D(2025, 3, 16), "week"),
    ("next week", YEAR_END, None, D(2025, 1, 6), D(2025, 1, 12), "week"),
    ("last week", NEW_YEAR, None, D(2024, 12, 23), D(2024, 12, 29), "week"),
    ("next month", YEAR_END, None, D(2025, 1, 1), D(2025, 1, 31), "month"),
    ("last month", NEW_YEAR, None, D(2024, 12, 1), D(2024, 12, 31), "month"),
    ("this month", LEAP, None, D(2024, 2, 1), D(2024, 2, 29), "month"),
    ("last year", MON, None, D(2024, 1, 1), D(2024, 12, 31), "year"),
    ("this year", SUMMER, None, D(2023, 1, 1), D(2023, 12, 31), "year"),
    ("next year", YEAR_END, None, D(2025, 1, 1), D(2025, 12, 31), "year"),
    ("earlier this week", D(2025, 3, 20), None, D(2025, 3, 17), D(2025, 3, 19), "range"),
    ("later this month", MON, None, D(2025, 3, 18), D(2025, 3, 31), "range"),
    # --- weekends ---
    ("the weekend", MON, "fighting continued over the weekend", D(2025, 3, 15), D(2025, 3, 16), "range"),
    ("this weekend", SUMMER, "will hold talks this weekend", D(2023, 7, 15), D(2023, 7, 16), "range"),
    ("last weekend", D(2025, 3, 19), None, D(2025, 3, 15), D(2025, 3, 16), "range"),
    ("next weekend", MON, None, D(2025, 3, 22), D(2025, 3, 23), "range"),
    # --- named months and days ---
    ("March 11", MON, None, D(2025, 3, 11), D(2025, 3, 11), "day"),
    ("11 March", MON, None, D(2025, 3, 11), D(2025, 3, 11), "day"),
    ("Feb. 28", MON, None, D(2025, 2, 28), D(2025, 2, 28), "day"),
    ("on March 11th", MON, None, D(2025, 3, 11), D(2025, 3, 11), "day"),
    ("March 11, 2024", MON, None, D(2024, 3, 11), D(2024, 3, 11), "day"),
    ("11 March 2024", MON, None, D(2024, 3, 11), D(2024, 3, 11), "day"),
    ("Dec. 28", NEW_YEAR, "met on Dec. 28", D(2024, 12, 28), D(2024, 12, 28), "day"),  # back across New Year
    ("Jan. 3", YEAR_END, "will meet Jan. 3", D(2025, 1, 3), D(2025, 1, 3), "day"),  # forward across New Year
    ("March 11-12", MON, None, D(2025, 3, 11), D(2025, 3, 12), "range"),
    ("11–13 March", MON, None, D(2025, 3, 11), D(2025, 3, 13), "range"),
    ("Sept. 5", SUMMER, None, D(2023, 9, 5), D(2023, 9, 5), "day"),
    ("in December", NEW_YEAR, "talks collapsed in December", D(2024, 12, 1), D(2024, 12, 31), "month"),
    ("in January", YEAR_END, "the law will take effect in January", D(2025, 1, 1), D(2025, 1, 31), "month"),
    ("in April", MON, "elections are expected in April", D(2025, 4, 1), D(2025, 4, 30), "month"),
    ("in April", MON, "the talks collapsed in April", D(2024, 4, 1), D(2024, 4, 30), "month"),
    ("March 2022", MON, None, D(2022, 3, 1), D(2022, 3, 31), "month"),
    ("February of last year", MON, None, D(2024, 2, 1), D(2024, 2, 29), "month"),
    ("next March", MON, None, D(2026, 3, 1), D(2026, 3, 31), "month"),
    ("2025-03-18", None, None, D(2025, 3, 18), D(2025, 3, 18), "day"),
    ("18/03/2025", None, None, D(2025, 3, 18), D(2025, 3, 18), "day"),
    ("March 18, 2025", None, None, D(2025, 3, 18), D(2025, 3, 18), "day"),
    # --- years, decades, quarters, seasons ---
    ("in 2014", MON, None, D(2014, 1, 1), D(2014, 12, 31), "year"),
    ("2022", None, None, D(2022, 1, 1), D(2022, 12, 31), "year"),
    ("the 1990s", MON, None, D(1990, 1, 1), D(1999, 12, 31), "decade"),
    ("the '80s", MON, None, D(1980, 1, 1), D(1989, 12, 31), "decade"),
    ("the 2010s", None, None, D(2010, 1, 1), D(2019, 12, 31), "decade"),
    ("Q1 2025", None, None, D(2025, 1, 1), D(2025, 3, 31), "quarter"),
    ("the third quarter", MON, "profits fell in the third quarter", D(2024, 7, 1), D(2024, 9, 30), "quarter"),
    ("the first quarter of 2024", MON, None, D(2024, 1, 1), D(2024, 3, 31), "quarter"),
    ("last quarter", MON, None, D(2024, 10, 1), D(2024, 12, 31), "quarter"),
    ("this summer", MON, "the plan will be ready this summer", D(2025, 6, 1), D(2025, 8, 31), "season"),
    ("last winter", MON, None, D(2024, 12, 1), D(2025, 2, 28), "season"),
    ("spring 2024", MON, None, D(2024, 3, 1), D(2024, 5, 31), "season"),
    ("next autumn", MON, None, D(2025, 9, 1), D(2025, 11, 30), "season"),
    ("in the fall", SUMMER, "the company will expand in the fall", D(2023, 9, 1), D(2023, 11, 30), "season"),
    # --- early / mid / late ---
    ("early March", MON, None, D(2025, 3, 1), D(2025, 3, 10), "month"),
    ("mid-February", MON, None, D(2025, 2, 11), D(2025, 2, 20), "month"),
    ("late August 2024", MON, None, D(2024, 8, 21), D(2024, 8, 31), "month"),
    ("early 2024", MON, None, D(2024, 1, 1), D(2024, 4, 30), "year"),
    ("the late 1990s", MON, None, D(1997, 1, 1), D(1999, 12, 31), "decade"),
    ("the end of the month", MON, None, D(2025, 3, 21), D(2025, 3, 31), "month"),
    # --- since / by ---
    ("since 2014", MON, None, D(2014, 1, 1), None, "year"),
    ("since last week", MON, None, D(2025, 3, 10), None, "week"),
    ("by the end of the month", MON, None, None, D(2025, 3, 31), "month"),
    ("by the end of the year", SUMMER, None, None, D(2023, 12, 31), "year"),
    ("by Friday", MON, None, None, D(2025, 3, 21), "day"),
    # --- holidays ---
    ("Christmas", MON, "the fighting paused at Christmas", D(2024, 12, 25), D(2024, 12, 25), "day"),
    ("Christmas Eve", SUMMER, "will be released on Christmas Eve", D(2023, 12, 24), D(2023, 12, 24), "day"),
    ("New Year's Eve", NEW_YEAR, "said on New Year's Eve", D(2024, 12, 31), D(2024, 12, 31), "day"),
    ("New Year's Day", YEAR_END, "will start on New Year's Day", D(2025, 1, 1), D(2025, 1, 1), "day"),
    ("Thanksgiving 2024", None, None, D(2024, 11, 28), D(2024, 11, 28), "day"),
    ("Easter 2025", None, None, D(2025, 4, 20), D(2025, 4, 20), "day"),
    ("last Christmas", MON, None, D(2024, 12, 25), D(2024, 12, 25), "day"),
    # --- vague: a side of the reference date, never a day ---
    ("lately", SUMMER, None, None, SUMMER, "unknown"),
    ("soon", SUMMER, None, SUMMER, None, "unknown"),
    ("in recent days", MON, None, None, MON, "unknown"),
    ("previously", MON, None, None, MON, "unknown"),
    ("now", MON, None, MON, MON, "day"),
    # --- no reference date: absolute ones resolve, relative ones do not ---
    ("on Tuesday", None, "will speak on Tuesday", None, None, "unknown"),
    ("last month", None, None, None, None, "unknown"),
    ("recently", None, None, None, None, "unknown"),
    ("March 2022", None, None, D(2022, 3, 1), D(2022, 3, 31), "month"),
    ("the three-year war", MON, None, None, None, "unknown"),
    ("", MON, None, None, None, "unknown"),
]


@pytest.mark.parametrize(("expression", "reference", "context", "start", "end", "precision"), CASES)
def test_resolve(expression, reference, context, start, end, precision):
    span = resolve(expression, reference, context)
    assert (span.start, span.end, span.precision) == (start, end, Precision(precision)), span


def test_table_is_large_and_varied():
    assert len(CASES) >= 80
    assert len({reference for _, reference, *_ in CASES}) >= 6


def test_vague_expressions_are_marked_and_never_get_a_day():
    for expression in ("recently", "within weeks", "in the coming weeks", "for months", "soon"):
        span = resolve(expression, MON)
        assert span.vague
        assert span.precision == Precision.unknown
        assert span.start is None or span.end is None


def test_unresolvable_keeps_expression_and_explains():
    span = resolve("on Tuesday", None, "will speak on Tuesday")
    assert span.expression == "on Tuesday"
    assert "publication date" in (span.note or "")
    assert resolve("the three-year war", MON).note


def test_since_is_open_ended_and_by_is_a_deadline():
    assert resolve("since March 2022", MON).qualifier == "since"
    assert resolve("by the end of the month", MON).qualifier == "by"


@pytest.mark.parametrize(("context", "tense"), [
    ("Trump will speak with Putin on Tuesday", "future"),
    ("Trump announced plans to speak with Putin on Tuesday", "future"),
    ("Officials expressed optimism on Sunday", "past"),
    ("On Saturday, he accused the Kremlin of stalling", "past"),
    ("Trump said on Sunday he will speak on Tuesday", "past"),
])
def test_detect_tense(context, tense):
    expression = "on Sunday" if "on Sunday" in context else ("On Saturday" if "Saturday" in context else "on Tuesday")
    assert detect_tense(context, expression) == tense


@pytest.mark.parametrize(("span", "text"), [
    (resolve("on Tuesday", MON, "will speak on Tuesday"), "18 Mar 2025"),
    (resolve("in February", MON, "the summit in February"), "Feb 2025"),
    (resolve("over the weekend", MON, "talks over the weekend"), "15–16 Mar 2025"),
    (resolve("recently", MON), "before 17 Mar 2025 (recently)"),
    (resolve("since March 2022", MON), "since Mar 2022"),
    (resolve("early March", MON), "early Mar 2025"),
    (resolve("Q1 2025", None), "Q1 2025"),
    (resolve("last winter", MON), "winter 2024/25"),
    (resolve("the 1990s", MON), "1990s"),
    (resolve("by the end of the month", MON), "by 31 Mar 2025"),
    (resolve("within weeks", MON), "after 17 Mar 2025 (within weeks)"),
    (DateSpan(expression="someday"), "undated (someday)"),
])
def test_format_span_shows_precision(span, text):
    assert format_span(span) == text
