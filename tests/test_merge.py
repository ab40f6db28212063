from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from seed_mentions import IDS, seed_mentions

from storyline.merge import cluster, merge

SEED_TEXTS = {path.stem: path.read_text() for path in (Path(__file__).parents[1] / "seeds").glob("*.txt")}
PAIRS = seed_mentions()


def _labels_of(groups):
    lookup = {id(m): label for label, m in PAIRS}
    return [sorted(lookup[id(m)] for m in group) for group in groups]


def test_seed_quotes_are_verbatim():
    for _, mention in PAIRS:
        assert mention.quote in SEED_TEXTS[mention.article], mention.quote


def test_each_seed_event_once_with_all_its_sources():
    groups = _labels_of(cluster(m for _, m in PAIRS))
    for labels in groups:
        assert len(set(labels)) == 1, f"different events merged: {labels}"
    sizes = Counter(labels[0] for labels in groups)
    assert all(count == 1 for count in sizes.values()), f"an event was split: {sizes}"


def test_merged_events_carry_dates_sources_and_conflicts():
    events = {e.title: e for e in merge(m for _, m in PAIRS)}
    call = next(e for e in events.values() if "Putin" in e.title and any(m.when == "on Tuesday" for m in e.mentions))
    assert call.sources == 5 and call.date.start == dt.date(2025, 3, 18) and call.date.precision == "day"
    assert call.status == "expected"
    title_conflicts = [c for c in call.conflicts if c.kind == "title"]
    assert title_conflicts and "Former U.S. President Trump" in title_conflicts[0].values
    assert title_conflicts[0].values["Former U.S. President Trump"] == [IDS["004"]]

    remarks = next(e for e in events.values() if "power plants" in e.title)
    assert remarks.sources == 5
    assert remarks.date.start == dt.date(2025, 3, 16) == remarks.date.end  # aboard Air Force One, Sunday

    timeline = merge(m for _, m in PAIRS)
    placed = [e.date.sort_key() for e in timeline]
    assert placed == sorted(placed)


def test_different_dates_for_the_same_event_are_a_conflict():
    base = next(m for label, m in PAIRS if label == "call")
    other = base.model_copy(update={"article": "other", "date": base.date.model_copy(
        update={"start": dt.date(2025, 3, 19), "end": dt.date(2025, 3, 19)})})
    (event,) = merge([base, other])
    conflict = next(c for c in event.conflicts if c.kind == "date")
    assert set(conflict.values) == {"18 Mar 2025", "19 Mar 2025"}


def test_different_figures_are_a_conflict():
    from storyline.models import Mention

    title = "Russia launches drones at Ukraine"
    first = Mention(article="a", quote="Russia launched 90 drones at Ukraine on Sunday.", title=title)
    second = Mention(article="b", quote="Russia launched 100 drones at Ukraine on Sunday.", title=title)
    (event,) = merge([first, second])
    figure = next(c for c in event.conflicts if c.kind == "figure")
    assert figure.values == {"100": ["b"], "90": ["a"]}


def test_neighbouring_chunks_of_one_article_merge():
    from storyline.models import Mention

    day = next(m for label, m in PAIRS if label == "call").date
    title = "Leaders meet in Paris"
    a = Mention(article="x", chunk=0, offset=10, quote="Leaders met in Paris on Monday.", title=title, date=day)
    quote = "The Paris meeting of leaders ended late."
    b = Mention(article="x", chunk=1, offset=900, quote=quote, title=title, date=day)
    assert len(merge([a, b])) == 1


@settings(max_examples=25, deadline=None)
@given(st.permutations(list(range(len(PAIRS)))))
def test_result_does_not_depend_on_input_order(order):
    mentions = [PAIRS[i][1] for i in order]
    baseline = merge(m for _, m in PAIRS)
    assert [e.model_dump() for e in merge(mentions)] == [e.model_dump() for e in baseline]


def test_adjudicator_is_asked_only_about_unsure_pairs():
    asked = []

    def adjudicate(a, b):
        asked.append((a.title, b.title))
        return False

    with_judge = merge((m for _, m in PAIRS), adjudicate)
    without = merge(m for _, m in PAIRS)
    assert len(with_judge) == len(without)  # refusing unsure pairs changes nothing already sure
    assert all(a != b for a, b in asked)
