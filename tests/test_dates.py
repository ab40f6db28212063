"""Table-driven tests of date resolution against publication dates."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storyline.dates import _resolve_cached, detect_tense, format_span, resolve
from storyline.dates.rules import RULES, Context, normalize
from storyline.dates.tense import direction
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
    ("two years ago", MON, None, D(2022, 9, 17), D(2023, 9, 16), "range"),  # about two years before, not 2023
    ("two decades ago", MON, None, D(2000, 3, 17), D(2010, 3, 16), "range"),
    ("in two hours", MON, None, MON, TUE, "range"),  # the hour of publication is not known
    ("in 30 hours", MON, None, MON, D(2025, 3, 19), "range"),
    ("six hours from now", YEAR_END, None, YEAR_END, D(2024, 12, 31), "range"),
    ("March 18-12, 2025", MON, None, None, None, "unknown"),  # ends before it starts
    ("18-12 March", MON, None, None, None, "unknown"),
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


def test_until_ends_a_state_on_the_nearest_such_day_whatever_the_tense():
    """A closure done ("happened") that lasts until 7 June, reported on 28 May 2009, ends on
    7 June 2009, not 2008; reported on 20 June, "was closed until 7 June" is that June too."""
    sentence = "Eton advised to close until 7 June after boy contracts virus"
    span = resolve("until 7 June", D(2009, 5, 28), sentence, status_tense="past")
    assert (span.start, span.end, span.qualifier) == (None, D(2009, 6, 7), "until")
    later = resolve("until 7 June", D(2009, 6, 20), "The school was closed until 7 June", status_tense="past")
    assert later.end == D(2009, 6, 7)


@pytest.mark.parametrize(("context", "tense"), [
    ("Oil locations 22 April - 15 May Efforts are hampered by the well, which is about 5,000 ft down", None),
    ("Oil locations 22 April - 15 May The tanker is likely the largest in the Gulf", None),
    ("Engineers are about to cap the well, first tried on 22 April", "future"),
    ("Engineers are likely to cap the well on 22 April", "future"),
])
def test_about_and_likely_point_ahead_only_before_to(context, tense):
    """"is about 5,000 ft" is a measure, "is about to cap" a plan; read as the future, the first
    put a bare "22 April" in a mid-May article on next year's 22 April."""
    assert detect_tense(context, "22 April") == tense
    if tense is None:
        assert resolve("22 April", D(2010, 5, 15), context).start == D(2010, 4, 22)


CAP_PLACED = ("NEW CAP FOR LEAKING OIL WELL In June, BP placed a cap, known as an LMRP cap, over the top of the "
              "Deepwater Horizon well so oil could be collected at the surface")


def test_a_purpose_clause_does_not_set_the_tense_of_the_clause_before_it():
    """A BBC caption of 16 July 2010: the cap was placed in June 2010; "so oil could be collected"
    is its purpose, another clause. Read as the tense of "In June", "could" sent the cap (14
    reports) to June 2011. Reported speech still points ahead."""
    from storyline.grounding import date_mention, status_hint

    status = status_hint(CAP_PLACED, "")
    assert status == "happened"
    span = date_mention("In June", CAP_PLACED, status, D(2010, 7, 16))
    assert (span.start, span.end) == (D(2010, 6, 1), D(2010, 6, 30))
    assert detect_tense("Kallas said the talks would resume on Friday", "on Friday") == "future"  # still ahead


@pytest.mark.parametrize(("context", "expression", "tense"), [
    ("Johnson said the virus had been contained, though this might only last until the autumn",
     "until the autumn", "future"),
    ("The slick may reach the Florida coast on Friday", "on Friday", "future"),
    ("Engineers might have tried the cap on Friday", "on Friday", "past"),
    ("May saw the first cases; the school closed on Friday", "on Friday", "past"),
])
def test_might_and_may_point_ahead_but_the_month_does_not(context, expression, tense):
    """A Guardian report of 4 May 2009: the virus's containment "might only last until the
    autumn" was dated to the autumn of 2008, read in the tense of "had been contained"."""
    assert detect_tense(context, expression) == tense


