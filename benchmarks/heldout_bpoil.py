"""A labelled set the merge thresholds were not tuned on: Timeline17's BP oil spill topic,
articles of 16 June 2010 from five outlets (BBC, Reuters, Guardian, Fox News, Washington Post).

Every sentence that reports one of the day's happenings was labelled by hand into happenings, each
with one clean title, the time expression as the sentence writes it, and a status. A sentence
reporting several happenings appears once per happening. The corpus text is not copied here: each
mention names its topic, article id and line (Timeline17 has one sentence per line), and the
sentence is read from ``../shared/corpora/timeline17`` (see ``corpus.py``).
"""

from __future__ import annotations

# happening -> (clean title, [(topic, article id, line, time expression as written, status)])
HAPPENINGS: dict[str, tuple[str, list[tuple[str, str, int, str, str]]]] = {
    "address": ("Obama vows in Oval Office address to make BP pay", [
        ("bpoil_bbc", "826", 0, "", "happened"),
        ("bpoil_bbc", "826", 8, "", "happened"),
        ("bpoil_bbc", "826", 9, "", "happened"),
        ("bpoil_bbc", "70", 1, "", "happened"),
        ("bpoil_bbc", "70", 8, "Tuesday night", "happened"),
        ("bpoil_guardian", "862", 0, "last night", "happened"),
        ("bpoil_guardian", "862", 3, "", "happened"),
        ("bpoil_guardian", "862", 13, "", "happened"),
        ("bpoil_foxnews", "1774", 0, "June 15, 2010", "happened"),
        ("bpoil_foxnews", "1774", 2, "Tuesday night", "happened"),
    ]),
    "meeting": ("Obama meets BP executives at the White House", [
        ("bpoil_bbc", "70", 0, "", "happened"),
        ("bpoil_bbc", "70", 7, "", "happened"),
        ("bpoil_foxnews", "2164", 0, "Wednesday", "happened"),
        ("bpoil_washingtonpost", "1879", 0, "", "happened"),
        ("bpoil_guardian", "1670", 5, "today", "happened"),
    ]),
    "fund": ("BP agrees to a $20bn compensation fund", [
        ("bpoil_reuters", "451", 0, "on Wednesday", "happened"),
        ("bpoil_reuters", "451", 13, "", "happened"),
        ("bpoil_foxnews", "2164", 2, "Wednesday", "happened"),
        ("bpoil_foxnews", "1621", 3, "", "happened"),
        ("bpoil_foxnews", "1621", 7, "", "happened"),
        ("bpoil_washingtonpost", "1359", 0, "", "happened"),
    ]),
    "dividend": ("BP suspends its dividend", [
        ("bpoil_reuters", "2010", 1, "this year", "happened"),
        ("bpoil_reuters", "1227", 0, "", "happened"),
        ("bpoil_reuters", "1227", 2, "", "happened"),
        ("bpoil_reuters", "451", 0, "", "happened"),
        ("bpoil_foxnews", "1621", 7, "for the rest of this year", "happened"),
    ]),
    "apology": ("BP chairman Svanberg apologises to the American people", [
        ("bpoil_reuters", "2010", 0, "on Wednesday", "happened"),
        ("bpoil_foxnews", "2164", 4, "", "happened"),
        ("bpoil_guardian", "1670", 8, "this afternoon", "happened"),
    ]),
    "small_people": ("Svanberg says BP cares about the 'small people'", [
        ("bpoil_reuters", "451", 5, "", "happened"),
        ("bpoil_guardian", "1670", 10, "", "happened"),
        ("bpoil_foxnews", "1621", 11, "", "happened"),
    ]),
    "flow_estimate": ("Government raises its oil flow estimate to 35,000-60,000 barrels a day", [
        ("bpoil_bbc", "826", 4, "", "happened"),
        ("bpoil_bbc", "1367", 1, "on 15 June", "happened"),
        ("bpoil_guardian", "862", 6, "", "happened"),
    ]),
    "hearing": ("Hayward to face a congressional hearing", [
        ("bpoil_reuters", "451", 9, "on Thursday", "expected"),
        ("bpoil_guardian", "2124", 0, "tomorrow", "expected"),
        ("bpoil_guardian", "2124", 2, "tomorrow", "expected"),
    ]),
    "asset_sales": ("BP to cut investment and sell assets", [
        ("bpoil_reuters", "1227", 0, "", "expected"),
        ("bpoil_foxnews", "1621", 8, "", "expected"),
    ]),
    "workers_fund": ("BP to pay $100 million to rig workers idled by the drilling moratorium", [
        ("bpoil_reuters", "451", 13, "", "happened"),
        ("bpoil_foxnews", "2164", 11, "", "happened"),
    ]),
    "shares": ("BP shares rise 1.5 percent", [
        ("bpoil_reuters", "451", 12, "", "happened"),
        ("bpoil_reuters", "1227", 12, "", "happened"),
    ]),
    "explosion": ("Deepwater Horizon explosion kills 11 workers", [
        ("bpoil_bbc", "70", 2, "on 20 April", "happened"),
        ("bpoil_reuters", "451", 10, "April 20", "happened"),
        ("bpoil_reuters", "1908", 2, "April 20, 2010", "happened"),
        ("bpoil_foxnews", "1621", 1, "", "happened"),
    ]),
    "bp_statement": ("BP says it shares Obama's goal of cleaning up the spill", [
        ("bpoil_bbc", "826", 12, "", "happened"),
        ("bpoil_bbc", "70", 11, "", "happened"),
    ]),
    "cao": ("Rep. Cao suggests a BP executive commit ritual suicide", [
        ("bpoil_foxnews", "1123", 1, "", "happened"),
        ("bpoil_foxnews", "1123", 2, "Tuesday", "happened"),
    ]),
    "cameron": ("Cameron says BP needs certainty over its liabilities", [
        ("bpoil_bbc", "70", 13, "", "happened"),
    ]),
    "costner": ("BP contracts Kevin Costner's oil-water separators", [
        ("bpoil_guardian", "969", 3, "", "happened"),
    ]),
    "cuba": ("Cuba prepares for oil reaching its coast", [
        ("bpoil_guardian", "476", 1, "", "ongoing"),
        ("bpoil_guardian", "476", 2, "", "ongoing"),
    ]),
    "spill_plans": ("Lawmakers attack oil companies' identical spill plans at a hearing", [
        ("bpoil_washingtonpost", "117", 3, "Tuesday", "happened"),
    ]),
    "riley": ("Alabama governor Riley criticises Obama's speech", [
        ("bpoil_foxnews", "1774", 7, "", "happened"),
        ("bpoil_foxnews", "1774", 8, "on Wednesday", "happened"),
    ]),
}

# The day (or days) a happening took place, where the articles say it.
DATES = {
    "address": ("2010-06-15", "2010-06-15"),
    "meeting": ("2010-06-16", "2010-06-16"),
    "fund": ("2010-06-16", "2010-06-16"),
    "apology": ("2010-06-16", "2010-06-16"),
    "flow_estimate": ("2010-06-15", "2010-06-15"),
    "hearing": ("2010-06-17", "2010-06-17"),
    "explosion": ("2010-04-20", "2010-04-20"),
    "cao": ("2010-06-15", "2010-06-15"),
    "spill_plans": ("2010-06-15", "2010-06-15"),
}
