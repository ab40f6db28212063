"""The merge's tuned numbers, in one frozen, documented object passed to every part.

They were tuned on the seed set (``tests/seed_gold.py``) with clean and with weak titles, and
checked on held-out Timeline17 articles by ``benchmarks/merge_quality.py``. Pass another
``MergeSettings`` to :func:`storyline.merge.merge` to try other values; nothing else reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Weights:
    """How much each kind of evidence weighs in a pair's score (see ``scoring.Scorer``)."""

    quote_overlap: float = 0.3
    """The quotes' shared content words (IDF), over the smaller quote's."""
    title: float = 0.5
    """The titles' shared words (Jaccard, IDF), where both titles count (``titles``)."""
    names: float = 0.2
    """Names in the quotes and actors (Jaccard, IDF)."""
    numbers: float = 0.1
    """A number both quotes write."""
    status_clash: float = 0.2
    """Taken off where one reports as done what the other reports as planned."""

    @property
    def content(self) -> float:
        """What the articles' own words can add up to (the score's scale without titles)."""
        return self.quote_overlap + self.names + self.numbers


@dataclass(frozen=True)
class MergeSettings:
    same_event: float = 0.22
    """Score at or above which two date-compatible mentions are one event (tuned with the weights)."""
    cohesion: float = 0.06
    """Mean score two clusters' members must reach to join (see ``linking.Linker``)."""
    cohesion_sample: int = 8
    """Members of each cluster the cohesion mean is taken over."""
    unsure_share: float = 0.7
    """Scores from ``unsure_share * same_event`` up to ``same_event`` are unsure: merged only if
    the adjudicator says so."""
    review_floor: float = 0.05
    """With an adjudicator, a pair whose titles do not count and that scores from here up to
    ``same_event`` is the model's to join: on words alone it is often wrong there (held-out BP
    set, weak titles: 79 pairs of different happenings score at or above ``same_event``, and 57 of
    one), where a model that reads the two sentences can tell."""
    judge_overrules_words: bool = False
    """Whether the adjudicator also decides the pairs whose titles do not count and that the words
    alone would join (from ``same_event`` up to ``strong_text``), and can keep them apart. An
    always-right judge would close most of the weak-title gap that way (simulated, B³ F1 with weak
    titles: seeds 0.972, held-out BP 0.854, against 0.873 and 0.726 without), but the real models
    here mostly answer "different" to two reports of one happening (Qwen2.5-Coder-1.5B: 49 of 78
    such pairs on the seeds with weak titles), and overruling the words made their timelines
    worse (seeds, weak titles: 0.727 against 0.848 with no judge). So by default the judge only
    joins what the words leave apart (``benchmarks/judge.py``)."""
    votes: int = 5
    """Joining two groups on the adjudicator's word takes a majority of up to this many questions
    about pairs across them (it stops as soon as the majority is sure: three at best), so one or
    two wrong answers do not decide."""
    adjudicated_cohesion_share: float = 0.5
    """``cohesion`` is this much lower for groups the adjudicator is asked about: its majority
    over pairs across them is a check of the groups as a whole, so the words need only show that
    they have something in common (the guard is there to stop chaining on words, which the
    model's reading does not do)."""
    strong_text: float = 0.6
    """Score that merges despite conflicting dates (the conflict is then reported)."""
    controls: int = 5
    """Before the adjudicator decides anything, it is asked about up to this many pairs of each
    kind the merge is sure of without it (see ``judge.check_adjudicator``)."""
    control_reports: int = 32
    """Sentences of one article are compared for controls among its first this many reports only,
    so the check stays linear in the number of mentions."""
    block_keys: int = 8
    """Rarest tokens each mention is indexed under in blocking."""
    neighbours: int = 4
    """How many following mentions, in date order, each mention meets inside a block."""
    title_cohesion: float = 0.03
    title_agreement: float = 0.6
    """A title shared by three or more mentions counts only if this share of pairs of them score
    at least ``title_cohesion`` on their quotes alone (see ``titles``)."""
    topic_share: float = 0.1
    topic_quotes: int = 5
    """A word at least this share of all quotes write (and this many at least) is one of the
    story's commonest: a title that writes it where its quote does not is a guess, and does not
    name an event (``titles``); nor is such a headline kept (``headlines.accepted``)."""
    title_sample: int = 16
    label_min_reports: int = 6
    label_share: float = 1 / 3
    """In an article with at least ``label_min_reports`` sentences reported, a title on more than
    ``label_share`` of them is a label, not a title (on the seeds one happening takes at most a
    sixth of an article)."""
    weights: Weights = field(default_factory=Weights)

    @property
    def unsure(self) -> float:
        return self.unsure_share * self.same_event

    @property
    def adjudicated_cohesion(self) -> float:
        return self.adjudicated_cohesion_share * self.cohesion


DEFAULT_SETTINGS = MergeSettings()