def test_a_possibility_until_a_season_is_the_coming_one():
    span = resolve("until the autumn", D(2009, 5, 4),
                   "Johnson said the virus had been contained, though this might only last until the autumn")
    assert (span.end, span.qualifier) == (D(2009, 11, 30), "until")


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
    (DateSpan(expression="someday"), "undated"),  # an unplaced expression is never shown as if placed
    (resolve("until March", MON), "until 31 Mar 2025"),
    (resolve("the 21st century", MON), "21st century"),
    (resolve("before Christmas 2024", None), "before 24 Dec 2024"),
    # before or after a whole month, year or decade names it, not the day next to it
    (resolve("after last August", MON, "reclaimed after a Ukrainian incursion last August"), "after Aug 2024"),
    (resolve("before March 2025", MON, "It ended before March 2025."), "before Mar 2025"),
    (resolve("after 2020", MON, "It grew after 2020."), "after 2020"),
    (resolve("after the 1990s", MON, "It grew after the 1990s."), "after 1990s"),
    # a season cut short by another report's date in a merge is shown as the days it holds
    (DateSpan(start=D(2010, 5, 5), end=D(2010, 5, 31), precision="season"), "5–31 May 2010"),
])
def test_format_span_shows_precision(span, text):
    assert format_span(span) == text


# --- the cases of issue 10, each with its neighbours -------------------------------------------

THU = D(2025, 11, 20)  # a Thursday in November
JULY = D(2025, 7, 14)  # a Monday in July
PUB_18 = D(2025, 3, 18)

ISSUE_CASES = [
    # 1. impossible dates come back unplaced, with a note (never an exception)
    ("April 31", MON, "the treaty was signed on April 31", None, None, "unknown"),
    ("February 30", MON, None, None, None, "unknown"),
    ("2025-02-30", MON, None, None, None, "unknown"),
    ("0000", MON, None, None, None, "unknown"),
    ("June 31", MON, None, None, None, "unknown"),
    ("31 November", MON, None, None, None, "unknown"),
    ("September 31, 2024", None, None, None, None, "unknown"),
    ("February 29, 2025", None, None, None, None, "unknown"),
    ("2023-02-29", None, None, None, None, "unknown"),
    ("2024-02-29", None, None, D(2024, 2, 29), D(2024, 2, 29), "day"),
    ("29 February 2024", None, None, D(2024, 2, 29), D(2024, 2, 29), "day"),
    ("2021-W53", None, None, None, None, "unknown"),
    # 2. tense: "United" and "hundred" are not past verbs; "will vote" decides
    ("On Tuesday", MON, "On Tuesday, the United Nations Security Council will vote on the resolution.", D(2025, 3, 18), D(2025, 3, 18), "day"),
    ("on Tuesday", MON, "A hundred delegates will arrive on Tuesday.", D(2025, 3, 18), D(2025, 3, 18), "day"),
    ("on Tuesday", MON, "A hundred delegates arrived on Tuesday.", D(2025, 3, 11), D(2025, 3, 11), "day"),
    ("on Tuesday", MON, "He said that the vote on Tuesday will be decisive.", D(2025, 3, 18), D(2025, 3, 18), "day"),
    ("on Tuesday", MON, "The vote, which was held on Tuesday, passed.", D(2025, 3, 11), D(2025, 3, 11), "day"),
    ("on Tuesday", MON, "The results will be released on Tuesday.", D(2025, 3, 18), D(2025, 3, 18), "day"),
    ("on Sunday", MON, "Trump said on Sunday he will speak with Putin on Tuesday", D(2025, 3, 16), D(2025, 3, 16), "day"),
    # the expression's own clause outranks another clause's stronger marker
    ("On Saturday", MON, "On Saturday, he accused the Kremlin of stalling, arguing that Moscow intends to improve its position on the battlefield before agreeing to any ceasefire terms.", D(2025, 3, 15), D(2025, 3, 15), "day"),
    ("on Sunday", MON, "U.S. officials expressed optimism on Sunday, suggesting that a ceasefire deal between Ukraine and Russia could be reached within weeks.", D(2025, 3, 16), D(2025, 3, 16), "day"),
    # 3. ranges are never reversed
    ("between December and February", JULY, None, D(2025, 12, 1), D(2026, 2, 28), "range"),
    ("between December and February", JULY, "prices fell between December and February", D(2024, 12, 1), D(2025, 2, 28), "range"),
    ("from Friday to Monday", MON, "talks ran from Friday to Monday", D(2025, 3, 14), D(2025, 3, 17), "range"),
    ("from March 10 to 12", MON, None, D(2025, 3, 10), D(2025, 3, 12), "range"),
    ("mid this weekend", MON, None, D(2025, 3, 22), D(2025, 3, 23), "range"),
    ("early this weekend", MON, None, D(2025, 3, 22), D(2025, 3, 22), "range"),
    ("late this weekend", MON, None, D(2025, 3, 23), D(2025, 3, 23), "range"),
    ("early Tuesday", MON, "clashes broke out early Tuesday", D(2025, 3, 11), D(2025, 3, 11), "day"),
    ("March 30-April 2", MON, "will meet March 30-April 2", D(2025, 3, 30), D(2025, 4, 2), "range"),
    ("December-February", JULY, "will run December-February", D(2025, 12, 1), D(2026, 2, 28), "range"),
    # 4. year rollover by tense, and ordinal quarters
    ("first quarter", THU, "profits will recover in the first quarter", D(2026, 1, 1), D(2026, 3, 31), "quarter"),
    ("first quarter", THU, "profits fell in the first quarter", D(2025, 1, 1), D(2025, 3, 31), "quarter"),
    ("2nd quarter", MON, "sales rose in the 2nd quarter", D(2024, 4, 1), D(2024, 6, 30), "quarter"),
    ("1st quarter", MON, None, D(2025, 1, 1), D(2025, 3, 31), "quarter"),
    ("the 3rd quarter of 2024", None, None, D(2024, 7, 1), D(2024, 9, 30), "quarter"),
    ("on March 25", PUB_18, "talks held on March 25", D(2024, 3, 25), D(2024, 3, 25), "day"),
    ("on March 25", PUB_18, "talks will be held on March 25", D(2025, 3, 25), D(2025, 3, 25), "day"),
    ("on March 19", PUB_18, "talks held on March 19", D(2025, 3, 19), D(2025, 3, 19), "day"),  # a day's slack
    ("Dec. 28", D(2025, 1, 2), "will meet on Dec. 28", D(2025, 12, 28), D(2025, 12, 28), "day"),
    ("Jan. 3", D(2024, 12, 30), "met on Jan. 3", D(2024, 1, 3), D(2024, 1, 3), "day"),
    # 5. "previous week" is "last week"; "the past week" runs up to the reference; no seed-fitted rules
    ("previous week", MON, None, D(2025, 3, 10), D(2025, 3, 16), "week"),
    ("the previous week", D(2025, 1, 2), None, D(2024, 12, 23), D(2024, 12, 29), "week"),
    ("the past week", MON, None, D(2025, 3, 10), D(2025, 3, 17), "range"),
    ("over the last week", MON, None, D(2025, 3, 10), D(2025, 3, 17), "range"),
    ("overnight strikes", MON, None, None, None, "unknown"),
    ("overnight", MON, None, D(2025, 3, 16), D(2025, 3, 17), "range"),
    # neighbours: leap days, the 31st, ISO weeks across years, possessives, "a year ago"
    ("Feb 29", D(2025, 3, 5), "they met on Feb 29", D(2024, 2, 29), D(2024, 2, 29), "day"),
    ("Feb 29", D(2027, 1, 10), "they will meet on Feb 29", D(2028, 2, 29), D(2028, 2, 29), "day"),
    ("the 31st", D(2025, 4, 15), "the deal was signed on the 31st", D(2025, 3, 31), D(2025, 3, 31), "day"),
    ("the 31st", D(2025, 4, 15), "the deal will be signed on the 31st", D(2025, 5, 31), D(2025, 5, 31), "day"),
    ("2020-W53", None, None, D(2020, 12, 28), D(2021, 1, 3), "week"),
    ("last week", D(2021, 1, 4), None, D(2020, 12, 28), D(2021, 1, 3), "week"),
    ("this week", D(2024, 12, 31), None, D(2024, 12, 30), D(2025, 1, 5), "week"),
    ("next week", D(2025, 12, 29), None, D(2026, 1, 5), D(2026, 1, 11), "week"),
    ("Tuesday's", MON, "Tuesday's vote was close", D(2025, 3, 11), D(2025, 3, 11), "day"),
    ("Tuesday's", MON, "Tuesday's vote will be close", D(2025, 3, 18), D(2025, 3, 18), "day"),
    ("last year's", MON, "last year's talks", D(2024, 1, 1), D(2024, 12, 31), "year"),
    ("a year ago", MON, None, D(2023, 9, 17), D(2024, 9, 16), "range"),
    ("a year ago", D(2025, 1, 1), None, D(2023, 7, 1), D(2024, 6, 30), "range"),
    ("Tuesday's", MON, "Shares steadied ahead of Tuesday's call between the leaders", TUE, TUE, "day"),
    ("Monday's", TUE, "Leavitt said ahead of Monday's briefing that talks went well", MON, MON, "day"),
    ("New Year's Eve", D(2025, 1, 1), "the party on New Year's Eve was", D(2024, 12, 31), D(2024, 12, 31), "day"),
    ("New Year's Day", D(2024, 12, 31), "will start on New Year's Day", D(2025, 1, 1), D(2025, 1, 1), "day"),
    # more news forms
    ("Tuesday, March 18", MON, None, D(2025, 3, 18), D(2025, 3, 18), "day"),
    ("March 18 at 10 a.m. GMT", MON, None, D(2025, 3, 18), D(2025, 3, 18), "day"),
    ("until March", MON, None, None, D(2025, 3, 31), "month"),
    ("two days later", MON, None, None, None, "unknown"),
    ("the following day", MON, None, None, None, "unknown"),
    ("the 2024-25 season", MON, None, D(2024, 1, 1), D(2025, 12, 31), "range"),
    ("the 20th century", MON, None, D(1900, 1, 1), D(1999, 12, 31), "century"),
    ("H1 2024", None, None, D(2024, 1, 1), D(2024, 6, 30), "range"),
    ("late last year", MON, None, D(2024, 9, 1), D(2024, 12, 31), "year"),
    ("the past 24 hours", MON, None, D(2025, 3, 16), D(2025, 3, 17), "range"),
    ("12", MON, None, None, None, "unknown"),  # a stray number is not a day
    ("Thanksgiving", THU, "will travel for Thanksgiving", D(2025, 11, 27), D(2025, 11, 27), "day"),
    ("Bastille Day 2024", None, None, D(2024, 7, 14), D(2024, 7, 14), "day"),
    # ranges across New Year: a year written at the end is the end's
    ("December 30-January 2, 2025", None, None, D(2024, 12, 30), D(2025, 1, 2), "range"),
    ("30 December - 2 January", D(2010, 5, 17), None, D(2009, 12, 30), D(2010, 1, 2), "range"),
    ("22 April - 15 May", D(2010, 5, 17), None, D(2010, 4, 22), D(2010, 5, 15), "range"),
    ("22 - 25 April", D(2010, 5, 17), None, D(2010, 4, 22), D(2010, 4, 25), "range"),
]


@pytest.mark.parametrize(("expression", "reference", "context", "start", "end", "precision"), ISSUE_CASES)
def test_issue_cases(expression, reference, context, start, end, precision):
    span = resolve(expression, reference, context)
    assert (span.start, span.end, span.precision) == (start, end, Precision(precision)), span
    if start is None and end is None:
        assert span.note  # says why it is not placed


@pytest.mark.parametrize(("sentence", "expression", "status", "expected"), [
    # a strong marker in the sentence beats the model's label, both ways
    ("Trump will speak with Putin on Tuesday", "on Tuesday", "past", "future"),
    ("The council met on Tuesday", "on Tuesday", "future", "past"),
    ("The vote had been delayed until Tuesday", "until Tuesday", "future", "past"),
    # the label beats a weak marker ("proposed" may be an adjective), both ways
    ("The proposed talks on Tuesday", "on Tuesday", "future", "future"),
    ("Leaders to meet on Tuesday", "on Tuesday", "past", "past"),
    # a weak marker is used when there is no label; nothing gives nothing
    ("The proposed talks on Tuesday", "on Tuesday", None, "past"),
    ("Leaders to meet on Tuesday", "on Tuesday", None, "future"),
    ("Talks on Tuesday", "on Tuesday", None, None),
    ("The United Nations on Tuesday", "on Tuesday", None, None),
    ("Two hundred delegates on Tuesday", "on Tuesday", "future", "future"),
    ("Two hundred delegates on Tuesday", "on Tuesday", None, None),
])
def test_sentence_tense_and_model_status_combine(sentence, expression, status, expected):
    assert direction(sentence, expression, status) == expected


def test_status_decides_when_the_sentence_shows_no_tense():
    sentence = "Talks in Riyadh on Tuesday"
    assert resolve("on Tuesday", MON, sentence, status_tense="future").start == D(2025, 3, 18)
    assert resolve("on Tuesday", MON, sentence, status_tense="past").start == D(2025, 3, 11)
    will = "Talks in Riyadh will open on Tuesday"
    assert resolve("on Tuesday", MON, will, status_tense="past").start == D(2025, 3, 18)


# Every rule of the table, with an example that this rule (and no earlier one) decides.
RULE_EXAMPLES = {
    "now": ("currently", MON, (MON, MON)),
    "vague before": ("in recent weeks", MON, (None, MON)),
    "vague after": ("in the coming days", MON, (MON, None)),
    "since": ("since 2014", MON, (D(2014, 1, 1), None)),
    "until": ("until Friday", MON, (None, D(2025, 3, 14))),
    "by the end of": ("by the end of the year", MON, (None, D(2025, 12, 31))),
    "by": ("by Friday", MON, (None, D(2025, 3, 21))),
    "before": ("before March 2025", MON, (None, D(2025, 2, 28))),
    "after": ("after March 2, 2025", MON, (D(2025, 3, 3), None)),
    "between": ("between 2010 and 2012", MON, (D(2010, 1, 1), D(2012, 12, 31))),
    "half": ("the first half of 2024", MON, (D(2024, 1, 1), D(2024, 6, 30))),
    "h1": ("h2 2024", MON, (D(2024, 7, 1), D(2024, 12, 31))),
    "early/mid/late": ("mid-February", MON, (D(2025, 2, 11), D(2025, 2, 20))),
    "iso day": ("2025-03-18", None, (D(2025, 3, 18), D(2025, 3, 18))),
    "iso week": ("2025-W12", None, (D(2025, 3, 17), D(2025, 3, 23))),
    "years of a season": ("the 2010-11 season", None, (D(2010, 1, 1), D(2011, 12, 31))),
    "years with a dash": ("2010-2015", None, (D(2010, 1, 1), D(2015, 12, 31))),
    "day words": ("yesterday", MON, (D(2025, 3, 16), D(2025, 3, 16))),
    "overnight": ("overnight", MON, (D(2025, 3, 16), MON)),
    "weekday and date": ("Tuesday, 18 March 2025", None, (D(2025, 3, 18), D(2025, 3, 18))),
    "weekday": ("last Tuesday", MON, (D(2025, 3, 11), D(2025, 3, 11))),
    "hours ago": ("five hours ago", MON, (D(2025, 3, 16), MON)),
    "past hours": ("the past 48 hours", MON, (D(2025, 3, 15), MON)),
    "units ago": ("three weeks ago", MON, (D(2025, 2, 24), D(2025, 3, 2))),
    "hours ahead": ("in two hours", MON, (MON, TUE)),
    "hours from now": ("five hours from now", MON, (MON, TUE)),
    "counted from another event": ("two days later", MON, (None, None)),
    "within count": ("within two weeks", MON, (MON, D(2025, 3, 31))),
    "in count": ("in three days", MON, (D(2025, 3, 20), D(2025, 3, 20))),
    "count from now": ("two months from now", MON, (D(2025, 5, 1), D(2025, 5, 31))),
    "rolling past count": ("the past three days", MON, (D(2025, 3, 14), MON)),
    "rolling past unit": ("the past month", MON, (D(2025, 2, 17), MON)),
    "rolling next count": ("the next two weeks", MON, (MON, D(2025, 3, 31))),
    "part of this unit": ("earlier this month", MON, (D(2025, 3, 1), D(2025, 3, 16))),
    "weekend": ("last weekend", MON, (D(2025, 3, 15), D(2025, 3, 16))),
    "bare unit": ("month", MON, (D(2025, 3, 1), D(2025, 3, 31))),
    "year end": ("year-end", MON, (D(2025, 9, 1), D(2025, 12, 31))),
    "this unit": ("next quarter", MON, (D(2025, 4, 1), D(2025, 6, 30))),
    "month and day": ("March 11, 2024", None, (D(2024, 3, 11), D(2024, 3, 11))),
    "day and month": ("11 March 2024", None, (D(2024, 3, 11), D(2024, 3, 11))),
    "day of this month": ("the 3rd", MON, (D(2025, 3, 3), D(2025, 3, 3))),
    "across months": ("March 30-April 2, 2024", None, (D(2024, 3, 30), D(2024, 4, 2))),
    "across months, day first": ("30 December - 2 January 2025", None, (D(2024, 12, 30), D(2025, 1, 2))),
    "month": ("last August", MON, (D(2024, 8, 1), D(2024, 8, 31))),
    "month range": ("January-March 2024", None, (D(2024, 1, 1), D(2024, 3, 31))),
    "year": ("fiscal 2024", None, (D(2024, 1, 1), D(2024, 12, 31))),
    "fiscal year": ("FY2024", None, (D(2024, 1, 1), D(2024, 12, 31))),
    "decade": ("the 1990s", None, (D(1990, 1, 1), D(1999, 12, 31))),
    "century": ("the nineteenth century", None, (D(1800, 1, 1), D(1899, 12, 31))),
    "q1": ("Q3 2024", None, (D(2024, 7, 1), D(2024, 9, 30))),
    "first quarter": ("the fourth quarter of 2024", None, (D(2024, 10, 1), D(2024, 12, 31))),
    "1q": ("2Q 2024", None, (D(2024, 4, 1), D(2024, 6, 30))),
    "year q1": ("2024 Q2", None, (D(2024, 4, 1), D(2024, 6, 30))),
    "season": ("summer 2024", None, (D(2024, 6, 1), D(2024, 8, 31))),
    "named day": ("Easter 2025", None, (D(2025, 4, 20), D(2025, 4, 20))),
    "preposition": ("during 2019", None, (D(2019, 1, 1), D(2019, 12, 31))),
    "article": ("the weekend of 2024-W10", None, (None, None)),
    "absolute date": ("18/03/2025", None, (D(2025, 3, 18), D(2025, 3, 18))),
}


def test_every_rule_has_an_example():
    assert set(RULE_EXAMPLES) == {rule.name for rule in RULES}


@pytest.mark.parametrize("name", [rule.name for rule in RULES])
def test_each_rule_on_its_own(name):
    expression, reference, expected = RULE_EXAMPLES[name]
    text = normalize(expression)
    first = next(rule for rule in RULES if rule.pattern.fullmatch(text))
    assert first.name == name, f"{expression!r} is decided by {first.name!r}"
    span = resolve(expression, reference)
    assert (span.start, span.end) == expected, span


def test_rules_recurse_through_the_table():
    rule = next(r for r in RULES if r.name == "since")
    span = rule.handle(rule.pattern.fullmatch("since last august"), Context(MON, None))
    assert (span.start, span.end, span.qualifier) == (D(2024, 8, 1), None, "since")


# --- properties ----------------------------------------------------------------------------------

_WORDS = ["last", "next", "this", "the", "of", "early", "mid", "late", "since", "by", "until", "before",
          "after", "between", "and", "to", "-", "ago", "in", "within", "days", "weeks", "year", "quarter",
          "q1", "h2", "first", "half", "summer", "winter", "christmas", "easter", "weekend", "tuesday",
          "march", "feb", "2025", "0000", "9999", "31", "29", "1st", "'90s", "century", "hours", "24",
          "2025-02-30", "2020-w53", "fiscal", "past", "overnight", "recently", "'s", ","]
EXPRESSIONS = st.one_of(st.text(max_size=40), st.lists(st.sampled_from(_WORDS), min_size=1, max_size=6).map(" ".join))
REFERENCES = st.one_of(st.none(), st.dates(), st.dates(D(1, 1, 1), D(1, 2, 1)), st.dates(D(9999, 11, 1), D(9999, 12, 31)))


@settings(max_examples=400, deadline=None)
@given(EXPRESSIONS, REFERENCES, st.sampled_from([None, "It will happen", "It happened"]),
       st.sampled_from([None, "past", "future"]))
def test_resolve_never_raises_and_never_reverses(expression, reference, context, status):
    span = resolve(expression, reference, context, status_tense=status)
    if span.start is not None and span.end is not None:
        assert span.start <= span.end
    if not span.is_known:
        assert span.precision == Precision.unknown


@settings(max_examples=200, deadline=None)
@given(EXPRESSIONS, REFERENCES, st.sampled_from([None, "past", "future"]))
def test_resolve_is_the_same_on_every_call(expression, reference, tense):
    first = resolve(expression, reference, tense=tense)
    written = " ".join(expression.split())
    if written and len(written) <= 120:
        assert _resolve_cached.__wrapped__(written, reference, tense) == first  # computed afresh
    assert resolve(expression, reference, tense=tense) == first


# --- direction words: one meaning wherever they stand ----------------------------------------------
# Published Monday 17 March 2025. Expected spans computed by hand for "last", "this" and "next";
# every synonym must give its direction's span. "past" (and "this past") before a week, month or
# year is the run of days up to the publication date instead (README: "the past week").

DIRECTIONS = {"last": ("last", "past", "previous", "this past"), "this": ("this", "current"),
              "next": ("next", "coming", "following")}
D = dt.date
GRID = {
    "Tuesday": {"last": (D(2025, 3, 11),) * 2, "this": (D(2025, 3, 18),) * 2, "next": (D(2025, 3, 18),) * 2},
    "Sunday": {"last": (D(2025, 3, 16),) * 2, "this": (D(2025, 3, 23),) * 2, "next": (D(2025, 3, 23),) * 2},
    "March": {"last": (D(2024, 3, 1), D(2024, 3, 31)), "this": (D(2025, 3, 1), D(2025, 3, 31)),
              "next": (D(2026, 3, 1), D(2026, 3, 31))},
    "August": {"last": (D(2024, 8, 1), D(2024, 8, 31)), "this": (D(2025, 8, 1), D(2025, 8, 31)),
               "next": (D(2025, 8, 1), D(2025, 8, 31))},
    "spring": {"last": (D(2024, 3, 1), D(2024, 5, 31)), "this": (D(2025, 3, 1), D(2025, 5, 31)),
               "next": (D(2026, 3, 1), D(2026, 5, 31))},
    "weekend": {"last": (D(2025, 3, 15), D(2025, 3, 16)), "this": (D(2025, 3, 22), D(2025, 3, 23)),
                "next": (D(2025, 3, 22), D(2025, 3, 23))},
    "Christmas": {"last": (D(2024, 12, 25),) * 2, "this": (D(2025, 12, 25),) * 2, "next": (D(2025, 12, 25),) * 2},
    "week": {"last": (D(2025, 3, 10), D(2025, 3, 16)), "this": (D(2025, 3, 17), D(2025, 3, 23)),
             "next": (D(2025, 3, 24), D(2025, 3, 30))},
    "month": {"last": (D(2025, 2, 1), D(2025, 2, 28)), "this": (D(2025, 3, 1), D(2025, 3, 31)),
              "next": (D(2025, 4, 1), D(2025, 4, 30))},
    "quarter": {"last": (D(2024, 10, 1), D(2024, 12, 31)), "this": (D(2025, 1, 1), D(2025, 3, 31)),
                "next": (D(2025, 4, 1), D(2025, 6, 30))},
    "year": {"last": (D(2024, 1, 1), D(2024, 12, 31)), "this": (D(2025, 1, 1), D(2025, 12, 31)),
             "next": (D(2026, 1, 1), D(2026, 12, 31))},
}
ROLLING = {"week": (D(2025, 3, 10), D(2025, 3, 17)), "month": (D(2025, 2, 17), D(2025, 3, 17)),
           "year": (D(2024, 3, 17), D(2025, 3, 17))}


@pytest.mark.parametrize(("unit", "direction", "word"), [
    (unit, direction, word) for unit in GRID for direction, words in DIRECTIONS.items() for word in words])
def test_every_direction_word_means_the_same_with_every_unit(unit, direction, word):
    span = resolve(f"{word} {unit}", dt.date(2025, 3, 17))
    expected = ROLLING[unit] if word in ("past", "this past") and unit in ROLLING else GRID[unit][direction]
    assert (span.start, span.end) == expected, span.note
